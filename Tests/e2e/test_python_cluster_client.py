"""`db.cluster` of the Python client against small grpcio ClusterService fakes (no ruvector
server): the answer's mapping, and the leader hints a follower gives (FAILED_PRECONDITION with
`ruvector-leader-address`) followed at most three hops, over one channel per address."""
from __future__ import annotations

import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Callable, Iterator

import grpc
import pytest

import ruvector
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc, vector_pb2


@dataclass
class Received:
    """One request a fake node was sent."""
    method: str
    request: object
    #: The client's end of the connection ("ipv4:127.0.0.1:PORT"): same channel, same peer.
    peer: str


@dataclass
class FakeNode(cluster_pb2_grpc.ClusterServiceServicer):
    """A ClusterService that answers as a leader, or refuses as a follower pointing elsewhere.

    `leader_address` None: it leads and answers with its `state`. Otherwise it is a follower:
    FAILED_PRECONDITION with the leader hint ("" sends no hint, as a node that is not in a
    cluster). `unavailable`: UNAVAILABLE, as a follower that knows no leader."""
    node_id: int
    leader_address: str | None = None
    unavailable: bool = False
    #: Seconds it takes to answer.
    delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    address: str = ""

    def _answer(self, method: str, request, context: grpc.ServicerContext) -> cluster_pb2.ClusterState:
        self.received.append(Received(method, request, context.peer()))
        time.sleep(self.delay_seconds)
        if self.unavailable:
            context.abort(grpc.StatusCode.UNAVAILABLE, "no leader is known yet")
        if self.leader_address is not None:
            if self.leader_address:
                context.set_trailing_metadata((("ruvector-leader-id", "9"),
                                               ("ruvector-leader-address", self.leader_address)))
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"node {self.node_id} is not the leader")
        return state_of(self.node_id, stale=getattr(request, "stale_ok", False))

    def GetState(self, request, context):
        return self._answer("GetState", request, context)

    def Join(self, request, context):
        return self._answer("Join", request, context)

    def Leave(self, request, context):
        return self._answer("Leave", request, context)

    def TransferLeadership(self, request, context):
        return self._answer("TransferLeadership", request, context)


def state_of(node_id: int, stale: bool) -> cluster_pb2.ClusterState:
    """What a fake leader answers: two voters and a learner, one collection."""
    members = [cluster_pb2.Member(node_id=1, address="127.0.0.1:7001", role=cluster_pb2.MEMBER_ROLE_VOTER,
                                  healthy=True, match_index=41, last_seen_millis=0, lag_entries=0),
               cluster_pb2.Member(node_id=2, address="127.0.0.1:7002", role=cluster_pb2.MEMBER_ROLE_VOTER,
                                  healthy=False, match_index=40, last_seen_millis=730, lag_entries=1),
               cluster_pb2.Member(node_id=4, address="127.0.0.1:7004", role=cluster_pb2.MEMBER_ROLE_LEARNER,
                                  healthy=True, match_index=12, last_seen_millis=20, lag_entries=29)]
    collections = [cluster_pb2.CollectionMetadata(name="docs", dimension=384, metric=vector_pb2.METRIC_L2,
                                                  created_index=7)]
    return cluster_pb2.ClusterState(members=members, leader_id=node_id, term=3, commit_index=41,
                                    collections=collections, answered_by=node_id, applied_index=40, stale=stale)


StartNode = Callable[..., FakeNode]


@pytest.fixture
def start_node() -> Iterator[StartNode]:
    """Starts fake nodes on free loopback ports (TLS with tls=True); stops them all at the end."""
    servers: list[grpc.Server] = []

    def start(node: FakeNode, tls: bool = False) -> FakeNode:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cluster_pb2_grpc.add_ClusterServiceServicer_to_server(node, server)
        if tls:
            credentials = grpc.ssl_server_credentials([((TEST_CERTS / "server1.key").read_bytes(),
                                                        (TEST_CERTS / "server1.pem").read_bytes())])
            port = server.add_secure_port("127.0.0.1:0", credentials)
        else:
            port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        node.address = f"127.0.0.1:{port}"
        return node

    yield start
    for server in servers:
        server.stop(grace=None)


def _chain(start_node: StartNode, length: int) -> list[FakeNode]:
    """`length` nodes where each follower points to the next and the last one leads."""
    nodes = [start_node(FakeNode(node_id=length))]
    for node_id in range(length - 1, 0, -1):
        nodes.insert(0, start_node(FakeNode(node_id=node_id, leader_address=nodes[0].address)))
    return nodes


def test_state_maps_members_roles_and_collections(start_node: StartNode) -> None:
    leader = start_node(FakeNode(node_id=1))
    with ruvector.Client(leader.address, timeout=5) as db:
        state = db.cluster.state(stale_ok=True)
    assert leader.received[0].request.stale_ok is True
    assert (state.leader_id, state.term, state.commit_index, state.answered_by, state.applied_index, state.stale) == \
        (1, 3, 41, 1, 40, True)
    assert [(m.node_id, m.role, m.healthy) for m in state.members] == \
        [(1, "voter", True), (2, "voter", False), (4, "learner", True)]
    assert state.member(2) == ruvector.Member(2, "127.0.0.1:7002", "voter", False, 40, 730, 1)
    assert state.member(3) is None
    assert state.voters == [1, 2]
    assert state.collections == [ruvector.ClusterCollection("docs", 384, "l2", 7)]


