"""The `ruvector` CLI end to end: every subcommand against the real server binary, --json output
parsed and checked against numpy brute force, .npy / .fvecs / JSON-lines imports, TLS, and the
exit codes of each kind of failure. The CLI is RUVECTOR_CLI_BINARY, else the `ruvector` binary
next to the server binary; each test gets its own server (conftest's `server` fixture)."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import ruvector
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer

CLI = pathlib.Path(os.environ.get("RUVECTOR_CLI_BINARY") or pathlib.Path(os.environ.get("RUVECTOR_SERVER_BINARY", "")).parent / "ruvector")


def run(*args, server=None, env=None, check=None):
    """Runs the CLI; returns (exit code, stdout, stderr). With check=True, requires success."""
    command = [str(CLI), *map(str, args)]
    if server is not None:
        command += ["--server", server.address]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, **(env or {})})
    if check:
        assert result.returncode == 0, f"{command}: {result.returncode}\n{result.stderr}"
    return result.returncode, result.stdout, result.stderr


def run_json(*args, server):
    _, out, _ = run(*args, "--json", server=server, check=True)
    return json.loads(out)


def points(n, dim, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, dim)).astype("<f4")


def brute_force_l2(data, ids, query, k, mask=None):
    """Top-k ids and scores (minus squared L2 distance, as the server reports)."""
    scores = -((data - query) ** 2).sum(axis=1)
    order = [i for i in np.argsort(-scores, kind="stable") if mask is None or mask[i]][:k]
    return [int(ids[i]) for i in order], [float(scores[i]) for i in order]


def assert_hits(hits, expected_ids, expected_scores):
    assert [h["id"] for h in hits] == expected_ids
    assert np.allclose([h["score"] for h in hits], expected_scores, rtol=1e-4, atol=1e-5)


def write_fvecs(path, data):
    with open(path, "wb") as f:
        for row in data:
            np.array([len(row)], dtype="<i4").tofile(f)
            row.astype("<f4").tofile(f)


def test_binary_is_present():
    assert CLI.is_file() and os.access(CLI, os.X_OK), f"build the CLI first: {CLI}"


def test_collections_lifecycle(server):
    info = run_json("collections", "create", "life", "--dimension", 4, "--metric", "dot", "--m", 8, server=server)
    assert info["name"] == "life" and info["dimension"] == 4 and info["metric"] == "dot" and info["hnsw"]["m"] == 8
    assert info["points_count"] == 0

    code, _, err = run("collections", "create", "life", "--dimension", 4, server=server)
    assert code == 1 and "ALREADY_EXISTS" in err

    assert "life" in [c["name"] for c in run_json("collections", "list", server=server)]
    code, table, _ = run("collections", "list", server=server, check=True)
    assert table.splitlines()[0].split() == ["NAME", "DIMENSION", "METRIC", "POINTS", "INDEX"]
    assert any(line.split()[:3] == ["life", "4", "dot"] for line in table.splitlines()[1:])
    assert run_json("collections", "get", "life", server=server)["metric"] == "dot"

    deleted = run_json("collections", "delete", "life", server=server)
    assert deleted == {"name": "life", "points_deleted": 0}
    code, _, err = run("collections", "get", "life", server=server)
    assert code == 1 and "NOT_FOUND" in err and "life" in err
    code, _, err = run("collections", "create", "bad", "--dimension", 4, "--metric", "hamming", server=server)
    assert code == 64 and "--metric" in err


def test_tiered_and_int4_collections(server, tmp_path):
    info = run_json("collections", "create", "tiers", "--dimension", 8, "--metric", "l2", "--quantization", "tiered",
                    "--hot-threshold", 500, "--retier-interval", 50, server=server)
    assert info["quantization"] == "tiered" and "tiers" not in info
    data = points(1100, 8, seed=4)
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps({"id": i, "vector": v.tolist()}) + "\n" for i, v in enumerate(data)))
    # Trained after the write that passes 1024 points: all 1100 start warm.
    run("upsert", "--collection", "tiers", "--file", path, "--batch-size", 550, server=server, check=True)
    info = run_json("collections", "get", "tiers", server=server)
    assert info["tiers"]["warm"] == 1100 and info["tiers"]["passes"] == 0 and info["tiers"]["code_bytes"] == 1100 * 16
    _, table, _ = run("collections", "get", "tiers", server=server, check=True)
    assert "hot=0 warm=1100 cool=0 cold=0 archive=0" in table
    info = run_json("collections", "create", "small", "--dimension", 8, "--quantization", "int4", server=server)
    assert info["quantization"] == "int4", info
    code, _, err = run("collections", "create", "flat", "--dimension", 8, "--hot-threshold", 500, server=server)
    assert code == 64 and "--quantization tiered" in err
    code, _, err = run("collections", "create", "t2", "--dimension", 8, "--quantization", "tiered", "--hot-threshold", 2_000_000,
                       server=server)
    assert code == 1 and "INVALID_ARGUMENT" in err and "hot threshold" in err


def test_jsonl_upsert_and_search_match_brute_force(server, tmp_path):
    data = points(300, 6, seed=1)
    langs = ["swift", "c", "rust"]
    path = tmp_path / "points.jsonl"
    with open(path, "w") as f:
        for i, row in enumerate(data):
            payload = {"lang": langs[i % 3], "year": 2000 + i % 25, "score": i / 10}
            f.write(json.dumps({"id": i, "vector": [float(x) for x in row], "payload": payload}) + "\n")
            if i % 50 == 0:
                f.write("\n")  # blank lines are skipped
    run_json("collections", "create", "docs", "--dimension", 6, "--metric", "l2", server=server)
    code, out, err = run("upsert", "--collection", "docs", "--file", path, "--batch-size", 64, "--json", server=server, check=True)
    assert json.loads(out)["points_affected"] == 300
    assert "300/300 points" in err and "100%" in err  # the progress bar's last line

    ids = np.arange(300)
    query = points(1, 6, seed=2)[0]
    vector_arg = json.dumps([float(x) for x in query])
    hits = run_json("search", "--collection", "docs", "--vector", vector_arg, "--k", 10, "--ef", 400, server=server)
    assert_hits(hits, *brute_force_l2(data, ids, query, 10))

    # Filters: the short form and the full form, checked against the same mask here.
    is_swift = np.array([i % 3 == 0 for i in range(300)])
    short = run_json("search", "--collection", "docs", "--vector", vector_arg, "--k", 5, "--filter", '{"lang": "swift"}',
                     "--with-payload", server=server)
    assert_hits(short, *brute_force_l2(data, ids, query, 5, is_swift))
    assert all(h["payload"]["lang"] == "swift" for h in short)
    full = {"must": [{"key": "year", "range": {"gte": 2010}}], "must_not": [{"key": "lang", "match": {"any": ["c", "rust"]}}]}
    mask = np.array([i % 3 == 0 and 2000 + i % 25 >= 2010 for i in range(300)])
    hits = run_json("search", "--collection", "docs", "--vector", vector_arg, "--k", 7, "--filter", json.dumps(full), server=server)
    assert_hits(hits, *brute_force_l2(data, ids, query, 7, mask))

    paged = run_json("search", "--collection", "docs", "--vector", vector_arg, "--k", 4, "--offset", 6, "--ef", 400, server=server)
    ten_ids, ten_scores = brute_force_l2(data, ids, query, 10)
    assert_hits(paged, ten_ids[6:], ten_scores[6:])

    _, table, _ = run("search", "--collection", "docs", "--vector", vector_arg, "--k", 3, "--with-payload", server=server, check=True)
    lines = table.splitlines()
    assert lines[0].split() == ["RANK", "ID", "SCORE", "PAYLOAD"] and len(lines) == 4
    assert lines[1].split()[1] == str(brute_force_l2(data, ids, query, 1)[0][0])

    assert run_json("count", "--collection", "docs", server=server) == {"count": 300}
    assert run_json("count", "--collection", "docs", "--filter", json.dumps(full), server=server) == {"count": int(mask.sum())}
    _, out, _ = run("count", "--collection", "docs", server=server, check=True)
    assert out.strip() == "300"

    got = run_json("get", "--collection", "docs", "--id", 7, "--id", 99999, "--with-vectors", server=server)
    assert [p["id"] for p in got] == [7] and got[0]["payload"] == {"lang": "c", "year": 2007, "score": 0.7}
    assert np.allclose(got[0]["vector"], data[7])
    assert run_json("get", "--collection", "docs", "--id", 7, "--payload-key", "year", server=server)[0]["payload"] == {"year": 2007}
    keyed = run_json("search", "--collection", "docs", "--vector", vector_arg, "--k", 2, "--payload-key", "lang", server=server)
    assert all(set(h["payload"]) == {"lang"} for h in keyed)

    assert run_json("delete", "--collection", "docs", "--id", 1, "--id", 2, server=server)["points_affected"] == 2
    deleted = run_json("delete", "--collection", "docs", "--filter", '{"lang": "rust"}', server=server)["points_affected"]
    assert deleted == sum(1 for i in range(300) if i % 3 == 2 and i not in (1, 2))
    assert run_json("count", "--collection", "docs", server=server)["count"] == 300 - 2 - deleted


def test_upsert_from_standard_input(server):
    run_json("collections", "create", "piped", "--dimension", 2, "--metric", "l2", server=server)
    lines = "".join(json.dumps({"id": i, "vector": [i, -i], "payload": {"n": i}}) + "\n" for i in range(25))
    result = subprocess.run([str(CLI), "upsert", "--collection", "piped", "--file", "-", "--json", "--server", server.address],
                            input=lines, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["points_affected"] == 25
    assert run_json("get", "--collection", "piped", "--id", 24, server=server)[0]["payload"] == {"n": 24}


def test_npy_and_fvecs_imports(server, tmp_path):
    data = points(500, 8, seed=3)
    np.save(tmp_path / "a.npy", data)
    np.save(tmp_path / "b64.npy", points(50, 8, seed=4).astype("<f8"))
    extra = points(200, 8, seed=5)
    write_fvecs(tmp_path / "c.fvecs", extra)
    run_json("collections", "create", "bulk", "--dimension", 8, "--metric", "l2", server=server)

    assert run_json("upsert", "--collection", "bulk", "--file", tmp_path / "a.npy", "--start-id", 1000,
                    server=server)["points_affected"] == 500
    assert run_json("upsert", "--collection", "bulk", "--file", tmp_path / "c.fvecs", "--start-id", 5000,
                    "--batch-size", 33, server=server)["points_affected"] == 200
    assert run_json("upsert", "--collection", "bulk", "--file", tmp_path / "b64.npy", "--start-id", 9000,
                    server=server)["points_affected"] == 50
    assert run_json("count", "--collection", "bulk", server=server) == {"count": 750}
    got = run_json("get", "--collection", "bulk", "--id", 1000, "--id", 1499, "--id", 5199, "--with-vectors", server=server)
    assert [p["id"] for p in got] == [1000, 1499, 5199]
    assert np.allclose(got[0]["vector"], data[0]) and np.allclose(got[1]["vector"], data[499])
    assert np.allclose(got[2]["vector"], extra[199])

    # A file of queries goes over SearchStream; answers come back in query order.
    queries = points(6, 8, seed=6)
    np.save(tmp_path / "q.npy", queries)
    all_data = np.concatenate([data, extra])
    all_ids = np.concatenate([np.arange(1000, 1500), np.arange(5000, 5200)])
    mask = np.ones(len(all_data), dtype=bool)
    answers = run_json("search", "--collection", "bulk", "--vector-file", tmp_path / "q.npy", "--k", 5, "--ef", 400, server=server)
    assert len(answers) == 6
    f64 = points(50, 8, seed=4).astype("<f4")
    for query, hits in zip(queries, answers):
        ids = list(all_ids) + list(range(9000, 9050))
        expected = brute_force_l2(np.concatenate([all_data, f64]), np.array(ids), query, 5, np.concatenate([mask, np.ones(50, bool)]))
        assert_hits(hits, *expected)
    write_fvecs(tmp_path / "q.fvecs", queries[:2])
    assert len(run_json("search", "--collection", "bulk", "--vector-file", tmp_path / "q.fvecs", server=server)) == 2


def test_bad_input_files(server, tmp_path):
    run_json("collections", "create", "strict", "--dimension", 3, "--metric", "l2", server=server)
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 3), dtype="<f4"))
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "cube.npy", server=server)
    assert code == 65 and "2-D" in err
    np.save(tmp_path / "ints.npy", np.zeros((2, 3), dtype="<i4"))
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "ints.npy", server=server)
    assert code == 65 and "dtype" in err
    (tmp_path / "short.fvecs").write_bytes(np.array([3], dtype="<i4").tobytes() + b"\0" * 5)
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "short.fvecs", server=server)
    assert code == 65 and "records" in err
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "vector": [1, 2, 3]}\n{"id": 2, "vector": [1, "x", 3]}\n')
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "bad.jsonl", "--no-progress", server=server)
    assert code == 65 and "bad.jsonl:2" in err
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "missing.npy", server=server)
    assert code == 65 and "missing.npy" in err
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "cube.txt", server=server)
    assert code == 64 and "--format" in err
    np.save(tmp_path / "two.npy", np.zeros((2, 3), dtype="<f4"))
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "two.npy", "--start-id", 2**64 - 1, server=server)
    assert code == 64 and "--start-id" in err
    # Input is checked before connecting: a bad file is reported even with no server.
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "missing.npy", "--server", "127.0.0.1:1")
    assert code == 65 and "missing.npy" in err

    # The server refuses a wrong dimension: exit 1 with its status and message.
    np.save(tmp_path / "wide.npy", np.zeros((4, 5), dtype="<f4"))
    code, _, err = run("upsert", "--collection", "strict", "--file", tmp_path / "wide.npy", server=server)
    assert code == 1 and "INVALID_ARGUMENT" in err
    code, _, err = run("upsert", "--collection", "absent", "--file", tmp_path / "wide.npy", server=server)
    assert code == 1 and "NOT_FOUND" in err


def test_usage_and_connection_errors(server, tmp_path):
    code, _, err = run("search", "--collection", "x", "--vector", "[1, 2", server=server)
    assert code == 64 and "--vector" in err
    code, _, err = run("search", "--collection", "x", server=server)
    assert code == 64 and "exactly one" in err
    code, _, err = run("count", "--collection", "x", "--filter", '{"must": [{"key": "a", "range": {"near": 1}}]}', server=server)
    assert code == 64 and "near" in err
    code, _, err = run("count", "--collection", "x", "--server", "nonsense")
    assert code == 64 and "HOST:PORT" in err

    # Nothing listens on the port of a stopped server.
    stopped = RunningServer([], tmp_path / "gone")
    stopped.stop()
    code, _, err = run("collections", "list", "--server", stopped.address)
    assert code == 69 and "UNAVAILABLE" in err

    # RUVECTOR_SERVER is used when --server is absent; --server may also come before the subcommand.
    code, out, _ = run("collections", "list", "--json", env={"RUVECTOR_SERVER": server.address})
    assert code == 0 and isinstance(json.loads(out), list)
    code, out, _ = run("--server", server.address, "--json", "collections", "list")
    assert code == 0 and isinstance(json.loads(out), list)


def test_snapshots(server, tmp_path):
    run_json("collections", "create", "snap", "--dimension", 4, "--metric", "cosine", server=server)
    data = points(120, 4, seed=7)
    np.save(tmp_path / "s.npy", data)
    run("upsert", "--collection", "snap", "--file", tmp_path / "s.npy", server=server, check=True)
    query = json.dumps([0.5, -0.1, 0.2, 0.7])
    before = run_json("search", "--collection", "snap", "--vector", query, "--k", 8, server=server)

    created = run_json("snapshot", "create", "--collection", "snap", server=server)
    assert len(created) == 1 and created[0]["collection"] == "snap" and created[0]["size_bytes"] > 0
    name = created[0]["name"]
    listed = run_json("snapshot", "list", "--collection", "snap", server=server)
    assert name in [s["name"] for s in listed]
    _, table, _ = run("snapshot", "list", "--collection", "snap", server=server, check=True)
    assert table.splitlines()[0].split()[:2] == ["NAME", "SIZE"] and name in table

    out_file = tmp_path / "snap.rvsnap"
    downloaded = run_json("snapshot", "download", "--collection", "snap", "--name", name, "--output", out_file, server=server)
    assert downloaded["size_bytes"] == created[0]["size_bytes"] == out_file.stat().st_size

    run_json("delete", "--collection", "snap", "--id", 0, "--id", 1, "--id", 2, server=server)
    restored = run_json("snapshot", "restore", "--collection", "snap", "--name", name, server=server)
    assert restored["points_count"] == 120
    assert run_json("search", "--collection", "snap", "--vector", query, "--k", 8, server=server) == before

    copy = run_json("snapshot", "restore", "--collection", "snapcopy", "--file", out_file, server=server)
    assert copy["name"] == "snapcopy" and copy["points_count"] == 120
    assert run_json("search", "--collection", "snapcopy", "--vector", query, "--k", 8, server=server) == before

    code, _, err = run("snapshot", "download", "--collection", "snap", "--name", "nope", "--output", tmp_path / "x", server=server)
    assert code == 1 and not (tmp_path / "x").exists()
    code, _, err = run("snapshot", "restore", "--collection", "snap", server=server)
    assert code == 64 and "exactly one" in err


def test_learn_feedback_status_and_configure(server, tmp_path):
    run_json("collections", "create", "fb", "--dimension", 4, "--metric", "l2", server=server)
    np.save(tmp_path / "f.npy", points(30, 4, seed=2))
    run("upsert", "--collection", "fb", "--file", tmp_path / "f.npy", server=server, check=True)
    assert run_json("learn", "feedback", "--collection", "fb", "--query-id", 1, "--shown", 2, "--shown", 3,
                    "--click", 3, server=server) == {"feedback_records": 1}
    assert run_json("learn", "feedback", "--collection", "fb", "--query", json.dumps([0.1, 0.2, 0.3, 0.4]),
                    "--grade", "5=7", server=server) == {"feedback_records": 2}
    status = run_json("learn", "status", "--collection", "fb", server=server)
    assert status["feedback_records"] == 2 and status["version"] == 0 and "no model" in status["note"]
    assert run_json("learn", "configure", "--collection", "fb", "--hidden-size", 64, server=server)["hidden_size"] == 64
    code, _, err = run("learn", "feedback", "--collection", "fb", "--query-id", 1, "--grade", "2=11", server=server)
    assert code == 1 and "grades are 0..10" in err
    code, _, err = run("learn", "feedback", "--collection", "fb", "--query-id", 1, "--grade", "two", server=server)
    assert code == 64 and "ID=GRADE" in err


def test_learn_train_export_and_import(server, tmp_path):
    data = points(300, 8, seed=9)
    for name in ("tr", "copy"):
        run_json("collections", "create", name, "--dimension", 8, "--metric", "l2", server=server)
        np.save(tmp_path / "p.npy", data)
        run("upsert", "--collection", name, "--file", tmp_path / "p.npy", server=server, check=True)
    code, _, err = run("learn", "train", "--collection", "tr", server=server)
    assert code == 1 and "no feedback" in err
    code, _, err = run("learn", "export", "--collection", "tr", "--output", tmp_path / "m.bin", server=server)
    assert code == 1 and "no active model" in err and not (tmp_path / "m.bin").exists()
    (tmp_path / "junk.bin").write_bytes(b"\x01" * 100)
    code, _, err = run("learn", "import", "--collection", "copy", "--input", tmp_path / "junk.bin", server=server)
    assert code == 1 and "not a model" in err
    code, _, err = run("learn", "import", "--collection", "copy", "--input", tmp_path / "absent.bin", server=server)
    assert code != 0 and "absent.bin" in err

    # Relevance the first coordinate decides (plain distance ignores it): graded feedback, then train.
    with ruvector.Client(server.address, timeout=60) as db:
        for q in range(240):
            shown = [h.id for h in db.search("tr", data[q], k=30)]
            db.learn.feedback("tr", query=data[q], shown=shown, judgements={i: int(data[i][0] > 0.3) for i in shown})
        db.learn.configure("tr", hidden_size=8, heads=2, position_bias=-1)
    code, out, err = run("learn", "train", "--collection", "tr", "--epochs", 10, "--seed", 1, server=server)
    assert code == 0, err
    assert "epoch 1 " in out and "VERSION" in out
    status = run_json("learn", "status", "--collection", "tr", server=server)
    assert status["latest_version"] == 1
    if status["version"] == 0:
        pytest.fail(f"the model did not beat the HNSW order on the hold-out: {status}")
    exported = run_json("learn", "export", "--collection", "tr", "--output", tmp_path / "m.bin", server=server)
    assert exported["bytes"] == (tmp_path / "m.bin").stat().st_size > 0
    imported = run_json("learn", "import", "--collection", "copy", "--input", tmp_path / "m.bin", server=server)
    assert imported["version"] == 1 and imported["activated"]


def test_tls(tls_server):
    tls = ["--server", tls_server.address, "--ca-file", TEST_CERTS / "ca.pem", "--server-name", TLS_HOST_OVERRIDE]
    code, out, err = run("collections", "list", "--json", *tls)
    assert code == 0, err
    assert isinstance(json.loads(out), list)
    # Without the test CA the server's certificate cannot be verified: the CLI says so.
    code, _, err = run("collections", "list", "--tls", "--server", tls_server.address, "--server-name", TLS_HOST_OVERRIDE)
    assert code == 69 and "UNAVAILABLE" in err
    assert "not signed by a CA this client trusts" in err and "--ca-file" in err, err


# Why a connection failed, as the CLI prints it: each case against a real server.

def test_tls_to_a_plaintext_server_says_so(server):
    code, _, err = run("collections", "list", "--tls", server=server)
    assert code == 69 and "plaintext HTTP/2" in err and "leave out --tls" in err, err


def test_plaintext_to_a_tls_server_says_so(tls_server):
    code, _, err = run("collections", "list", "--server", tls_server.address)
    assert code == 69 and "requires TLS" in err and "add --tls" in err, err


def test_certificate_name_mismatch_says_so(tls_server):
    code, _, err = run("collections", "list", "--server", tls_server.address, "--ca-file", TEST_CERTS / "ca.pem",
                       "--server-name", "wrong.example.com")
    assert code == 69 and "not valid for the name 'wrong.example.com'" in err and "--server-name" in err, err


def test_missing_client_certificate_says_so(mtls_server):
    code, _, err = run("collections", "list", "--server", mtls_server.address, "--ca-file", TEST_CERTS / "ca.pem",
                       "--server-name", TLS_HOST_OVERRIDE)
    assert code == 69 and "requires a client certificate" in err and "--cert" in err, err


def _expired_certificate(directory: pathlib.Path):
    """A CA and a server certificate for `localhost` that expired in 2020 (`openssl ca`)."""
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("01\n")
    (directory / "ca.cnf").write_text(f"""
