"""Hostile node-to-node traffic: RaftService refuses what it cannot trust, and the node keeps
serving. Also the single-server default's ClusterService, and a one-node cluster's basics."""
import time

import grpc
import pytest

from conftest import expect_status, one_node_cluster
from ruvector.v1 import cluster_pb2, common_pb2, cluster_pb2_grpc, raft_pb2, raft_pb2_grpc, vector_pb2, vector_pb2_grpc


def _with_from(kwargs: dict) -> dict:
    """`from` is a Python keyword: tests write `from_`."""
    if "from_" in kwargs:
        kwargs["from"] = kwargs.pop("from_")
    return kwargs


def M(**kwargs):
    return raft_pb2.RaftMessage(**_with_from(kwargs))


def Batch(**kwargs):
    return raft_pb2.RaftBatch(**_with_from(kwargs))


@pytest.fixture
def one_node(tmp_path):
    running = one_node_cluster(tmp_path / "data")
    yield running
    running.stop()


def wait_leader(stub, timeout=5.0):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stub.GetState(cluster_pb2.GetStateRequest(stale_ok=True), timeout=2)
        if state.leader_id:
            return state
        time.sleep(0.02)
    raise AssertionError("no leader")


def test_single_server_has_no_cluster(server):
    channel = grpc.insecure_channel(server.address)
    message = expect_status(grpc.StatusCode.FAILED_PRECONDITION,
                            lambda: cluster_pb2_grpc.ClusterServiceStub(channel).GetState(cluster_pb2.GetStateRequest(), timeout=5))
    assert "--node-id" in message
    expect_status(grpc.StatusCode.UNIMPLEMENTED,
                  lambda: raft_pb2_grpc.RaftServiceStub(channel).ReadIndex(raft_pb2.ReadIndexRequest(**{'from': 2}), timeout=5))


def test_one_node_cluster_creates_through_its_log(one_node):
    channel = grpc.insecure_channel(one_node.address)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    wait_leader(cluster)
    vectors = vector_pb2_grpc.VectorServiceStub(channel)
    vectors.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2), timeout=5)
    expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: vectors.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2), timeout=5))
    # Validation happens before the log: a bad request never becomes an entry.
    commit = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5).commit_index
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: vectors.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="bad name!", dimension=4, metric=vector_pb2.METRIC_L2), timeout=5))
    state = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5)
    assert state.commit_index == commit
    assert [c.name for c in state.collections] == ["docs"]
    assert [(m.node_id, m.role) for m in state.members] == [(1, cluster_pb2.MEMBER_ROLE_VOTER)]
    assert state.leader_id == 1 and not state.stale and state.answered_by == 1
    vectors.DeleteCollection(vector_pb2.DeleteCollectionRequest(name="docs"), timeout=5)
    assert not cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5).collections


def test_malformed_raft_messages_are_refused(one_node):
    channel = grpc.insecure_channel(one_node.address)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    before = wait_leader(cluster)
    raft = raft_pb2_grpc.RaftServiceStub(channel)
    bad_batches = [
        # unknown message type
        Batch(from_=2, messages=[M(type=99, from_=2, to=1, term=50)]),
        # addressed to another node
        Batch(from_=2, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_HEARTBEAT, from_=2, to=7, term=50)]),
        # sender differs from the stream's sender
        Batch(from_=2, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_HEARTBEAT, from_=3, to=1, term=50)]),
        # entries out of sequence
        Batch(from_=2, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_APPEND, from_=2, to=1, term=50, index=3, log_term=1,
                                                entries=[raft_pb2.Entry(term=50, index=9)])]),
        # entries on a heartbeat
        Batch(from_=2, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_HEARTBEAT, from_=2, to=1, term=50,
                                                entries=[raft_pb2.Entry(term=50, index=1)])]),
        # a membership change without a node
        Batch(from_=2, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_APPEND, from_=2, to=1, term=50, index=0, log_term=0,
                                                entries=[raft_pb2.Entry(term=50, index=1, type=raft_pb2.ENTRY_TYPE_CONFIG_CHANGE)])]),
        # no sender
        Batch(from_=0, messages=[M(type=raft_pb2.RAFT_MESSAGE_TYPE_HEARTBEAT, from_=0, to=1, term=50)]),
    ]
    for batch in bad_batches:
        expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: raft.Send(iter([batch]), timeout=5))
    # The node's term did not move: nothing reached the engine.
    after = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5)
    assert after.term == before.term and after.leader_id == 1


