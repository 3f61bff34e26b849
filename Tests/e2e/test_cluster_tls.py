"""Node-to-node mutual TLS: nodes present certificates of the cluster CA to each other, and a
client certificate (another CA) cannot pose as a node on RaftService."""
import pathlib
import subprocess
import time

import grpc
import pytest

from conftest import RunningServer, expect_status, free_ports
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc, raft_pb2, raft_pb2_grpc, vector_pb2, vector_pb2_grpc


def make_ca(folder: pathlib.Path, name: str) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-days", "2", "-subj", f"/CN={name}", "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem")],
                   check=True, capture_output=True)
    return folder / "ca.pem"


def make_certificate(ca_folder: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    key, csr, pem, ext = (ca_folder / f"{name}.{suffix}" for suffix in ("key", "csr", "pem", "ext"))
    subprocess.run(["openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(csr)], check=True, capture_output=True)
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_folder / "ca.pem"), "-CAkey", str(ca_folder / "ca.key"),
                    "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(pem)], check=True, capture_output=True)
    return pem, key


@pytest.fixture
def tls_cluster(tmp_path):
    cluster_ca = make_ca(tmp_path / "cluster-ca", "ruvector cluster CA")
    client_ca = make_ca(tmp_path / "client-ca", "ruvector client CA")
    ports = free_ports(3)
    members = ",".join(f"{i + 1}=127.0.0.1:{port}" for i, port in enumerate(ports))
    nodes = []
    try:
        for i, port in enumerate(ports):
            cert, key = make_certificate(tmp_path / "cluster-ca", f"node{i + 1}")
            nodes.append(RunningServer(["--listen", f"127.0.0.1:{port}", "--node-id", str(i + 1), "--cluster", members,
                                        "--tls-cert", str(cert), "--tls-key", str(key), "--cluster-ca", str(cluster_ca),
                                        "--tls-client-ca", str(client_ca)], tmp_path / f"d{i + 1}"))
        client_cert, client_key = make_certificate(tmp_path / "client-ca", "client")
        credentials = grpc.ssl_channel_credentials(root_certificates=cluster_ca.read_bytes(), private_key=client_key.read_bytes(),
                                                   certificate_chain=client_cert.read_bytes())
        yield nodes, credentials, cluster_ca
    finally:
        for node in nodes:
            node.stop()


def test_nodes_form_a_cluster_over_mutual_tls(tls_cluster):
    nodes, credentials, _ = tls_cluster
    channel = grpc.secure_channel(nodes[0].address, credentials)
    cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
    deadline = time.monotonic() + 10
    state = None
    while time.monotonic() < deadline:
        try:
            state = cluster.GetState(cluster_pb2.GetStateRequest(), timeout=2)
            if state.leader_id:
                break
        except grpc.RpcError:
            pass
        time.sleep(0.05)
    assert state is not None and state.leader_id in (1, 2, 3), "no leader over mutual TLS"
    vector_pb2_grpc.VectorServiceStub(channel).CreateCollection(
        vector_pb2.CreateCollectionRequest(name="secure", dimension=4, metric=vector_pb2.METRIC_L2), timeout=5)
    for node in nodes:
        other = cluster_pb2_grpc.ClusterServiceStub(grpc.secure_channel(node.address, credentials))
        assert [c.name for c in other.GetState(cluster_pb2.GetStateRequest(), timeout=5).collections] == ["secure"]


def test_a_client_certificate_cannot_pose_as_a_node(tls_cluster):
    nodes, credentials, _ = tls_cluster
    raft = raft_pb2_grpc.RaftServiceStub(grpc.secure_channel(nodes[0].address, credentials))
    heartbeat = raft_pb2.RaftMessage(type=raft_pb2.RAFT_MESSAGE_TYPE_HEARTBEAT, to=1, term=1000, **{"from": 2})
    expect_status(grpc.StatusCode.PERMISSION_DENIED,
                  lambda: raft.Send(iter([raft_pb2.RaftBatch(messages=[heartbeat], **{"from": 2})]), timeout=5))
    expect_status(grpc.StatusCode.PERMISSION_DENIED,
                  lambda: raft.ReadIndex(raft_pb2.ReadIndexRequest(**{"from": 2}), timeout=5))
    expect_status(grpc.StatusCode.PERMISSION_DENIED,
                  lambda: raft.Propose(raft_pb2.ProposeRequest(command=b"\x01\x04\x00\x00\x00\x00", **{"from": 2}), timeout=5))
    # The node's term never saw the forged message's term.
    state = cluster_pb2_grpc.ClusterServiceStub(grpc.secure_channel(nodes[0].address, credentials)).GetState(
        cluster_pb2.GetStateRequest(stale_ok=True), timeout=5)
    assert state.term < 1000


def test_tls_cluster_node_needs_the_cluster_ca(tmp_path):
    ca = make_ca(tmp_path / "ca", "ca")
    cert, key = make_certificate(tmp_path / "ca", "node")
    port = free_ports(1)[0]
    binary = __import__("os").environ["RUVECTOR_SERVER_BINARY"]
    result = subprocess.run([binary, "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "d"), "--node-id", "1",
                             "--cluster", f"1=127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--cluster-ca" in result.stderr
    assert not (tmp_path / "d").exists(), "nothing touches the disk before the settings are valid"


def test_a_tls_cluster_with_client_credentials_runs_on_node_certificates(tmp_path):
    """API keys and certificate roles on: nodes still reach each other (Raft, forwarded writes,
    replication, fan-out) as nodes by their cluster-CA certificates, with no cluster key; a
    client's certificate gets exactly the level its name maps to."""
    import json

    cluster_ca = make_ca(tmp_path / "cluster-ca", "ruvector cluster CA")
    client_ca = make_ca(tmp_path / "client-ca", "ruvector client CA")
    ports = free_ports(3)
    members = ",".join(f"{i + 1}=127.0.0.1:{port}" for i, port in enumerate(ports))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"certificateRoles": {"CN=writer": "write"}, "apiKey": "tls-admin-key-0123"}))
    nodes = []
    try:
        for i, port in enumerate(ports):
            cert, key = make_certificate(tmp_path / "cluster-ca", f"node{i + 1}")
            nodes.append(RunningServer(["--config", str(config), "--listen", f"127.0.0.1:{port}", "--node-id", str(i + 1),
                                        "--cluster", members, "--tls-cert", str(cert), "--tls-key", str(key),
                                        "--cluster-ca", str(cluster_ca), "--tls-client-ca", str(client_ca)], tmp_path / f"d{i + 1}"))
        client_cert, client_key = make_certificate(tmp_path / "client-ca", "writer")
        credentials = grpc.ssl_channel_credentials(root_certificates=cluster_ca.read_bytes(), private_key=client_key.read_bytes(),
                                                   certificate_chain=client_cert.read_bytes())
        stubs = [vector_pb2_grpc.VectorServiceStub(grpc.secure_channel(node.address, credentials)) for node in nodes]
        admin = [("authorization", "Bearer tls-admin-key-0123")]
        deadline = time.monotonic() + 20
        while True:
            try:
                stubs[0].CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_L2,
                                                                             shards=3, replication_factor=3),
                                          metadata=admin, timeout=10)
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline, error.details()
                time.sleep(0.1)
        points = [vector_pb2.PointStruct(id={"num": i}, vector={"values": [float(i), 1.0]}) for i in range(1, 61)]
        stubs[2].Upsert(vector_pb2.UpsertRequest(collection="docs", points=points), timeout=20)   # the certificate writes
        for stub in stubs:
            assert stub.Count(vector_pb2.CountRequest(collection="docs"), timeout=20).count == 60
            assert len(stub.Search(vector_pb2.SearchRequest(collection="docs", vector={"values": [3.0, 1.0]}, k=4),
                                   timeout=20).hits) == 4
        expect_status(grpc.StatusCode.PERMISSION_DENIED,
                      lambda: stubs[1].DeleteCollection(vector_pb2.DeleteCollectionRequest(name="docs"), timeout=10))
    finally:
        for node in nodes:
            node.stop()
