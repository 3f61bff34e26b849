"""Peers for vector-bench: hnswlib, usearch and simsimd on the files vector-bench wrote.
Prints one JSON object on stdout. Usage:
peer.py DIR N DIM NQ M EFC EF1,EF2,... [CONCURRENT_EF] [BUILD_THREADS] [QUANTIZED] [PEERS] [CACHE] [SEED]
BUILD_THREADS > 0: hnswlib and usearch build once, on that many threads (else hnswlib builds on
one thread and on all cores, usearch on one thread). QUANTIZED = 1: usearch also on f16.
PEERS: comma-separated graph peers to run (default hnswlib,usearch). CACHE = 1: hnswlib's index is
loaded from DIR when an earlier run saved it there (no build time then), else built and saved.
SEED: hnswlib's random_seed (default 1)."""
import json, os, sys, tempfile, time
import numpy as np

d, n, dim, nq, m, efc = sys.argv[1], *map(int, sys.argv[2:7])
efs = [int(x) for x in sys.argv[7].split(",")]
concurrent_ef = int(sys.argv[8]) if len(sys.argv) > 8 else 64
build_threads = int(sys.argv[9]) if len(sys.argv) > 9 else 0
quantized = len(sys.argv) > 10 and sys.argv[10] == "1"
peers = sys.argv[11].split(",") if len(sys.argv) > 11 else ["hnswlib", "usearch"]
cache = len(sys.argv) > 12 and sys.argv[12] == "1"
seed = int(sys.argv[13]) if len(sys.argv) > 13 else 1
base = np.fromfile(os.path.join(d, "base.f32"), dtype=np.float32).reshape(n, dim)
query = np.fromfile(os.path.join(d, "query.f32"), dtype=np.float32).reshape(nq, dim)
truth = np.fromfile(os.path.join(d, "truth.i32"), dtype=np.int32).reshape(nq, 10)
out = {}

def recall(labels):
    return float(np.mean([len(set(map(int, a[:10])) & set(map(int, b))) / 10 for a, b in zip(labels, truth)]))

def file_bytes(save):
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "index")
        save(p)
        return os.path.getsize(p) / n

# simsimd first: importing hnswlib/usearch before it breaks its buffer type checks.
import simsimd
ns = {}
q1 = np.array(query[:1], dtype=np.float32, copy=True)
b32 = np.array(base, dtype=np.float32, copy=True)
for metric in ("sqeuclidean", "inner", "cosine"):
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter(); simsimd.cdist(q1, b32, metric=metric)
        best = min(best, (time.perf_counter() - t) / n * 1e9)
    ns[metric] = best
out["simsimd_ns"] = ns

def run_hnswlib():
    import hnswlib
    res = {}
    cached = os.path.join(d, f"hnswlib-m{m}-efc{efc}-t{build_threads}-s{seed}.bin")
    if cache and os.path.exists(cached):
        idx = hnswlib.Index(space="l2", dim=dim)
        idx.load_index(cached, max_elements=n)
        print(f"hnswlib: loaded {cached}", file=sys.stderr, flush=True)
    else:
        for threads in ((build_threads,) if build_threads > 0 else (1, -1)):
            idx = hnswlib.Index(space="l2", dim=dim)
            idx.init_index(max_elements=n, M=m, ef_construction=efc, random_seed=seed)
            t = time.perf_counter(); idx.add_items(base, np.arange(n), num_threads=threads)
            key = "build_seconds" if build_threads > 0 else "build_seconds_1thread" if threads == 1 else "build_seconds_all"
            res[key] = time.perf_counter() - t
            print(f"hnswlib build ({threads} threads): {res[key]:.2f} s", file=sys.stderr, flush=True)
        if cache:
            idx.save_index(cached)
    idx.set_num_threads(1)
    sweep = []
    for ef in efs:
        idx.set_ef(ef)
        t = time.perf_counter()
        labels = [idx.knn_query(q, k=10, num_threads=1)[0][0] for q in query]
        sweep.append([ef, recall(labels), nq / (time.perf_counter() - t)])
    res["sweep"] = sweep
    # One call over all queries, on one thread and on all cores (hnswlib's own query threads).
    idx.set_ef(concurrent_ef)
    for threads in (1, -1):
        t = time.perf_counter(); idx.knn_query(query, k=10, num_threads=threads)
        res["batch_search_qps_1thread" if threads == 1 else "batch_search_qps_all"] = nq / (time.perf_counter() - t)
    res["bytes_per_vector"] = file_bytes(idx.save_index)
    return res

if "hnswlib" in peers:
    out["hnswlib"] = run_hnswlib()

from usearch.index import Index
for dtype in (("f32", "f16") if quantized else ("f32",)) if "usearch" in peers else ():
    res = {}
    u = Index(ndim=dim, metric="l2sq", dtype=dtype, connectivity=m, expansion_add=efc)
    t = time.perf_counter(); u.add(np.arange(n), base, threads=max(1, build_threads))
    res["build_seconds" if build_threads > 0 else "build_seconds_1thread"] = time.perf_counter() - t
    print(f"usearch {dtype} build ({max(1, build_threads)} threads): {time.perf_counter() - t:.2f} s", file=sys.stderr, flush=True)
    sweep = []
    for ef in efs:
        u.expansion_search = ef
        t = time.perf_counter()
        labels = [u.search(q, 10, threads=1).keys for q in query]
        sweep.append([ef, recall(labels), nq / (time.perf_counter() - t)])
    res["sweep"] = sweep
    res["bytes_per_vector"] = file_bytes(u.save)
    out["usearch" if dtype == "f32" else "usearch_f16"] = res

print(json.dumps(out))
