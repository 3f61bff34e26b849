"""`db.cluster`: the Raft cluster's members and metadata (ClusterService), following leader hints.

Join, Leave and TransferLeadership must reach the leader. A follower answers them with
FAILED_PRECONDITION and the leader's address in the trailing metadata
(`ruvector-leader-address`); the client then sends the same request there, at most
`MAX_HOPS` times per call, over one channel per address kept for the client's lifetime.
The requests, the hops and the conversion of answers are shared with `ruvector.aio.AsyncCluster`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from ruvector import convert
from ruvector.errors import RuVectorError, from_rpc_error
from ruvector.rpc import Cluster as Methods, Method, deadline_after
from ruvector.transport import Transport
from ruvector.v1 import cluster_pb2

#: Trailing metadata of a follower's FAILED_PRECONDITION: where the leader listens (HOST:PORT).
LEADER_ADDRESS_KEY = "ruvector-leader-address"
#: Trailing metadata of a follower's FAILED_PRECONDITION: the leader's node id.
LEADER_ID_KEY = "ruvector-leader-id"
#: Leader hints followed per call at the most (leadership may move while a call is redirected).
MAX_HOPS = 3

_ROLE_NAMES = {cluster_pb2.MEMBER_ROLE_VOTER: "voter", cluster_pb2.MEMBER_ROLE_LEARNER: "learner"}


@dataclass(frozen=True)
class Member:
    """A cluster member as the answering node sees it."""
    node_id: int
    address: str
    #: "voter", "learner" or "unspecified".
    role: str
    #: Heard from by the leader recently.
    healthy: bool
    #: Highest log index known replicated to it.
    match_index: int
    #: Milliseconds since the leader last heard from it (0 for the leader itself).
    last_seen_millis: int
    #: Log entries it is behind the leader.
    lag_entries: int
    #: The memory it may hold (its memory limit), as it reported it; 0 until it does.
    capacity_bytes: int = 0


@dataclass(frozen=True)
class ClusterCollection:
    """A collection as the cluster's metadata records it."""
    name: str
    dimension: int
    metric: str
    #: Log index of the entry that created it.
    created_index: int


@dataclass(frozen=True)
class ShardAssignment:
    """Where a shard of a sharded collection lives."""
    collection: str
    shard: int
    #: The node that takes its writes.
    primary: int
    #: The other nodes holding a copy.
    replicas: list[int]
    #: Grows on every change of primary.
    epoch: int
    #: With `state(shard_progress=True)`: each replica's lag in records and milliseconds (as the
    #: primary measured it; empty when the primary did not answer), and the primary's last sequence.
    replica_lag_records: list[int] = field(default_factory=list)
    replica_lag_millis: list[int] = field(default_factory=list)
    primary_sequence: int = 0
    #: Nodes receiving a copy (a move in progress); no write waits for them yet.
    incoming: list[int] = field(default_factory=list)
    #: The copy the primary is being handed to (a planned move; 0 = none): until the switch the
    #: primary takes no writes (the node that forwards them retries).
    handoff: int = 0


@dataclass(frozen=True)
class ClusterState:
    """The cluster's metadata: members, leadership and collections.

    With `stale_ok=True` it is the answering node's own view (`stale` is then True), which
    may be behind and is available without a leader; otherwise it is confirmed by the leader.
    """
    members: list[Member]
    #: 0 when no leader is known.
    leader_id: int
    term: int
    commit_index: int
    collections: list[ClusterCollection]
    #: The node that answered.
    answered_by: int
    #: The log index the answering node has applied.
    applied_index: int
    stale: bool
    #: Default copies per shard of new collections (0: min(3, members)).
    replication_factor: int = 0
    #: Default write mode of new collections: "async", "semi-sync", "sync" or "unspecified" (async).
    replication_mode: str = "unspecified"
    #: The shards of every sharded collection.
    shards: list[ShardAssignment] = field(default_factory=list)

    def member(self, node_id: int) -> Member | None:
        """The member with this id, if any."""
        return next((m for m in self.members if m.node_id == node_id), None)

    @property
    def voters(self) -> list[int]:
        """Ids of the members that vote, ascending."""
        return sorted(m.node_id for m in self.members if m.role == "voter")


class Redirects:
    """The hops of one call that must reach the leader: where to send it next, and the time left
    (the call's timeout covers every hop)."""

    def __init__(self, address: str, timeout: float | None):
        self.address = address
        self._deadline = deadline_after(timeout)
        self._hops = 0

    def remaining(self) -> float | None:
        """Seconds left for the next hop (None: no deadline)."""
        return None if self._deadline is None else max(self._deadline - time.monotonic(), 0.0)

    def follow(self, error: RuVectorError) -> None:
        """Moves to the leader `error` names, or raises `error` (no hint, or hops used up)."""
        hint = leader_hint(error)
        if hint is None or self._hops == MAX_HOPS:
            raise error
        self.address, self._hops = hint, self._hops + 1


def state_request(stale_ok: bool, shard_progress: bool) -> cluster_pb2.GetStateRequest:
    """A GetStateRequest."""
    return cluster_pb2.GetStateRequest(stale_ok=stale_ok, with_shard_progress=shard_progress)


