"""etcd (Debian `etcd-server` 3.4) as the peer: three members on loopback, loaded through its
gRPC API with `KV/Put`.

Python stubs are generated at run time into the scratch folder from the `.proto` files that
Debian's `golang-etcd-server-dev` installs, with the gogoproto and google.api annotations
stripped (they only steer Go code generation and the HTTP gateway).
"""
from __future__ import annotations

import asyncio
import importlib
import itertools
import os
import pathlib
import re
import subprocess
import sys
import time
from types import ModuleType

import grpc

from drive import Write
from nodes import Members, NodeProcess, free_ports

ETCD_SOURCE = pathlib.Path("/usr/share/gocode/src/go.etcd.io/etcd")
#: The files rpc.proto needs, as it imports them (under an `etcd/` prefix).
PROTO_FILES = ("etcdserver/etcdserverpb/rpc.proto", "mvcc/mvccpb/kv.proto", "auth/authpb/auth.proto")
KEY_PREFIX = b"cluster-bench/"


def strip_annotations(text: str) -> str:
    """The .proto text without gogoproto and google.api imports and options."""
    text = re.sub(r'^import "(gogoproto|google/api)/[^"]*";\n', "", text, flags=re.M)
    text = re.sub(r"^option \(gogoproto\.[^;]*;\n", "", text, flags=re.M)
    marker, kept, position = "option (google.api.http)", [], 0
    while (start := text.find(marker, position)) >= 0:
        kept.append(text[position:start])
        # The option's value is a braced block that may nest (additional_bindings { ... }).
        index, depth = text.index("{", start), 0
        while True:
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                break
            index += 1
        position = text.index(";", index) + 1
    kept.append(text[position:])
    return "".join(kept)


def generate_stubs(scratch: pathlib.Path) -> tuple[ModuleType, ModuleType]:
    """Generates and imports etcdserverpb's rpc_pb2 and rpc_pb2_grpc from Debian's protos."""
    from grpc_tools import protoc

    missing = [name for name in PROTO_FILES if not (ETCD_SOURCE / name).exists()]
    if missing:
        raise RuntimeError(f"{ETCD_SOURCE / missing[0]} is missing: apt-get install golang-etcd-server-dev")
    protos, python = scratch / "etcd-protos", scratch / "etcd-python"
    for name in PROTO_FILES:
        target = protos / "etcd" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_annotations((ETCD_SOURCE / name).read_text()))
    python.mkdir(parents=True, exist_ok=True)
    arguments = ["protoc", f"-I{protos}", f"--python_out={python}", f"--grpc_python_out={python}",
                 *(str(protos / "etcd" / name) for name in PROTO_FILES)]
    if protoc.main(arguments) != 0:
        raise RuntimeError("grpc_tools.protoc failed on etcd's protos")
    sys.path.insert(0, str(python))
    return (importlib.import_module("etcd.etcdserver.etcdserverpb.rpc_pb2"),
            importlib.import_module("etcd.etcdserver.etcdserverpb.rpc_pb2_grpc"))


def etcd_version(binary: str) -> str:
    """`etcd --version`'s first line, e.g. "etcd Version: 3.4.23"."""
    return subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


