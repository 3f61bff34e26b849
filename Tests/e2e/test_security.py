"""Authentication and access, from the network (docs/security.md).

The role table: every method of every service the server answers (our protos, health,
reflection) is called by every kind of caller (no credentials, a wrong key, the read-only
key, the admin key, HS256 tokens on everything and on one collection, the cluster key) and
must be let in or refused exactly as `EXPECTED` says. `EXPECTED` restates the rules
independently of the server's table; a method missing from it fails the test, so a new RPC
cannot go unreviewed (ServerAccessRulesTests fails in Swift if the server has no rule).
Beside it: RS256 and ES256 tokens, expired / tampered / unsigned / wrong-algorithm tokens,
client-certificate roles, the graph's read-only queries, ListCollections filtered by grant,
SIGHUP rotation without dropping a connection, keys never in messages or logs, a cluster
whose nodes prove themselves with the cluster key."""
import concurrent.futures
import json
import signal
import subprocess
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import TEST_CERTS, RunningServer, free_ports, secure_channel, server_binary
from ruvector.v1 import (cluster_pb2, common_pb2, graph_pb2, learn_pb2, raft_pb2, route_pb2,  # noqa: F401 (registers descriptors)
                         vector_pb2, vector_pb2_grpc)
from grpc_reflection.v1alpha import reflection_pb2  # noqa: F401
from grpc_reflection.v1 import reflection_pb2 as reflection_v1_pb2  # noqa: F401

ADMIN_KEY = "admin-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"
CLUSTER_KEY = "cluster-key-0123456789abcdef"
HS_SECRET = "hs256-secret-of-at-least-32-bytes-0123456789"

# Rules restated: open, read, write, admin (on everything), read@ / write@ (also open to a
# caller holding that level on the collection the request names), node (cluster nodes only),
# read* (read on some collection: the answer lists those only),
# unserved (a method of a newer standard proto the server does not have: UNIMPLEMENTED for all).
EXPECTED = {
    "grpc.health.v1.Health": {"Check": "open", "Watch": "open", "List": "unserved"},
    "grpc.reflection.v1.ServerReflection": {"ServerReflectionInfo": "read"},
    "grpc.reflection.v1alpha.ServerReflection": {"ServerReflectionInfo": "read"},
    "ruvector.v1.VectorService": {
        "CreateCollection": "admin", "DeleteCollection": "admin", "CreateSnapshot": "admin", "ListSnapshots": "admin",
        "DownloadSnapshot": "admin", "RestoreSnapshot": "admin",
        "ListCollections": "read*", "GetCollection": "read@", "Get": "read@", "Count": "read@", "Scroll": "read@",
        "Search": "read@", "SearchBatch": "read@", "SearchStream": "read@",
        "Upsert": "write@", "UpsertStream": "write@", "Delete": "write@",
    },
    "ruvector.v1.GraphService": {
        "Execute": "read", "BeginTransaction": "read", "Commit": "read", "Rollback": "read", "QueryHyperedges": "read",
        "ListIndexes": "read", "HybridSearch": "read", "CreateHyperedge": "write", "CreateIndex": "write",
    },
    "ruvector.v1.LearnService": {
        "GetModelStatus": "read@", "ExportModel": "read@", "RecordFeedback": "write@", "Train": "write@",
        "ConfigureModel": "write@", "ImportModel": "admin",
    },
    "ruvector.v1.RouteService": {
        "CreateRouter": "admin", "DeleteRouter": "admin", "ImportRouter": "admin", "ListRouters": "read*",
        "GetRouter": "read@", "Route": "read@", "ListRoutes": "read@", "MatchRoute": "read@", "GetStatus": "read@",
        "ExportRouter": "read@", "RegisterRoute": "write@", "DeleteRoute": "write@", "FitRouteThreshold": "write@", "RecordOutcome": "write@",
        "Train": "write@",
    },
    "ruvector.v1.ClusterService": {
        "GetState": "read", "Join": "admin", "Leave": "admin", "TransferLeadership": "admin", "UpdateSettings": "admin",
        "ShardStatus": "admin", "Replicate": "node", "TransferShard": "node",
    },
    "ruvector.v1.RaftService": {"Send": "node", "InstallSnapshot": "node", "Propose": "node", "ReadIndex": "node"},
}

