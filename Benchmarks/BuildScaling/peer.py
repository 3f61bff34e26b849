"""hnswlib side of vector-build-scaling: cumulative build time at each size (wall and
process CPU seconds), as JSON.
Usage: peer.py DIR DIM M EFC THREADS SIZE1,SIZE2,..."""
import json, os, sys, time
import numpy as np
import hnswlib

d, dim, m, efc, threads = sys.argv[1], *map(int, sys.argv[2:6])
sizes = [int(x) for x in sys.argv[6].split(",")]
base = np.fromfile(os.path.join(d, "base.f32"), dtype=np.float32).reshape(-1, dim)
idx = hnswlib.Index(space="l2", dim=dim)
idx.init_index(max_elements=sizes[-1], M=m, ef_construction=efc, random_seed=1)
wall, cpu, elapsed, elapsed_cpu, done = [], [], 0.0, 0.0, 0
for size in sizes:
    t, c = time.perf_counter(), time.process_time()
    idx.add_items(base[done:size], np.arange(done, size), num_threads=threads)
    elapsed += time.perf_counter() - t
    elapsed_cpu += time.process_time() - c
    done = size
    wall.append(elapsed); cpu.append(elapsed_cpu)
    print(f"hnswlib {size}: {elapsed:.2f} s, {elapsed_cpu:.2f} s CPU", file=sys.stderr, flush=True)
out = {"wall": wall, "cpu": cpu}
print(json.dumps(out))