def settings_request(replication_factor: int, replication_mode: str) -> cluster_pb2.UpdateSettingsRequest:
    """An UpdateSettingsRequest."""
    return cluster_pb2.UpdateSettingsRequest(replication_factor=replication_factor,
                                             replication_mode=convert.replication_mode(replication_mode))


class Cluster:
    """Cluster administration on a client's connection (`db.cluster`); not built directly.

    >>> db.cluster.state().leader_id
    >>> db.cluster.join(4, "10.0.0.4:50051")          # sent on to the leader if needed
    >>> db.cluster.transfer_leadership(2); db.cluster.leave(1)
    """

    def __init__(self, transport: Transport):
        self._transport = transport

    def state(self, stale_ok: bool = False, *, shard_progress: bool = False, timeout: float | None = None) -> ClusterState:
        """The cluster's state: linearizable by default (confirmed through the leader from any
        node); `stale_ok=True` answers from the called node's own view, also without a leader.
        `shard_progress=True` also asks every shard's primary for its replicas' lag."""
        return self._call(Methods.GET_STATE, state_request(stale_ok, shard_progress), timeout)

    def shard_status(self, address: str | None = None, *, collection: str = "", checksums: bool = False,
                     timeout: float | None = None) -> cluster_pb2.ShardStatusResponse:
        """What one node (the client's, or `address`) holds of each shard: last sequence, applied
        sequence (what its searches see; a replica applies just after it logs), epoch, points, its
        replicas' progress when it is a primary, and with checksums=True an
        order-independent checksum of each copy's points (equal copies, equal checksums)."""
        request = cluster_pb2.ShardStatusRequest(collection=collection, checksums=checksums)
        response: cluster_pb2.ShardStatusResponse = self._transport.unary(Methods.SHARD_STATUS, request, timeout,
                                                                          address=address)
        return response

    def join(self, node_id: int, address: str, *, timeout: float | None = None) -> ClusterState:
        """Adds node `node_id` listening at `address` (HOST:PORT): a learner first, a voter
        once it has caught up. Returns the state after the change."""
        return self._call(Methods.JOIN, cluster_pb2.JoinRequest(node_id=node_id, address=address), timeout)

    def leave(self, node_id: int, *, timeout: float | None = None) -> ClusterState:
        """Removes node `node_id` (the leader too: it hands over first)."""
        return self._call(Methods.LEAVE, cluster_pb2.LeaveRequest(node_id=node_id), timeout)

    def transfer_leadership(self, node_id: int, *, timeout: float | None = None) -> ClusterState:
        """Moves leadership to voter `node_id`."""
        return self._call(Methods.TRANSFER_LEADERSHIP, cluster_pb2.TransferLeadershipRequest(node_id=node_id), timeout)

    def update_settings(self, replication_factor: int, replication_mode: str = "async", *,
                        timeout: float | None = None) -> ClusterState:
        """Sets the cluster-wide replication factor (1-16) and write mode ("async", "semi-sync",
        "sync") through the Raft log; answers once applied on the node called."""
        return self._call(Methods.UPDATE_SETTINGS, settings_request(replication_factor, replication_mode), timeout)

    def close(self) -> None:
        """Kept for compatibility: the client's close() closes every channel, leaders' included."""

    def _call(self, method: Method, request: Any, timeout: float | None) -> ClusterState:
        """Calls `method` on the client's node, then on each leader it is pointed to."""
        route = Redirects(self._transport.settings.address, self._transport.settings.unary_timeout(timeout))
        while True:
            try:
                return cluster_state(self._transport.unary(method, request, route.remaining(), address=route.address))
            except RuVectorError as error:
                route.follow(error)


def leader_hint(error: grpc.RpcError | RuVectorError) -> str | None:
    """The leader's address a follower named in a FAILED_PRECONDITION (a grpcio error or a
    `ruvector.RuVectorError`), or None."""
    if not isinstance(error, RuVectorError):
        if not hasattr(error, "code"):
            return None
        error = from_rpc_error(error)
    if error.code != grpc.StatusCode.FAILED_PRECONDITION:
        return None
    for key, value in error.trailing_metadata:
        if key == LEADER_ADDRESS_KEY and value:
            return value.decode() if isinstance(value, bytes) else value
    return None


def cluster_state(message: cluster_pb2.ClusterState) -> ClusterState:
    """A ClusterState message as a `ClusterState`."""
    members = [Member(m.node_id, m.address, _ROLE_NAMES.get(m.role, "unspecified"), m.healthy, m.match_index,
                      m.last_seen_millis, m.lag_entries, m.capacity_bytes) for m in message.members]
    collections = [ClusterCollection(c.name, c.dimension, convert.METRIC_NAMES.get(c.metric, "unspecified"),
                                     c.created_index) for c in message.collections]
    shards = [ShardAssignment(s.collection, s.shard, s.primary_node_id, list(s.replica_node_ids), s.epoch,
                              list(s.replica_lag_records), list(s.replica_lag_millis), s.primary_sequence,
                              list(s.incoming_node_ids), s.handoff_node_id)
              for s in message.shards]
    return ClusterState(members, message.leader_id, message.term, message.commit_index, collections,
                        message.answered_by, message.applied_index, message.stale, message.replication_factor,
                        convert.REPLICATION_MODE_NAMES.get(message.replication_mode, "unspecified"), shards)