LEVELS = {"read": 1, "write": 2, "admin": 3}


def _token(claims, key=HS_SECRET, algorithm="HS256", expires_in=4 * 3600):
    """A token valid for `expires_in` seconds (long: CALLERS' tokens are made when the suite is
    collected, and the full e2e run reaches this file many minutes later)."""
    now = int(time.time())
    return jwt.encode({"exp": now + expires_in, **claims}, key, algorithm=algorithm)


# Each caller: the metadata it sends, its level on everything (None: none), its level on the
# collection "docs" only, and whether it is a node.
CALLERS = {
    "nobody": ([], None, None, False),
    "wrong key": ([("authorization", "Bearer not-a-key")], None, None, False),
    "read-only key": ([("authorization", f"Bearer {READ_KEY}")], "read", None, False),
    "admin key": ([("api-key", ADMIN_KEY)], "admin", None, False),
    "read token": ([("authorization", "Bearer " + _token({"sub": "r", "access": "read"}))], "read", None, False),
    "write token": ([("authorization", "Bearer " + _token({"sub": "w", "access": "write"}))], "write", None, False),
    "docs-write token": ([("authorization", "Bearer " + _token({"sub": "d", "collections": {"docs": "write"}}))],
                         None, "write", False),
    "cluster key": ([("authorization", f"Bearer {CLUSTER_KEY}")], "admin", None, True),
}


def _allowed(rule, caller, collection):
    _, level, docs_level, node = CALLERS[caller]
    if rule == "open" or node:
        return True
    if rule == "node":
        return False
    if rule == "read*":
        return level is not None or docs_level is not None
    base = rule.rstrip("@")
    if level is not None and LEVELS[level] >= LEVELS[base]:
        return True
    return rule.endswith("@") and docs_level is not None and collection == "docs" and LEVELS[docs_level] >= LEVELS[base]


def _methods():
    pool = descriptor_pool.Default()
    for service_name in EXPECTED:
        service = pool.FindServiceByName(service_name)
        for method in service.methods:
            yield service_name, method


def _request(method, collection):
    cls = message_factory.GetMessageClass(method.input_type)
    request = cls()
    fields = {f.name: f for f in method.input_type.fields}
    if "collection" in fields and fields["collection"].type == fields["collection"].TYPE_STRING:
        request.collection = collection
    elif "name" in fields and method.name in ("CreateCollection", "GetCollection", "DeleteCollection",
                                              "CreateRouter", "GetRouter", "DeleteRouter"):
        request.name = collection
    elif "router" in fields and fields["router"].type == fields["router"].TYPE_STRING:
        request.router = collection
    if method.name == "SearchBatch":
        request.searches.add(collection=collection)
    return request