class EtcdCluster:
    """Three etcd members on loopback ports, each with its own data directory (fsync on: the default)."""

    def __init__(self, scratch: pathlib.Path, binary: str, heartbeat_millis: int, election_millis: int,
                 pre_vote: bool, size: int = 3):
        self.rpc, self.rpc_grpc = generate_stubs(scratch)
        self.title = etcd_version(binary).replace(" Version:", "")
        ports = free_ports(2 * size)
        self.client_addresses = [f"127.0.0.1:{port}" for port in ports[:size]]
        peers = [f"http://127.0.0.1:{port}" for port in ports[size:]]
        initial_cluster = ",".join(f"m{i + 1}={peer}" for i, peer in enumerate(peers))
        logs = scratch / "etcd-logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.members = Members([NodeProcess(f"etcd-m{i + 1}", [
            binary, "--name", f"m{i + 1}", "--data-dir", str(scratch / f"etcd-m{i + 1}"),
            "--listen-client-urls", f"http://{self.client_addresses[i]}",
            "--advertise-client-urls", f"http://{self.client_addresses[i]}",
            "--listen-peer-urls", peers[i], "--initial-advertise-peer-urls", peers[i],
            "--initial-cluster", initial_cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", "cluster-bench",
            "--heartbeat-interval", str(heartbeat_millis), "--election-timeout", str(election_millis),
            f"--pre-vote={'true' if pre_vote else 'false'}", "--logger", "zap", "--log-outputs", "stderr",
        ], logs) for i in range(size)])
        self._keys = itertools.count()

    def channel(self, node: int) -> grpc.aio.Channel:
        """A channel on its own connection to member `node`'s client port."""
        return grpc.aio.insecure_channel(self.client_addresses[node], options=[("grpc.use_local_subchannel_pool", 1)])

    def writer(self, channel: grpc.aio.Channel, value_bytes: int = 16) -> Write:
        """KV/Put of a new key with a `value_bytes` value (16 by default: a small key); answered
        once committed and applied."""
        put = self.rpc_grpc.KVStub(channel).Put
        value = os.urandom(value_bytes)   # incompressible, as vectors are

        async def write(timeout_seconds: float) -> None:
            await put(self.rpc.PutRequest(key=KEY_PREFIX + b"%d" % next(self._keys), value=value),
                      timeout=timeout_seconds)
        return write

    async def start(self, timeout_seconds: float = 60) -> None:
        """Starts the three members and waits until they have a leader."""
        self.members.start_all()
        await self.wait_settled(timeout_seconds)

    def stop(self) -> None:
        """Stops every member."""
        self.members.stop_all()

    async def restart(self, node: int, timeout_seconds: float) -> None:
        """Starts a killed member again; it rejoins from its data directory."""
        self.members.nodes[node].start()
        await self._statuses([node], timeout_seconds)

    async def wait_settled(self, timeout_seconds: float) -> int:
        """Polls Maintenance/Status of every member until all name the same leader and have
        applied the leader's commit index; returns the leader's member number."""
        deadline = time.monotonic() + timeout_seconds
        nodes = list(range(len(self.members)))
        while True:
            statuses = await self._statuses(nodes, max(0.1, deadline - time.monotonic()))
            ids = [status.header.member_id for status in statuses]
            leaders = {status.leader for status in statuses}
            if len(leaders) == 1 and (leader := leaders.pop()) in ids:
                committed = statuses[ids.index(leader)].raftIndex
                if all(status.raftAppliedIndex >= committed for status in statuses):
                    return ids.index(leader)
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd did not settle within {timeout_seconds} s: "
                                   f"{[(s.leader, s.raftIndex, s.raftAppliedIndex) for s in statuses]}")
            await asyncio.sleep(0.05)

    async def _statuses(self, nodes: list[int], timeout_seconds: float) -> list:
        """Maintenance/Status of each of `nodes`, retried until each answers."""
        deadline = time.monotonic() + timeout_seconds
        channels = [self.channel(node) for node in nodes]
        try:
            statuses = []
            for node, channel in zip(nodes, channels):
                status = self.rpc_grpc.MaintenanceStub(channel).Status
                while True:
                    try:
                        statuses.append(await status(self.rpc.StatusRequest(), timeout=1, wait_for_ready=True))
                        break
                    except grpc.aio.AioRpcError as error:
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"etcd member {node + 1} did not answer Status: {error.details()}")
                        await asyncio.sleep(0.05)
            return statuses
        finally:
            await asyncio.gather(*(channel.close() for channel in channels))

    async def reset(self, leader: int) -> None:
        """Deletes every key the load wrote (one DeleteRange of the prefix)."""
        channel = self.channel(leader)
        try:
            end = KEY_PREFIX[:-1] + bytes([KEY_PREFIX[-1] + 1])
            await self.rpc_grpc.KVStub(channel).DeleteRange(self.rpc.DeleteRangeRequest(key=KEY_PREFIX, range_end=end),
                                                           timeout=60)
        finally:
            await channel.close()
