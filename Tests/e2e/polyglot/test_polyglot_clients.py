"""Go (grpc-go 1.33) and C++ (grpc 1.51) clients, generated from proto/ruvector/v1 at test
time, against the real server: each runs the same scenario as the Python client and must get
the same answers; the C++ client also runs the interop cases server_compressed_unary and
server_compressed_streaming. How the clients are built: polyglot_build.py; what they do: README.md.

A missing toolchain skips these tests on a workstation and fails them in CI (env CI set).
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import uuid

import numpy as np
import pytest

import polyglot_build as build
import ruvector
from conftest import RunningServer
from ruvector import convert
from ruvector.graph import Node, Relationship

HERE = pathlib.Path(__file__).resolve().parent
CLIENT_TIMEOUT_SECONDS = 120
SCORE_TOLERANCE = 1e-5

# The scenario, as go/main.go and cpp/client.cc run it (README.md): the dataset's formulas are
# repeated in each language, the Cypher texts are given to the clients on the command line.
COLLECTION = "polyglot"
POINT_COUNT = 48
DIMENSION = 8
UUID_POINT = 3
UUID_ID = "5f0c6a1e-0000-4000-8000-000000000003"
LANGS = ["swift", "go", "cpp"]
STREAM_QUERIES = 4
CREATE_QUERY = ("CREATE (a:Person {name: $a, age: 41})-[:KNOWS {since: 2015}]->(b:Person {name: 'Bo', age: 37}), "
                "(b)-[:KNOWS {since: 2020}]->(c:Person {name: 'Cy', age: 29, score: 1.5})")
MATCH_QUERY = ("MATCH (p:Person)-[r:KNOWS]->(q:Person) RETURN p.name AS from, q.name AS to, r.since AS since, "
               "q AS friend, r ORDER BY since")
FILTER = {"must": [{"key": "lang", "match": "go"}, {"key": "year", "range": {"gte": 2010}}]}


def point_vector(i: int) -> list[float]:
    return [((i + 3) * (j + 5) * 37 % 97 - 48) / 8 for j in range(DIMENSION)]


def query_vector() -> list[float]:
    return [((j * 29 + 11) % 23 - 11) / 4 for j in range(DIMENSION)]


def stream_query_vector(t: int) -> list[float]:
    return [((j + 1) * (t + 7) * 13 % 31 - 15) / 2 for j in range(DIMENSION)]


def point_id(i: int) -> int | uuid.UUID:
    return uuid.UUID(UUID_ID) if i == UUID_POINT else i + 1


def point_payload(i: int) -> dict:
    payload = {"lang": LANGS[i % 3], "year": 2000 + i, "score": i + 0.5, "draft": i % 2 == 0,
               "tags": [f"t{i % 4}", i], "meta": {"rank": i % 5, "ratio": i / 4}}
    if i % 7 == 0:
        payload["note"] = None
    return payload


# ---- tool availability: skip on a workstation, fail in CI ----

def _built(make):
    try:
        return make()
    except build.ToolMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(f"polyglot client cannot be built in CI: {missing}")
        pytest.skip(f"polyglot client cannot be built here: {missing}")


@pytest.fixture(scope="module")
def go_client() -> pathlib.Path:
    return _built(build.go_client)


@pytest.fixture(scope="module")
def cpp_client() -> pathlib.Path:
    return _built(build.cpp_client)


# ---- the Python client's answers: the reference ----

def _hits(hits) -> list[dict]:
    return [{"id": hit.id, "score": hit.score, "payload": hit.payload} for hit in hits]


def _graph_value(value):
    if isinstance(value, Node):
        return {"node": {"id": value.id, "labels": value.labels, "properties": value.properties}}
    if isinstance(value, Relationship):
        return {"relationship": {"id": value.id, "type": value.type, "start": value.start, "end": value.end,
                                 "properties": value.properties}}
    if isinstance(value, list):
        return [_graph_value(element) for element in value]
    return value


def _status(call) -> dict:
    with pytest.raises(ruvector.RuVectorError) as failure:
        call()
    return {"code": failure.value.code.value[0], "message": failure.value.message}


def python_scenario(db: ruvector.Client) -> dict:
    """The scenario through the Python client, in the JSON shape the other clients print."""
    db.create_collection(COLLECTION, dimension=DIMENSION, metric="cosine")
    written = db.upsert(COLLECTION, ids=[point_id(i) for i in range(POINT_COUNT)],
                        vectors=[point_vector(i) for i in range(POINT_COUNT)],
                        payloads=[point_payload(i) for i in range(POINT_COUNT)])
    info = db.get_collection(COLLECTION)
    metric_numbers = {name: number for number, name in convert.METRIC_NAMES.items()}
    create = db.graph.execute(CREATE_QUERY, {"a": "Al"})
    match = db.graph.execute(MATCH_QUERY, batch_rows=1)
    return {
        "upserted": written.points_affected,
        "collection": {"name": info.name, "dimension": info.dimension, "metric": metric_numbers[info.metric],
                       "points_count": info.points_count},
        "search": _hits(db.search(COLLECTION, query_vector(), k=6, ef=64)),
        "search_filtered": _hits(db.search(COLLECTION, query_vector(), k=4, filter=FILTER)),
        "search_stream": [_hits(hits) for hits in db.search_stream(
            COLLECTION, [stream_query_vector(t) for t in range(STREAM_QUERIES)], k=3, with_payload=False)],
        "cypher_create": {"nodes_created": create.summary["nodes_created"],
                          "relationships_created": create.summary["relationships_created"]},
        "cypher": {"columns": match.columns, "rows": [[_graph_value(row[c]) for c in match.columns] for row in match.rows],
                   # One row per batch was asked for; the Python client does not count batches.
                   "row_batches": len(match.rows)},
        "errors": {"get_missing": _status(lambda: db.get_collection("missing")),
                   "search_wrong_dimension": _status(lambda: db.search(COLLECTION, [1, 2], k=3))},
    }


def _exact_top(query: list[float], k: int, allowed=lambda i: True) -> list:
    """The ids of the k best points by cosine similarity (brute force), after checking that no
    two of the k + 1 best tie, so that every client must see the same order."""
    points = np.array([point_vector(i) for i in range(POINT_COUNT)], dtype=np.float64)
    similarities = points @ np.array(query) / (np.linalg.norm(points, axis=1) * np.linalg.norm(query))
    ranked = [i for i in np.argsort(-similarities) if allowed(i)][:k + 1]
    gaps = -np.diff(similarities[ranked])
    assert gaps.min() > 1e-4, "the dataset has near-tied scores: change its formulas"
    return [str(point_id(i)) if i == UUID_POINT else point_id(i) for i in ranked[:k]]


@pytest.fixture(scope="module")
def python_answers(tmp_path_factory) -> dict:
    server = RunningServer([], tmp_path_factory.mktemp("polyglot-python") / "data")
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            answers = python_scenario(db)
    finally:
        server.stop()
    # The reference itself is checked against brute force, so a shared mistake cannot hide.
    assert [hit["id"] for hit in answers["search"]] == _exact_top(query_vector(), 6)
    assert [hit["id"] for hit in answers["search_filtered"]] == _exact_top(
        query_vector(), 4, lambda i: LANGS[i % 3] == "go" and 2000 + i >= 2010)
    assert [[hit["id"] for hit in hits] for hits in answers["search_stream"]] == [
        _exact_top(stream_query_vector(t), 3) for t in range(STREAM_QUERIES)]
    assert UUID_ID in [hit["id"] for hit in answers["search"]], "the UUID point should be among the hits"
    return answers


# ---- comparison ----

def assert_same(actual, expected, where: str = "") -> None:
    """Equal values of equal JSON types (an integer is not a float), floats compared exactly."""
    assert type(actual) is type(expected), f"{where}: {actual!r} is not of the type of {expected!r}"
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys(), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, expected {len(expected)}"
        for n, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{n}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_same_hits(actual: list, expected: list, where: str) -> None:
    """Same ids in the same order, scores within SCORE_TOLERANCE, same payloads."""
    assert [hit["id"] for hit in actual] == [hit["id"] for hit in expected], where
    for n, (a, e) in enumerate(zip(actual, expected)):
        assert abs(a["score"] - e["score"]) <= SCORE_TOLERANCE, f"{where}[{n}]: score {a['score']} != {e['score']}"
        assert_same(a["payload"], e["payload"], f"{where}[{n}].payload")


def assert_same_answers(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    assert_same_hits(actual["search"], expected["search"], "search")
    assert_same_hits(actual["search_filtered"], expected["search_filtered"], "search_filtered")
    assert len(actual["search_stream"]) == len(expected["search_stream"])
    for t, (a, e) in enumerate(zip(actual["search_stream"], expected["search_stream"])):
        assert_same_hits(a, e, f"search_stream[{t}]")
    for key in ("upserted", "collection", "cypher_create", "cypher", "errors"):
        assert_same(actual[key], expected[key], key)


# ---- the tests ----

def _run_scenario(language: str, binary: pathlib.Path, address: str) -> dict:
    if language == "go":
        args = [str(binary), "-addr", address, "-create", CREATE_QUERY, "-match", MATCH_QUERY]
    else:
        args = [str(binary), "scenario", "--addr", address, "--create", CREATE_QUERY, "--match", MATCH_QUERY]
    result = subprocess.run(args, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_SECONDS)
    assert result.returncode == 0, f"{language} client failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.mark.parametrize("language", ["go", "cpp"])
def test_client_gets_the_python_clients_answers(request, language, server, python_answers):
    binary = request.getfixturevalue(f"{language}_client")
    answers = _run_scenario(language, binary, server.address)
    assert_same_answers(answers, python_answers)
    # Spot checks that the comparison covers what it should (and is not vacuous).
    assert answers["errors"]["get_missing"]["code"] == 5 and "missing" in answers["errors"]["get_missing"]["message"]
    assert answers["errors"]["search_wrong_dimension"]["code"] == 3
    assert answers["cypher"]["row_batches"] == 2 and len(answers["cypher"]["rows"]) == 2


# ---- interop: server_compressed_unary and server_compressed_streaming from C++ ----

def _start_interop_server(script: pathlib.Path):
    """Runs a grpcio TestService script; returns its process and port."""
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, cwd=script.parent)
    match = re.search(r"listening on \S+:(\d+)", process.stdout.readline())
    if not match:
        process.kill()
        raise RuntimeError(f"{script.name} did not start")
    return process, int(match.group(1))


@pytest.fixture(scope="module")
def reference_port():
    """The grpcio reference TestService, compressing the responses that ask for it."""
    process, port = _start_interop_server(HERE / "compressing_interop_server.py")
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def uncompressing_reference_port():
    """The grpcio reference TestService as it is: it never compresses."""
    process, port = _start_interop_server(HERE.parent / "grpcio_interop_server.py")
    yield port
    process.terminate()
    process.wait(timeout=10)


COMPRESSION_CASES = ["server_compressed_unary", "server_compressed_streaming"]


def _interop(cpp_client: pathlib.Path, port: int, case: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(cpp_client), "interop", "--server_host", "127.0.0.1", "--server_port", str(port),
                           "--test_case", case], capture_output=True, text=True, timeout=CLIENT_TIMEOUT_SECONDS)


@pytest.mark.parametrize("target", ["grpcio-reference", "ruvector"])
@pytest.mark.parametrize("case", COMPRESSION_CASES)
def test_cpp_server_compressed_interop(request, cpp_client, case, target):
    port = request.getfixturevalue("reference_port") if target == "grpcio-reference" else \
        request.getfixturevalue("h2c_server").port
    result = _interop(cpp_client, port, case)
    assert result.returncode == 0, f"{case} against {target}:\n{result.stdout}\n{result.stderr}"
    assert f"PASS {case}" in result.stdout


@pytest.mark.parametrize("case", COMPRESSION_CASES)
def test_cpp_compression_check_fails_on_uncompressed_responses(cpp_client, uncompressing_reference_port, case):
    """The client reads the flag off the wire: uncompressed answers fail the case."""
    result = _interop(cpp_client, uncompressing_reference_port, case)
    assert result.returncode == 1, f"{case} passed against a server that never compresses:\n{result.stdout}"
    assert "FAIL" in result.stdout and "not compressed" in result.stdout