def test_hostile_snapshot_transfers_are_refused(one_node):
    channel = grpc.insecure_channel(one_node.address)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    before = wait_leader(cluster)
    raft = raft_pb2_grpc.RaftServiceStub(channel)
    R = raft_pb2.InstallSnapshotRequest
    # Too large to hold: refused at the header, before any byte is buffered.
    with pytest.raises(grpc.RpcError) as info:
        list(raft.InstallSnapshot(iter([R(term=9, leader_id=2, to=1, last_included_index=5, last_included_term=9,
                                          total_bytes=1 << 40)]), timeout=5))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # A chunk that does not follow what is held.
    header = dict(term=9, leader_id=2, to=1, last_included_index=5, last_included_term=9, total_bytes=10)
    with pytest.raises(grpc.RpcError) as info:
        list(raft.InstallSnapshot(iter([R(**header), R(**header, offset=4, data=b"abcd")]), timeout=5))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Ends short of its announced size.
    with pytest.raises(grpc.RpcError) as info:
        list(raft.InstallSnapshot(iter([R(**header), R(**header, offset=0, data=b"abc", done=True)]), timeout=5))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    after = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5)
    assert after.term == before.term and after.leader_id == 1


def test_cluster_calls_check_their_arguments(one_node):
    channel = grpc.insecure_channel(one_node.address)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    wait_leader(cluster)
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: cluster.Join(cluster_pb2.JoinRequest(node_id=0, address="127.0.0.1:1"), timeout=5))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: cluster.Join(cluster_pb2.JoinRequest(node_id=2, address="nowhere"), timeout=5))
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: cluster.Leave(cluster_pb2.LeaveRequest(node_id=9), timeout=5))
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: cluster.Leave(cluster_pb2.LeaveRequest(node_id=1), timeout=5))
    expect_status(grpc.StatusCode.FAILED_PRECONDITION,
                  lambda: cluster.TransferLeadership(cluster_pb2.TransferLeadershipRequest(node_id=5), timeout=5))
    for factor, mode in [(0, 1), (17, 1), (3, 9)]:
        expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: cluster.UpdateSettings(
            cluster_pb2.UpdateSettingsRequest(replication_factor=factor, replication_mode=mode), timeout=5))
    state = cluster.UpdateSettings(cluster_pb2.UpdateSettingsRequest(replication_factor=3, replication_mode=2), timeout=5)
    assert (state.replication_factor, state.replication_mode) == (3, common_pb2.REPLICATION_MODE_SEMI_SYNC)
    # A proposal forwarded with bytes that are no command is refused, not logged.
    raft = raft_pb2_grpc.RaftServiceStub(channel)
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: raft.Propose(raft_pb2.ProposeRequest(command=b"\x07\x01", **{"from": 2}), timeout=5))