def _call(channel, service, method, request, metadata):
    """The status code of one call (OK included), with streams half-closed after one message."""
    path = f"/{service}/{method.name}"
    serialize, deserialize = type(request).SerializeToString, message_factory.GetMessageClass(method.output_type).FromString
    timeout = 3
    try:
        if method.client_streaming and method.server_streaming:
            for _ in channel.stream_stream(path, serialize, deserialize)(iter([request]), metadata=metadata, timeout=timeout):
                pass
        elif method.client_streaming:
            channel.stream_unary(path, serialize, deserialize)(iter([request]), metadata=metadata, timeout=timeout)
        elif method.server_streaming:
            for _ in channel.unary_stream(path, serialize, deserialize)(request, metadata=metadata, timeout=timeout):
                pass
        else:
            channel.unary_unary(path, serialize, deserialize)(request, metadata=metadata, timeout=timeout)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        return error.code(), error.details() or ""


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A cluster of one with every kind of credential, so node methods are served too."""
    folder = tmp_path_factory.mktemp("secured")
    (folder / "cluster.key").write_text(CLUSTER_KEY + "\n")
    (folder / "read.key").write_text(READ_KEY + "\n")
    (folder / "jwt.secret").write_text(HS_SECRET)
    port = free_ports(1)[0]
    server = RunningServer(["--listen", f"127.0.0.1:{port}", "--node-id", "1", "--cluster", f"1=127.0.0.1:{port}",
                            "--api-key", ADMIN_KEY, "--read-only-api-key-file", str(folder / "read.key"),
                            "--jwt-secret-file", str(folder / "jwt.secret"), "--cluster-key-file", str(folder / "cluster.key")],
                           folder / "data")
    channel = grpc.insecure_channel(server.address)
    stub = vector_pb2_grpc.VectorServiceStub(channel)
    deadline = time.monotonic() + 30
    while True:
        try:
            stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_COSINE),
                                  metadata=[("api-key", ADMIN_KEY)], timeout=5)
            break
        except grpc.RpcError as error:
            assert time.monotonic() < deadline and error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            time.sleep(0.2)
    _create(stub, "other")
    yield server, channel
    channel.close()
    assert server.stop() == 0
    log = "".join(server.stderr_lines)
    for secret in (ADMIN_KEY, READ_KEY, CLUSTER_KEY, HS_SECRET):
        assert secret not in log, "a credential was written to the log"


def test_the_rule_table_covers_every_method():
    pool = descriptor_pool.Default()
    for service_name, rules in EXPECTED.items():
        methods = {m.name for m in pool.FindServiceByName(service_name).methods}
        assert methods == set(rules), f"{service_name}: methods without an expected rule: {methods - set(rules)}; " \
                                      f"rules for no method: {set(rules) - methods}"
    served = {s for s in EXPECTED}
    for file in ("cluster", "graph", "learn", "raft", "route", "vector"):
        for service in pool.FindFileByName(f"ruvector/v1/{file}.proto").services_by_name.values():
            assert service.full_name in served, f"service {service.full_name} has no rules in this test"


def test_every_method_for_every_caller_gets_exactly_its_access(secured):
    server, channel = secured
    cases = [(service, method, caller, collection)
             for service, method in _methods() for caller in CALLERS for collection in ("docs", "other")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: (c, _call(channel, c[0], c[1], _request(c[1], c[3]), CALLERS[c[2]][0])), cases))
    wrong = []
    for (service, method, caller, collection), (code, details) in results:
        rule = EXPECTED[service][method.name]
        if rule == "unserved":
            if code != grpc.StatusCode.UNIMPLEMENTED:
                wrong.append(f"{service}/{method.name} by {caller}: {code.name}, expected UNIMPLEMENTED")
            continue
        denied = code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        if denied == _allowed(rule, caller, collection):
            wrong.append(f"{service}/{method.name} [{rule}] by {caller} on {collection}: {code.name} {details[:100]}")
        if denied:
            unauthenticated = CALLERS[caller][1] is None and CALLERS[caller][2] is None
            expected_code = grpc.StatusCode.UNAUTHENTICATED if unauthenticated else grpc.StatusCode.PERMISSION_DENIED
            if code != expected_code:
                wrong.append(f"{service}/{method.name} by {caller}: {code.name}, expected {expected_code.name}")
            for secret in (ADMIN_KEY, READ_KEY, CLUSTER_KEY, "not-a-key"):
                assert secret not in details
    assert not wrong, f"{len(wrong)} of {len(results)} calls got the wrong access:\n" + "\n".join(wrong[:40])
    assert len(results) == 2 * len(CALLERS) * sum(len(rules) for rules in EXPECTED.values())


def _create(stub, *names):
    """Creates the collections that do not exist (the role table deletes them)."""
    for name in names:
        try:
            stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=name, dimension=2, metric=vector_pb2.METRIC_COSINE),
                                  metadata=[("api-key", ADMIN_KEY)], timeout=10)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.ALREADY_EXISTS, error.details()


def test_read_access_runs_read_only_cypher_and_lists_only_granted_collections(secured):
    _, channel = secured
    _create(vector_pb2_grpc.VectorServiceStub(channel), "docs", "other")
    execute = channel.unary_stream("/ruvector.v1.GraphService/Execute", graph_pb2.ExecuteRequest.SerializeToString,
                                   graph_pb2.ExecuteResponse.FromString)
    read = [("authorization", f"Bearer {READ_KEY}")]
    assert list(execute(graph_pb2.ExecuteRequest(query="MATCH (n) RETURN count(n) AS c"), metadata=read, timeout=10))
    with pytest.raises(grpc.RpcError) as info:
        list(execute(graph_pb2.ExecuteRequest(query="CREATE (:Intruder)"), metadata=read, timeout=10))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "writes" in info.value.details()
    writer = CALLERS["write token"][0]
    assert list(execute(graph_pb2.ExecuteRequest(query="CREATE (:Allowed) RETURN 1 AS one"), metadata=writer, timeout=10))

    stub = vector_pb2_grpc.VectorServiceStub(channel)
    scoped = CALLERS["docs-write token"][0]
    names = [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=scoped, timeout=10).collections]
    assert names == ["docs"]
    everything = [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=read, timeout=10).collections]
    assert everything == ["docs", "other"]
    # A stream that names a granted collection first and another one later is stopped there.
    point = lambda i: vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[1.0, 0.5]))
    messages = [vector_pb2.UpsertRequest(collection="docs", points=[point(1)]),
                vector_pb2.UpsertRequest(collection="other", points=[point(2)])]
    with pytest.raises(grpc.RpcError) as info:
        stub.UpsertStream(iter(messages), metadata=scoped, timeout=10)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "'other'" in info.value.details()
    count = stub.Count(vector_pb2.CountRequest(collection="other"), metadata=read, timeout=10)
    assert count.count == 0


def test_bad_tokens_are_refused(secured):
    _, channel = secured
    stub = vector_pb2_grpc.VectorServiceStub(channel)
    now = int(time.time())
    good = _token({"access": "admin"})
    header, claims, signature = good.split(".")
    forged_claims = jwt.utils.base64url_encode(json.dumps({"exp": now + 300, "access": "admin", "sub": "mallory"}).encode()).decode()
    unsigned = jwt.encode({"exp": now + 300, "access": "admin"}, None, algorithm="none")
    none_header = jwt.utils.base64url_encode(b'{"alg":"none"}').decode()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "expired": jwt.encode({"exp": now - 3600, "access": "admin"}, HS_SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode({"exp": now + 7200, "nbf": now + 3600, "access": "admin"}, HS_SECRET, algorithm="HS256"),
        "no expiry": jwt.encode({"access": "admin"}, HS_SECRET, algorithm="HS256"),
        "tampered claims": f"{header}.{forged_claims}.{signature}",
        "tampered signature": f"{header}.{claims}.{signature[:-4]}AAAA",
        "alg none": unsigned,
        "alg none with the old signature": f"{none_header}.{claims}.{signature}",
        "wrong secret": jwt.encode({"exp": now + 300, "access": "admin"}, "x" * 40, algorithm="HS256"),
        "HS384": jwt.encode({"exp": now + 300, "access": "admin"}, HS_SECRET, algorithm="HS384"),
        "RS256 without a public key configured": jwt.encode({"exp": now + 300, "access": "admin"}, rsa_key, algorithm="RS256"),
        "unknown access": jwt.encode({"exp": now + 300, "access": "root"}, HS_SECRET, algorithm="HS256"),
    }
    for why, token in bad.items():
        with pytest.raises(grpc.RpcError) as info:
            stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, (why, info.value.details())
        assert token not in info.value.details()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_public_key_tokens(tmp_path, algorithm):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256" \
        else ec.generate_private_key(ec.SECP256R1())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "jwt.pub").write_bytes(public_pem)
    server = RunningServer(["--jwt-public-key-file", str(tmp_path / "jwt.pub")], tmp_path / "data")
    try:
        channel = grpc.insecure_channel(server.address)
        stub = vector_pb2_grpc.VectorServiceStub(channel)
        admin = [("authorization", "Bearer " + _token({"access": "admin"}, private, algorithm))]
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_COSINE),
                              metadata=admin, timeout=10)
        reader = [("authorization", "Bearer " + _token({"access": "read"}, private, algorithm))]
        assert [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=reader).collections] == ["docs"]
        with pytest.raises(grpc.RpcError) as info:
            stub.DeleteCollection(vector_pb2.DeleteCollectionRequest(name="docs"), metadata=reader, timeout=10)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # Another key of the same kind, and the public key used as an HS256 secret (the
        # algorithm-confusion attack), are refused.
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256" \
            else ec.generate_private_key(ec.SECP256R1())
        confused = jwt.api_jws.PyJWS(algorithms=["HS256"])
        confused._algorithms["HS256"].prepare_key = lambda key: key  # PyJWT refuses PEM as an HMAC key on its own
        forged = confused.encode(json.dumps({"exp": int(time.time()) + 300, "access": "admin"}).encode(), public_pem,
                                 algorithm="HS256")
        for token in (_token({"access": "admin"}, other, algorithm), forged):
            with pytest.raises(grpc.RpcError) as info:
                stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("authorization", f"Bearer {token}")])
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        channel.close()
    finally:
        assert server.stop() == 0


def test_certificate_roles(tmp_path):
    config = {"tlsCert": str(TEST_CERTS / "server1.pem"), "tlsKey": str(TEST_CERTS / "server1.key"),
              "tlsClientCA": str(TEST_CERTS / "ca.pem"), "certificateRoles": {"CN=testclient": "read"},
              "apiKey": ADMIN_KEY}
    (tmp_path / "config.json").write_text(json.dumps(config))
    server = RunningServer(["--config", str(tmp_path / "config.json")], tmp_path / "data")
    try:
        channel = secure_channel(server, client_cert=True)
        stub = vector_pb2_grpc.VectorServiceStub(channel)
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_COSINE),
                              metadata=[("api-key", ADMIN_KEY)], timeout=10)
        # The certificate alone reads; writing needs more.
        assert [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest(), timeout=10).collections] == ["docs"]
        with pytest.raises(grpc.RpcError) as info:
            stub.DeleteCollection(vector_pb2.DeleteCollectionRequest(name="docs"), timeout=10)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "CN=testclient" in info.value.details()
        channel.close()
    finally:
        assert server.stop() == 0
    # A role for a certificate name that is not one is refused at start, before the data directory.
    config["certificateRoles"] = {"testclient": "read"}
    (tmp_path / "bad.json").write_text(json.dumps(config))
    assert "certificate names" in _refused(["--config", str(tmp_path / "bad.json")], tmp_path / "never")


def _refused(args, data_dir):
    """The error of a server that must refuse to start, before it creates its data directory."""
    result = subprocess.run([server_binary(), "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0, result.stdout
    assert not data_dir.exists()
    return result.stderr


def test_sighup_rotates_keys_without_dropping_connections(tmp_path):
    key_file = tmp_path / "admin.key"
    key_file.write_text("first-key-0123456789\n")
    server = RunningServer(["--api-key-file", str(key_file)], tmp_path / "data")
    try:
        channel = grpc.insecure_channel(server.address)
        stub = vector_pb2_grpc.VectorServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == health_pb2.HealthCheckResponse.SERVING
        stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("api-key", "first-key-0123456789")], timeout=10)
        # A stream open across the reload keeps going.
        watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=30)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        key_file.write_text("second-key-0123456789\n")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            try:
                stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("api-key", "second-key-0123456789")], timeout=10)
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED and time.monotonic() < deadline
                time.sleep(0.05)
        with pytest.raises(grpc.RpcError) as info:
            stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("api-key", "first-key-0123456789")], timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # A broken file keeps the keys in force, and says so in the log.
        key_file.write_text("\n")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not any("NOT reloaded" in line for line in server.stderr_lines):
            assert time.monotonic() < deadline, "".join(server.stderr_lines)
            time.sleep(0.05)
        stub.ListCollections(vector_pb2.ListCollectionsRequest(), metadata=[("api-key", "second-key-0123456789")], timeout=10)
        watch.cancel()
        channel.close()
    finally:
        assert server.stop() == 0
    log = "".join(server.stderr_lines)
    assert "first-key" not in log and "second-key" not in log


def test_settings_that_cannot_protect_anything_are_refused_at_start(tmp_path):
    port = free_ports(1)[0]
    error = _refused(["--listen", f"127.0.0.1:{port}", "--node-id", "1", "--cluster", f"1=127.0.0.1:{port}",
                      "--api-key", ADMIN_KEY], tmp_path / "never")
    assert "clusterKeyFile" in error and ADMIN_KEY not in error
    # A short HS256 secret, an empty key file and equal admin / read-only keys are refused too.
    (tmp_path / "short.secret").write_text("too-short")
    (tmp_path / "empty.key").write_text("\n")
    assert "at least 32 bytes" in _refused(["--jwt-secret-file", str(tmp_path / "short.secret")], tmp_path / "never")
    assert "empty" in _refused(["--api-key-file", str(tmp_path / "empty.key")], tmp_path / "never")
    assert "must differ" in _refused(["--api-key", "same-key", "--read-only-api-key", "same-key"], tmp_path / "never")


def test_three_nodes_with_keys_replicate_through_the_cluster_key(tmp_path):
    """Nodes call each other (Raft, forwarded writes, replication, search fan-out) as nodes;
    a client's admin key cannot call node methods, and the cluster works end to end."""
    (tmp_path / "cluster.key").write_text(CLUSTER_KEY)
    ports = free_ports(3)
    members = ",".join(f"{i + 1}=127.0.0.1:{p}" for i, p in enumerate(ports))
    servers = []
    try:
        for i, port in enumerate(ports):
            servers.append(RunningServer(["--listen", f"127.0.0.1:{port}", "--node-id", str(i + 1), "--cluster", members,
                                          "--api-key", ADMIN_KEY, "--cluster-key-file", str(tmp_path / "cluster.key")],
                                         tmp_path / f"d{i + 1}"))
        admin = [("api-key", ADMIN_KEY)]
        stubs = [vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(s.address)) for s in servers]
        deadline = time.monotonic() + 30
        while True:
            try:
                stubs[0].CreateCollection(vector_pb2.CreateCollectionRequest(
                    name="docs", dimension=2, metric=vector_pb2.METRIC_COSINE, shards=3, replication_factor=2,
                    write_consistency=common_pb2.REPLICATION_MODE_SEMI_SYNC), metadata=admin, timeout=10)
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline, error.details()
                time.sleep(0.2)
        points = [vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[1.0, i / 100]))
                  for i in range(1, 101)]
        stubs[1].Upsert(vector_pb2.UpsertRequest(collection="docs", points=points), metadata=admin, timeout=30)
        for stub in stubs:
            assert stub.Count(vector_pb2.CountRequest(collection="docs"), metadata=admin, timeout=30).count == 100
            hits = stub.Search(vector_pb2.SearchRequest(collection="docs", vector=common_pb2.Vector(values=[1.0, 0.5]), k=5),
                               metadata=admin, timeout=30).hits
            assert len(hits) == 5
        # The admin key is not a node's.
        raft = grpc.insecure_channel(servers[0].address).unary_unary(
            "/ruvector.v1.RaftService/ReadIndex", raft_pb2.ReadIndexRequest.SerializeToString, raft_pb2.ReadIndexResponse.FromString)
        with pytest.raises(grpc.RpcError) as info:
            raft(raft_pb2.ReadIndexRequest(), metadata=admin, timeout=10)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        for server in servers:
            server.stop()


def test_the_python_clients_send_their_key(secured, monkeypatch):
    """ruvector.Client and AsyncClient with api_key= or RUVECTOR_API_KEY against the real server."""
    import asyncio

    import ruvector

    server, _ = secured
    monkeypatch.delenv("RUVECTOR_API_KEY", raising=False)
    with ruvector.Client(server.address) as anonymous:
        with pytest.raises(ruvector.Unauthenticated):
            anonymous.list_collections()
    with ruvector.Client(server.address, api_key=READ_KEY) as reader:
        assert "docs" in [c.name for c in reader.list_collections()]
        with pytest.raises(ruvector.PermissionDenied) as info:
            reader.delete_collection("docs")
        assert READ_KEY not in str(info.value) and READ_KEY not in repr(reader)
    monkeypatch.setenv("RUVECTOR_API_KEY", ADMIN_KEY)

    async def admin_creates() -> None:
        async with ruvector.AsyncClient(server.address) as admin:
            await admin.create_collection("async-made", dimension=2)
            assert await admin.collection_exists("async-made")

    asyncio.run(admin_creates())