[ca]
default_ca = test
[test]
database = {directory}/index.txt
serial = {directory}/serial
new_certs_dir = {directory}
certificate = {directory}/ca.pem
private_key = {directory}/ca.key
default_md = sha256
policy = anything
copy_extensions = copy
[anything]
commonName = supplied
""")
    def openssl(*args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory / "ca.key", "-out", directory / "ca.pem",
            "-days", "3650", "-subj", "/CN=ruvector test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", directory / "server.key", "-out", directory / "server.csr",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    openssl("ca", "-batch", "-config", directory / "ca.cnf", "-in", directory / "server.csr", "-out", directory / "server.pem",
            "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext")
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


def test_expired_server_certificate_says_so(tmp_path):
    ca, cert, key = _expired_certificate(tmp_path)
    server = RunningServer(["--tls-cert", cert, "--tls-key", key], tmp_path / "data")
    try:
        code, _, err = run("collections", "list", "--server", server.address, "--ca-file", ca, "--server-name", "localhost")
        assert code == 69 and "outside its validity period" in err and "certificate has expired" in err, err
    finally:
        assert server.stop() == 0


def test_tls_server_without_http2_says_so():
    """A TLS server that does not offer HTTP/2 by ALPN (a plain Python TLS listener: ours always
    does), with a certificate the CLI trusts."""
    import socket
    import ssl
    import threading

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TEST_CERTS / "server1.pem", TEST_CERTS / "server1.key")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)

    def serve_one():
        try:
            connection, _ = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(10)
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        code, _, err = run("collections", "list", "--server", f"127.0.0.1:{listener.getsockname()[1]}",
                           "--ca-file", TEST_CERTS / "ca.pem", "--server-name", TLS_HOST_OVERRIDE)
        assert code == 69 and "did not agree to HTTP/2 (ALPN h2)" in err, err
    finally:
        listener.close()
        thread.join(timeout=15)


def test_cypher(server):
    code, out, _ = run("cypher", "CREATE (a:Person {name: $n})-[:KNOWS]->(:Person {name: 'Bo'}) RETURN a.name AS name",
                       "--param", 'n="Ann"', server=server)
    assert code == 0 and "name" in out and "Ann" in out and "nodes created: 2" in out
    result = run_json("cypher", "MATCH (a)-[r:KNOWS]->(b) RETURN a, r, b.name AS b ORDER BY b", server=server)
    assert result["columns"] == ["a", "r", "b"] and len(result["rows"]) == 1
    a, r, b = result["rows"][0]
    assert a["labels"] == ["Person"] and a["properties"] == {"name": "Ann"} and r["type"] == "KNOWS" and b == "Bo"
    assert r["start"] == a["id"] and result["summary"]["rows"] == 1
    # Statements from standard input, ended by ';'; an error is reported and the others still run.
    script = "CREATE (:T {i: 1});\nMATCH (t:T)\nRETURN count(t) AS n;\nMATCH (n RETURN n;\nMATCH (t:T) RETURN t.i AS i;\n"
    result = subprocess.run([str(CLI), "cypher", "--server", server.address, "--json"], input=script,
                            capture_output=True, text=True, timeout=60)
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["rows"] for o in outputs] == [[], [[1]], [[1]]]
    assert result.returncode == 1 and "syntax error at line 1" in result.stderr
    code, _, err = run("cypher", "RETURN 1", "--param", "broken", server=server)
    assert code == 64 and "NAME=JSON" in err


def test_cluster_commands(tmp_path):
    import time
    from conftest import one_node_cluster
    node = one_node_cluster(tmp_path / "data")
    try:
        deadline = time.monotonic() + 10
        while run_json("cluster", "status", "--stale-ok", server=node)["leader"] != 1:
            assert time.monotonic() < deadline, "no leader"
            time.sleep(0.05)
        run("collections", "create", "docs", "--dimension", "3", server=node, check=True)
        state = run_json("cluster", "settings", "--replication-factor", "2", "--replication-mode", "sync", server=node)
        assert (state["replication_factor"], state["replication_mode"]) == (2, "sync")
        state = run_json("cluster", "status", server=node)
        assert state["leader"] == 1 and state["collections"] == ["docs"] and not state["stale"]
        assert [(m["id"], m["role"]) for m in state["members"]] == [(1, "voter")]
        _, table, _ = run("cluster", "status", server=node, check=True)
        assert "NODE" in table and "leader" in table and "replication:  factor 2, mode sync" in table
        code, _, err = run("cluster", "settings", "--replication-factor", "2", "--replication-mode", "fast", server=node)
        assert code == 64 and "--replication-mode" in err
        code, _, err = run("cluster", "leave", "1", server=node)
        assert code == 1 and "FAILED_PRECONDITION" in err
    finally:
        node.stop()


def test_cluster_status_on_a_single_server(server):
    code, _, err = run("cluster", "status", server=server)
    assert code == 1 and "--node-id" in err


def test_api_keys_from_the_environment_or_the_flag(tmp_path):
    """The CLI (and the Swift client under it) sends RUVECTOR_API_KEY or --api-key with every
    call; without one it says what to set; the key never appears in what it prints."""
    secured = RunningServer(["--api-key", "cli-admin-key-0123", "--read-only-api-key", "cli-read-key-0123"], tmp_path / "data")
    try:
        code, _, err = run("collections", "list", server=secured, env={"RUVECTOR_API_KEY": ""})
        assert code == 1 and "UNAUTHENTICATED" in err and "RUVECTOR_API_KEY" in err, err
        run("collections", "create", "docs", "--dimension", "2", server=secured, env={"RUVECTOR_API_KEY": "cli-admin-key-0123"},
            check=True)
        code, out, err = run("collections", "list", "--json", "--api-key", "cli-read-key-0123", server=secured)
        assert code == 0 and [c["name"] for c in json.loads(out)] == ["docs"], err
        code, out, err = run("collections", "delete", "docs", server=secured,
                             env={"RUVECTOR_API_KEY": "cli-read-key-0123"})
        assert code == 1 and "PERMISSION_DENIED" in err and "cli-read-key" not in out + err, err
        code, _, err = run("collections", "list", "--api-key", "wrong-key", server=secured)
        assert code == 1 and "UNAUTHENTICATED" in err and "wrong-key" not in err, err
    finally:
        assert secured.stop() == 0


def test_route_create_route_outcome_train_and_status(server):
    assert run_json("route", "create", "--router", "llm", "--candidate", "small=1", "--candidate", "large=10",
                    "--feature-size", 2, "--breaker-failures", 3, server=server) == {"router": "llm"}
    first = run_json("route", "route", "--router", "llm", "--features", "[0.5, 1]", "--request-id", "q0", server=server)
    assert first["reason"] == "untrained" and first["request_id"] == "q0" and first["model_version"] == 0
    code, _, err = run("route", "train", "--router", "llm", server=server)
    assert code == 1 and "labelled requests" in err
    # The rule: small serves requests whose first feature is positive; large serves every request.
    for n in range(60):
        x = (n % 12) / 6 - 0.95
        # One request id for both outcomes: the label rule groups them (cheapest that succeeded).
        args = ("--router", "llm", "--features", json.dumps([x, n % 5]), "--request-id", f"q{n}")
        run("route", "outcome", *args, "--candidate", "small", "--success" if x > 0 else "--no-success", server=server, check=True)
        run("route", "outcome", *args, "--candidate", "large", "--success", server=server, check=True)
    code, out, err = run("route", "train", "--router", "llm", "--epochs", 15, "--seed", 1, server=server)
    assert code == 0, err
    assert "epoch 1 " in out and "MODEL" in out
    status = run_json("route", "status", "--router", "llm", server=server)
    assert status["model_version"] == 1 and status["outcomes_recorded"] == 120 and status["evaluation_count"] > 0
    assert status["breakers"]["small"] in ("open", "closed") and status["breakers"]["large"] == "closed"
    assert run_json("route", "route", "--router", "llm", "--features", "[-0.9, 1]", server=server)["reason"] != "untrained"
    code, _, err = run("route", "create", "--router", "bad", "--candidate", "x", "--feature-size", 2, server=server)
    assert code == 64 and "NAME=COST" in err
    code, _, err = run("route", "route", "--router", "ghost", "--features", "[1, 2]", server=server)
    assert code == 1 and "does not exist" in err


def test_route_semantic_routes_export_and_import(server, tmp_path):
    assert run_json("route", "create", "--router", "sem", "--candidate", "a=1", "--candidate", "b=2", "--feature-size", 2,
                    "--outcome-window", 200, server=server) == {"router": "sem"}
    billing = [[1, 0, 0.1], [0.9, 0.1, 0], [1, 0.2, 0]]
    examples = tmp_path / "billing.json"
    examples.write_text(json.dumps(billing))
    registered = run_json("route", "register-route", "--router", "sem", "--name", "billing", "--examples", f"@{examples}",
                          "--threshold", 0.9, server=server)
    assert registered["route"] == "billing" and registered["examples"] == 3 and registered["threshold"] == pytest.approx(0.9)
    run("route", "register-route", "--router", "sem", "--name", "weather", "--examples", "[[0,1,0],[0.1,1,0],[0,0.9,0.1]]",
        "--threshold", 0.9, server=server, check=True)
    assert [r["name"] for r in run_json("route", "routes", "--router", "sem", server=server)] == ["billing", "weather"]
    matched = run_json("route", "match", "--router", "sem", "--embedding", "[1, 0.05, 0]", "--limit", 2, server=server)
    assert matched[0]["route"] == "billing" and matched[0]["similarity"] > 0.9
    assert run_json("route", "match", "--router", "sem", "--embedding", "[0, 0, 1]", server=server) == []
    _, out, _ = run("route", "match", "--router", "sem", "--embedding", "[0, 0, 1]", server=server, check=True)
    assert "no route" in out

    queries = [{"embedding": e, "route": "billing"} for e in billing] + [{"embedding": [0, 1, 0.05], "route": "weather"},
                                                                        {"embedding": [0, 0, 1], "route": None}]
    fit = run_json("route", "fit-threshold", "--router", "sem", "--queries", json.dumps(queries), server=server)
    assert fit["accuracy"] == 1.0 and fit["false_match_rate"] == 0.0 and 0 < fit["threshold"] <= 1
    assert {r["threshold"] for r in run_json("route", "routes", "--router", "sem", server=server)} == {fit["threshold"]}

    exported = tmp_path / "sem.router"
    written = run_json("route", "export", "--router", "sem", "--output", exported, server=server)
    assert written["bytes"] == exported.stat().st_size > 0
    assert run_json("route", "import", "--router", "copy", "--input", exported, server=server)["router"] == "copy"
    assert run_json("route", "routes", "--router", "copy", server=server) == run_json("route", "routes", "--router", "sem", server=server)
    run("route", "delete-route", "--router", "copy", "--name", "billing", server=server, check=True)
    assert [r["name"] for r in run_json("route", "routes", "--router", "copy", server=server)] == ["weather"]
    status = run_json("route", "status", "--router", "sem", server=server)
    assert status["outcome_log_records"] == 0 and status["outcome_log_bytes"] > 0

    code, _, err = run("route", "register-route", "--router", "sem", "--name", "x", "--examples", "[1, 2]", server=server)
    assert code == 64 and "--examples" in err
    code, _, err = run("route", "fit-threshold", "--router", "sem", "--queries", '[{"route": "billing"}]', server=server)
    assert code == 64 and "embedding" in err
    code, _, err = run("route", "import", "--router", "other", "--input", tmp_path / "missing.router", server=server)
    assert code != 0 and "missing.router" in err
    code, _, err = run("route", "import", "--router", "copy", "--input", exported, server=server)
    assert code == 1 and "already exists" in err
    code, _, err = run("route", "delete-route", "--router", "copy", "--name", "billing", server=server)
    assert code == 1 and "billing" in err