def test_hostile_shard_streams_and_calls_are_refused(one_node):
    """Replicate, TransferShard, ShardStatus and the shard-level headers of VectorService check
    what they get: no stream starts without a valid start from a replica of the shard, a point
    written through a shard header must belong to that shard, and the node keeps serving."""
    channel = grpc.insecure_channel(one_node.address)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    wait_leader(cluster)
    vectors = vector_pb2_grpc.VectorServiceStub(channel)
    vectors.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2,
                                                                shards=4), timeout=5)
    point = lambda i: vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[1, 2, 3, float(i)]))

    def replicate(*acks):
        return list(cluster.Replicate(iter(acks), timeout=5))

    # No start first, or an ack before the start: refused.
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: replicate(cluster_pb2.ReplicationAck(applied_sequence=3)))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: replicate())
    start = lambda **kw: cluster_pb2.ReplicationAck(start=cluster_pb2.ReplicationStart(**kw))
    # A shard that does not exist, a bad name, a node that holds no replica (a one-node cluster has none).
    expect_status(grpc.StatusCode.UNAVAILABLE, lambda: replicate(start(collection="docs", shard=99, replica_node_id=2)))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: replicate(start(collection="../etc", shard=0, replica_node_id=2)))
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: replicate(start(collection="docs", shard=0, replica_node_id=7)))
    # TransferShard: chunk size bounds, unknown shard.
    transfer = lambda **kw: list(cluster.TransferShard(cluster_pb2.TransferShardRequest(**kw), timeout=5))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: transfer(collection="docs", shard=0, chunk_bytes=1))
    expect_status(grpc.StatusCode.UNAVAILABLE, lambda: transfer(collection="docs", shard=42))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: cluster.ShardStatus(cluster_pb2.ShardStatusRequest(collection="a/b"), timeout=5))
    # The shard copies are made after the create is applied, on the node's own queue: under load
    # the last one can still be on its way.
    deadline = time.monotonic() + 20
    while True:
        status = cluster.ShardStatus(cluster_pb2.ShardStatusRequest(collection="docs", checksums=True), timeout=5)
        if sorted(s.shard for s in status.shards) == [0, 1, 2, 3] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(s.shard for s in status.shards) == [0, 1, 2, 3] and all(s.primary for s in status.shards)

    # Shard-level headers: the shard must be a number, and every point must belong to the shard named.
    bad = [("ruvector-shard", "x")]
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: vectors.Upsert(
        vector_pb2.UpsertRequest(collection="docs", points=[point(1)]), metadata=bad, timeout=5))
    owners = {}
    for i in range(40):
        for shard in range(4):
            try:
                vectors.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[point(i)]), timeout=5,
                               metadata=[("ruvector-shard", str(shard))])
                owners[i] = shard
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "belongs to shard" in error.details()
    assert len(owners) == 40          # each point was taken by exactly its own shard, refused by the others
    assert vectors.Count(vector_pb2.CountRequest(collection="docs"), timeout=5).count == 40
    # A sharded collection's snapshot is a cluster snapshot (Tests/e2e/cluster/test_shard_snapshots.py);
    # names that are not one (a path, another node's made-up file) are refused before any file is read.
    info = vectors.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"), timeout=30)
    assert info.name.endswith(".rvcsnap") and info.size_bytes > 0
    for name in ("../../etc/passwd", "cluster-1-n1.rvcsnap", "cluster-../../n1.rvcsnap", "snapshot-000001.rvsnap", ""):
        with pytest.raises(grpc.RpcError) as refused:
            list(vectors.DownloadSnapshot(vector_pb2.DownloadSnapshotRequest(collection="docs", name=name), timeout=5))
        assert refused.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION), name
        assert "cluster snapshot" in refused.value.details(), refused.value.details()
    # Sharding fields out of range.
    for fields in ({"shards": 5000}, {"replication_factor": 2}, {"replication_factor": 17}, {"min_replicas": 99},
                   {"write_consistency": 9}):
        code = (grpc.StatusCode.FAILED_PRECONDITION if fields == {"replication_factor": 2} else grpc.StatusCode.INVALID_ARGUMENT)
        expect_status(code, lambda: vectors.CreateCollection(vector_pb2.CreateCollectionRequest(
            name="other", dimension=4, metric=vector_pb2.METRIC_L2, **fields), timeout=5))
    state = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=5)
    assert [c.name for c in state.collections] == ["docs"]