def test_calls_follow_leader_hints_over_one_channel_per_address(start_node: StartNode) -> None:
    first, second, leader = _chain(start_node, 3)
    with ruvector.Client(first.address, timeout=5) as db:
        assert db.cluster.leave(5).answered_by == 3
        assert db.cluster.transfer_leadership(2).answered_by == 3
        assert db.cluster.join(4, "127.0.0.1:7004").answered_by == 3
    for node in (first, second, leader):
        assert [r.method for r in node.received] == ["Leave", "TransferLeadership", "Join"]
        assert len({r.peer for r in node.received}) == 1, f"node {node.node_id} was reached on several connections"
    assert leader.received[0].request.node_id == 5
    assert leader.received[1].request.node_id == 2
    assert (leader.received[2].request.node_id, leader.received[2].request.address) == (4, "127.0.0.1:7004")


def test_a_linearizable_read_refused_by_a_follower_follows_the_hint_too(start_node: StartNode) -> None:
    follower, leader = _chain(start_node, 2)
    with ruvector.Client(follower.address, timeout=5) as db:
        state = db.cluster.state()
    assert (state.answered_by, state.stale) == (2, False)
    assert leader.received[0].request.stale_ok is False


def test_hints_are_followed_three_hops_at_the_most(start_node: StartNode) -> None:
    nodes = _chain(start_node, 5)
    with ruvector.Client(nodes[0].address, timeout=5) as db, pytest.raises(ruvector.FailedPrecondition) as info:
        db.cluster.leave(2)
    assert "node 4 is not the leader" in info.value.message
    assert [len(node.received) for node in nodes] == [1, 1, 1, 1, 0]


def test_a_hint_loop_ends_after_three_hops(start_node: StartNode) -> None:
    a = start_node(FakeNode(node_id=1, leader_address=""))
    b = start_node(FakeNode(node_id=2, leader_address=a.address))
    a.leader_address = b.address    # each names the other as the leader
    with ruvector.Client(a.address, timeout=5) as db, pytest.raises(ruvector.FailedPrecondition):
        db.cluster.join(3, "127.0.0.1:7003")
    assert (len(a.received), len(b.received)) == (2, 2)
    assert len({r.peer for r in a.received}) == 1, "the hint back to the first node reuses the client's channel"


def test_no_known_leader_is_unavailable_without_a_hop(start_node: StartNode) -> None:
    lost = start_node(FakeNode(node_id=1, unavailable=True))
    with ruvector.Client(lost.address, timeout=5) as db, pytest.raises(ruvector.Unavailable):
        db.cluster.transfer_leadership(2)
    assert len(lost.received) == 1


def test_failed_precondition_without_a_hint_is_raised_at_once(start_node: StartNode) -> None:
    single = start_node(FakeNode(node_id=1, leader_address=""))
    with ruvector.Client(single.address, timeout=5) as db, pytest.raises(ruvector.FailedPrecondition) as info:
        db.cluster.state(stale_ok=True)
    assert "not the leader" in info.value.message
    assert len(single.received) == 1


def test_a_hint_to_an_unreachable_leader_is_unavailable(start_node: StartNode) -> None:
    import socket

    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))     # bound, not listening: connections refused
        follower = start_node(FakeNode(node_id=1, leader_address=f"127.0.0.1:{placeholder.getsockname()[1]}"))
        with ruvector.Client(follower.address, timeout=5) as db, pytest.raises(ruvector.Unavailable):
            db.cluster.leave(3)


def test_the_timeout_covers_every_hop_not_each(start_node: StartNode) -> None:
    leader = start_node(FakeNode(node_id=2, delay_seconds=0.6))
    follower = start_node(FakeNode(node_id=1, leader_address=leader.address, delay_seconds=0.6))
    with ruvector.Client(follower.address, timeout=5) as db:
        assert db.cluster.leave(1, timeout=3).answered_by == 2
        with pytest.raises(ruvector.DeadlineExceeded):
            db.cluster.leave(1, timeout=1)     # 0.6 s each: the leader gets the 0.4 s left


def test_leader_channels_use_the_clients_tls_settings(start_node: StartNode) -> None:
    leader = start_node(FakeNode(node_id=2), tls=True)
    follower = start_node(FakeNode(node_id=1, leader_address=leader.address), tls=True)
    with ruvector.Client(follower.address, root_certificates=(TEST_CERTS / "ca.pem").read_bytes(),
                         server_name_override=TLS_HOST_OVERRIDE, timeout=5) as db:
        assert db.cluster.leave(3).answered_by == 2
