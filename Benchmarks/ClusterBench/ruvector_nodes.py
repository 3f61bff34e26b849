"""Three ruvector-server nodes on loopback forming a Raft cluster, loaded with a metadata write:
VectorService/CreateCollection of a new name (dimension 4: the write a user makes, which also
creates the collection's files on every node), or ClusterService/UpdateSettings (a proposal whose
apply is trivial: the consensus path alone)."""
from __future__ import annotations

import asyncio
import itertools
import pathlib
import re
import sys
import time

import grpc

from drive import Write
from nodes import Members, NodeProcess, free_ports

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc, vector_pb2, vector_pb2_grpc  # noqa: E402  (this checkout's stubs)

NAME_PREFIX = "cluster-bench-"


class RuVectorCluster:
    """Three `ruvector-server --node-id N --cluster ...` processes, each with its own data directory.
    With `clustered=False` (and size 1): one server without cluster flags, the single-node default."""

    def __init__(self, scratch: pathlib.Path, binary: pathlib.Path, extra_arguments: list[str], size: int = 3,
                 write_kind: str = "create", clustered: bool = True):
        self.write_kind = write_kind
        self.title = "RuVector (CreateCollection)" if write_kind == "create" else "RuVector (UpdateSettings)"
        self.clustered = clustered
        self.binary, self.scratch, self.extra_arguments = binary, scratch, extra_arguments
        self.addresses = [f"127.0.0.1:{port}" for port in free_ports(size)]
        cluster = ",".join(f"{i + 1}={address}" for i, address in enumerate(self.addresses))
        self.logs = scratch / "ruvector-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        membership = (lambda i: ["--node-id", str(i + 1), "--cluster", cluster]) if clustered else (lambda i: [])
        self.members = Members([NodeProcess(f"ruvector-{i + 1}", [
            str(binary), "--listen", self.addresses[i], "--data-dir", str(scratch / f"ruvector-{i + 1}"),
            *membership(i), *extra_arguments,
        ], self.logs) for i in range(size)])
        self._names = itertools.count()

    async def add_joiner(self, extra_arguments: list[str], timeout_seconds: float = 60) -> int:
        """Starts one more node with `--join` through the first member (node id = member number
        + 1) and waits until it listens; returns its member number. The cluster adds it as a
        learner and promotes it once it has caught up."""
        index = len(self.members.nodes)
        self.addresses.append(f"127.0.0.1:{free_ports(1)[0]}")
        node = NodeProcess(f"ruvector-{index + 1}", [
            str(self.binary), "--node-id", str(index + 1), "--listen", self.addresses[index],
            "--data-dir", str(self.scratch / f"ruvector-{index + 1}"), "--join", self.addresses[0],
            *self.extra_arguments, *extra_arguments,
        ], self.logs)
        self.members.nodes.append(node)
        node.start()
        await node.wait_for_output(r"ruvector-server listening on", timeout_seconds)
        return index

    def channel(self, node: int) -> grpc.aio.Channel:
        """A channel on its own connection to node `node` (member number, node id minus one)."""
        return grpc.aio.insecure_channel(self.addresses[node], options=[("grpc.use_local_subchannel_pool", 1)])

    def writer(self, channel: grpc.aio.Channel) -> Write:
        """CreateCollection of a new name (dimension 4, cosine), or UpdateSettings with the next
        replication factor (1-16 in turn: every write changes the state); answered once the change
        is committed through the Raft log and applied on the node called."""
        if self.write_kind == "settings":
            update = cluster_pb2_grpc.ClusterServiceStub(channel).UpdateSettings

            async def write_settings(timeout_seconds: float) -> None:
                factor = next(self._names) % 16 + 1
                await update(cluster_pb2.UpdateSettingsRequest(replication_factor=factor,
                                                               replication_mode=cluster_pb2.REPLICATION_MODE_ASYNC),
                             timeout=timeout_seconds)
            return write_settings
        create = vector_pb2_grpc.VectorServiceStub(channel).CreateCollection

        async def write(timeout_seconds: float) -> None:
            await create(vector_pb2.CreateCollectionRequest(name=f"{NAME_PREFIX}{next(self._names)}", dimension=4,
                                                            metric=vector_pb2.METRIC_COSINE), timeout=timeout_seconds)
        return write

    async def start(self, timeout_seconds: float = 60) -> None:
        """Starts the three nodes and waits until they have a leader."""
        self.members.start_all()
        for node in self.members.nodes:
            await node.wait_for_output(r"ruvector-server listening on", timeout_seconds)
        await self.wait_settled(timeout_seconds)

    def stop(self) -> None:
        """Stops every node (SIGTERM)."""
        self.members.stop_all()

    def elections_won(self) -> int:
        """Times a node became Raft leader, from the nodes' logs (one a term, the first included)."""
        return sum(len(re.findall(r"role=leader term=\d+ \[ClusterNode\] leader changed", node.stderr_path.read_text()))
                   for node in self.members.nodes if node.stderr_path.exists())

    async def restart(self, node: int, timeout_seconds: float) -> None:
        """Starts a killed node again on its data directory and waits until it listens."""
        self.members.nodes[node].start()
        await self.members.nodes[node].wait_for_output(r"ruvector-server listening on", timeout_seconds)

    async def wait_settled(self, timeout_seconds: float) -> int:
        """Polls GetState until a linearizable answer names a leader and every node's local
        (stale_ok) state follows that leader and has applied its commit index; returns the
        leader's member number (0 for a server started without cluster flags)."""
        if not self.clustered:
            return 0
        deadline = time.monotonic() + timeout_seconds
        channels = [self.channel(node) for node in range(len(self.members))]
        try:
            while True:
                if (leader := await self._settled_leader(channels)) is not None:
                    return leader
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the RuVector cluster did not settle within {timeout_seconds} s; "
                                       f"logs in {self.members.nodes[0].stderr_path.parent}")
                await asyncio.sleep(0.05)
        finally:
            await asyncio.gather(*(channel.close() for channel in channels))

    async def _settled_leader(self, channels: list[grpc.aio.Channel]) -> int | None:
        """The leader's member number if the cluster is settled now, else None."""
        try:
            states = [await cluster_pb2_grpc.ClusterServiceStub(channel).GetState(
                cluster_pb2.GetStateRequest(stale_ok=True), timeout=1) for channel in channels]
            confirmed = await cluster_pb2_grpc.ClusterServiceStub(channels[0]).GetState(
                cluster_pb2.GetStateRequest(), timeout=1)
        except grpc.aio.AioRpcError:
            return None
        leader = confirmed.leader_id
        if leader == 0 or any(state.leader_id != leader or state.applied_index < confirmed.commit_index
                              for state in states):
            return None
        return leader - 1

    async def reset(self, leader: int) -> None:
        """Deletes every collection the load created (16 DeleteCollection calls at a time)."""
        channel = self.channel(leader)
        try:
            stub = vector_pb2_grpc.VectorServiceStub(channel)
            listed = await stub.ListCollections(vector_pb2.ListCollectionsRequest(), timeout=60)
            names = [info.name for info in listed.collections if info.name.startswith(NAME_PREFIX)]
            gate = asyncio.Semaphore(16)

            async def delete(name: str) -> None:
                async with gate:
                    await stub.DeleteCollection(vector_pb2.DeleteCollectionRequest(name=name), timeout=60)
            await asyncio.gather(*(delete(name) for name in names))
        finally:
            await channel.close()
