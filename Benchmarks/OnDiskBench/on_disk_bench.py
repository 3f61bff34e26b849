"""on-disk-bench: a collection larger than the server's memory, served from on-disk vectors, beside
the same data in memory and hnswlib / faiss (f32, in memory, in this process), in the same run.

    swift build -c release --product ruvector-server
    .venv/bin/pip install -r scripts/requirements-bench.txt faiss-cpu==1.15.1
    sudo .venv/bin/python Benchmarks/OnDiskBench/on_disk_bench.py [--n 1000000] [--dim 128]
        [--data clustered|sift|sift-held-out] [--limit-mib 400] [--queries 500] [--warmup-queries 2000]
        [--efs 32,64,128,256] [--modes f32,int8,int8-disk,pq8-disk]
        [--peers hnswlib,faiss] [--oversampling 4] [--bin .build/release] [--work DIR] [--seed 1] [--cache 1]
        [--build-limited 1] [--build-limit-mib MIB]

Root is needed for the memory limit (a cgroup, v2 `memory.max` or v1 `memory.limit_in_bytes`)
and to drop the page cache before cold passes (`/proc/sys/vm/drop_caches`); without root the
limited runs and cold passes are skipped and say so.

Data (`--data`): seeded clustered Gaussians (64 centres), n x dim float32, L2; queries from the
same distribution, not in the data. Each centre's points are isotropic noise in all dim
dimensions, the hardest case for a graph index (hnswlib's recall@10 at ef 256 falls from 0.96 at
1M x 128 to 0.78 at 5M). Or `--data sift`: 128-dimension SIFT descriptors of random views of the
photographs scikit-image ships (OpenCV; as SIFT1M holds), queries from views not in the data
(of the same photographs: near-duplicates, easy), or `--data sift-held-out`: the queries from
four photographs the points do not show; generated once and cached in --work. The true top-10 by brute force (numpy, exact).

Each mode runs in a server process of its own on a fresh data directory:
  f32        a plain collection (full vectors in memory, walk on f32)
  int8       scalar int8 codes for the walk, full vectors in memory for rescoring
  int8-disk  scalar int8 codes for the walk, full vectors on disk (`on_disk=True`)
  int8-disk-graph  the same with the level-0 graph links on disk too (`on_disk_graph=True`)
  int4-disk, int4-disk-graph  the same two with int4 residual codes (dim/2 + 5 bytes) for the walk
  pq8-disk   PQ8 codes (dim/8 sub-vectors: 1 byte per 8 dimensions) for the walk, full vectors on disk
The points are imported (Python `import_stream`, 1,000 per message), a snapshot is taken (its time
reported), and the server is stopped; then it is started again on that directory, with no limit
and inside a cgroup whose memory limit is `--limit-mib` (pick it below the f32 index: vectors plus
level-0 links), and searched, one query at a time from one client thread (k 10, `--oversampling`
where quantized, default 4), at each ef: cold, on a server started afresh for each ef with the
page cache dropped first (a running server's mapped pages survive a drop: a second "cold" pass on
the same server is warm for what the first touched); then warm, on one more server: first
`--warmup-queries` other queries (default 2,000, another seed, at the largest ef, not measured),
then the measured ones at each ef, one at a time and in batches of 100 (SearchBatch: one round
trip a batch, the searches one after another on one server thread: the engine's own speed beside
the peers' single thread). A second pass of the same queries would not do for warm: under a limit
it finds every page it needs when they fit and few when not (1M SIFT inside 320 MiB: 1,442 QPS at
ef 64, 264 at ef 256); nor would 500 warm-up queries: they read half the link pages of 1M points
at ef 64, and traffic that goes on keeps as many as the limit leaves room for. Reported:
recall@10, QPS and p50 / p99 latency (the gRPC round trip included), the server's page faults that
read from the disk, a query (major faults: a link or vector page read in when touched; a page
asked for ahead, as rescoring asks for its vectors, does not count even when waited for), its
resident memory after loading and after searching (anonymous and file-backed, from /proc), the
cgroup's peak and how often it hit its limit, or that the server was killed. Inside the limit, a
snapshot is then taken (CreateSnapshot) and its time and the memory after it reported. With
`--build-limited 1`, the on-disk modes also import inside the limit (into a data directory of
their own, kept apart by `--cache 1`): a collection built in less memory than its vectors.
`--cache 1` reuses only what a run finished (an import that counted every point, a peer index
saved whole): an interrupted run is picked up where it stopped. A failed import is reported and
its mode not searched.

Peers (in this process, f32 in memory, no limit, no RPC): hnswlib (M 16, efConstruction 200,
2 build threads) and faiss IndexHNSWFlat (M 16, efConstruction 200), one query at a time, at the
same efs: build seconds, the index's bytes and the growth of this process's resident memory.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "Benchmarks"))
import ruvector  # noqa: E402  (the checkout's client, not an installed one)
from bench_server import BenchServer  # noqa: E402

MODES = {"f32": {}, "int8": {"quantization": "scalar"}, "int8-disk": {"quantization": "scalar", "on_disk": True},
         "int8-disk-graph": {"quantization": "scalar", "on_disk": True, "on_disk_graph": True},
         "int4-disk": {"quantization": "int4", "on_disk": True},
         "int4-disk-graph": {"quantization": "int4", "on_disk": True, "on_disk_graph": True},
         "pq8-disk": {"quantization": "pq8", "on_disk": True}}


def data(n: int, dim: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(64, dim)).astype(np.float32)
    base = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        end = min(n, start + 100_000)
        base[start:end] = centres[rng.integers(0, 64, end - start)] + rng.normal(size=(end - start, dim))
    qs = (centres[rng.integers(0, 64, queries)] + rng.normal(size=(queries, dim))).astype(np.float32)
    return base, qs


# The photographs scikit-image ships inside its wheel (no download): name -> loader.
PHOTOS = ["astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
          "hubble_deep_field", "immunohistochemistry", "logo", "moon", "stereo_motorcycle", "page", "retina", "rocket", "text"]


def photo(name: str) -> np.ndarray:
    """One of PHOTOS as 8-bit grey."""
    import skimage.data
    import cv2
    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):          # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    image = np.asarray(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return image.astype(np.uint8)


# Photographs `--data sift-held-out` keeps for the queries (the points come from the other 15).
HELD_OUT = ["chelsea", "coffee", "gravel", "stereo_motorcycle"]


def views_descriptors(task: tuple[int, int, int, bool, tuple[str, ...]]) -> np.ndarray:
    """SIFT descriptors of `count` random views (seeded by `seed`, views numbered from `first`)
    of the photographs `names`: a photo scaled (0.5-2x), turned, seen in perspective, re-lit,
    blurred and noised, on 640 x 480. All of each view's descriptors, or with `one_each` one of
    them picked at random."""
    import cv2
    seed, first, count, one_each, names = task
    sift = cv2.SIFT_create(nfeatures=3000)
    photos = [photo(name) for name in names]
    out = []
    for view in range(first, first + count):
        rng = np.random.default_rng([seed, view])
        image = photos[view % len(photos)]
        h, w = image.shape
        scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(0, 360)), scale)
        turn[:, 2] += (np.array([320, 240]) - np.array([w / 2, h / 2]))
        corners = np.float32([[0, 0], [640, 0], [640, 480], [0, 480]])
        seen = corners + rng.uniform(-48, 48, size=(4, 2)).astype(np.float32)
        warp = cv2.getPerspectiveTransform(corners, seen) @ np.vstack([turn, [0, 0, 1]])
        frame = cv2.warpPerspective(image, warp, (640, 480), borderMode=cv2.BORDER_REFLECT)
        frame = frame.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
        if (sigma := rng.uniform(0, 1.5)) > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        frame = np.clip(frame + rng.normal(0, rng.uniform(0, 6), frame.shape), 0, 255).astype(np.uint8)
        _, descriptors = sift.detectAndCompute(frame, None)
        if descriptors is not None and len(descriptors):
            out.append(descriptors[rng.integers(len(descriptors)):][:1] if one_each else descriptors)
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 128), np.float32)


def descriptor_data(n: int, queries: int, seed: int, work: pathlib.Path | None,
                    held_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Dense local descriptors of images, as SIFT1M holds (128 dimensions, 0-255 gradient
    histograms): OpenCV SIFT on random views of the 19 photographs scikit-image ships. The points
    come from one series of views, the queries (one descriptor from each of `queries` views) from
    another: of the same photographs (a query is a part of a photo seen anew, so its neighbours
    are mostly that part in other views: easy, hnswlib recall 0.993 at ef 32 at 1M), or with
    `held_out` of four photographs the points do not show (neighbours are only alike). Cached in `work`."""
    import multiprocessing
    point_photos = tuple(p for p in PHOTOS if not held_out or p not in HELD_OUT)
    query_photos = tuple(HELD_OUT) if held_out else tuple(PHOTOS)
    kind = "sift-held-out" if held_out else "sift"
    saved = work / f"{kind}-{n}-q{queries}-seed{seed}.npz" if work else None
    if saved and saved.exists():
        with np.load(saved) as cached:
            return cached["base"], cached["queries"]
    started = time.monotonic()
    chunks, have, next_view = [], 0, 0
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        while have < n:
            tasks = [(seed, next_view + 40 * i, 40, False, point_photos) for i in range(8)]
            next_view += 40 * 8
            for part in pool.map(views_descriptors, tasks):
                chunks.append(part)
                have += len(part)
        qs = query_descriptors(pool, queries, seed + 1_000_003, query_photos)
    base = np.concatenate(chunks)[:n]
    print(f"{kind} data: {len(base):,} descriptors from {next_view:,} views, {len(qs)} queries, "
          f"{time.monotonic() - started:.0f} s", flush=True)
    if saved:
        np.savez(str(saved) + ".partial.npz", base=base, queries=qs)
        os.replace(str(saved) + ".partial.npz", saved)
    return base, qs


def query_descriptors(pool, count: int, series: int, photos: tuple[str, ...]) -> np.ndarray:
    """`count` queries, one descriptor from each view of the seed series `series`."""
    # A few more views than queries: a view may show too little texture to have a descriptor.
    picked = pool.map(views_descriptors, [(series, 60 * i, 60, True, photos) for i in range((count + 49) // 50)])
    return np.concatenate(picked)[:count]


def warmup_queries(args, work: pathlib.Path) -> np.ndarray:
    """`--warmup-queries` queries like the measured ones but not them (another seed), searched
    unmeasured before the warm passes: a warm server has been answering such traffic, so its page
    cache holds what that traffic keeps there, not the measured queries' own pages (a second pass
    of the same queries finds all it needs when they fit the limit, and nothing when not)."""
    count = max(args.warmup_queries, 0)
    if count == 0:
        return np.zeros((0, args.dim), np.float32)
    if args.data == "clustered":
        centres = np.random.default_rng(args.seed).normal(0, 3, size=(64, args.dim)).astype(np.float32)  # as data()
        rng = np.random.default_rng([args.seed, 2])
        return (centres[rng.integers(0, 64, count)] + rng.normal(size=(count, args.dim))).astype(np.float32)
    import multiprocessing
    saved = work / f"{args.data}-warmup-q{count}-seed{args.seed}.npy"
    if saved.exists():
        return np.load(saved)
    photos = tuple(HELD_OUT) if args.data == "sift-held-out" else tuple(PHOTOS)
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        qs = query_descriptors(pool, count, args.seed + 2_000_003, photos)
    np.save(str(saved) + ".partial.npy", qs)
    os.replace(str(saved) + ".partial.npy", saved)
    return qs


def truth(base: np.ndarray, qs: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k ids by L2, in chunks of the data."""
    best_d = np.full((len(qs), k), np.inf, dtype=np.float32)
    best_i = np.zeros((len(qs), k), dtype=np.int64)
    q2 = (qs ** 2).sum(axis=1)[:, None]
    for start in range(0, len(base), 200_000):
        chunk = base[start:start + 200_000]
        d = q2 - 2 * qs @ chunk.T + (chunk ** 2).sum(axis=1)[None, :]
        idx = np.argpartition(d, k, axis=1)[:, :k]
        cand_d = np.concatenate([best_d, np.take_along_axis(d, idx, axis=1)], axis=1)
        cand_i = np.concatenate([best_i, idx + start], axis=1)
        order = np.argsort(cand_d, axis=1)[:, :k]
        best_d, best_i = np.take_along_axis(cand_d, order, axis=1), np.take_along_axis(cand_i, order, axis=1)
    return best_i


def recall(found: list[list[int]], expected: np.ndarray) -> float:
    return sum(len(set(f) & set(e.tolist())) for f, e in zip(found, expected)) / expected.size


def rss() -> dict:
    """This process's resident memory (MiB), anonymous and file-backed."""
    return proc_memory(os.getpid())


def proc_memory(pid: int) -> dict:
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def major_faults(pid: int) -> int:
    """Page faults of `pid` that waited for the disk so far (majflt in /proc/PID/stat)."""
    return int(pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[9])


def drop_page_cache() -> bool:
    try:
        os.sync()
        pathlib.Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


class MemoryLimit:
    """A cgroup with a memory limit (v2 if the memory controller is there, else v1)."""

    def __init__(self, limit_bytes: int):
        v2 = pathlib.Path("/sys/fs/cgroup/cgroup.controllers")
        name = f"ruvector-bench-{os.getpid()}-{time.monotonic_ns()}"
        if v2.exists() and "memory" in v2.read_text().split():
            self.path = pathlib.Path("/sys/fs/cgroup") / name
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit_bytes))
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
            self.version = 2
        else:
            self.path = pathlib.Path("/sys/fs/cgroup/memory") / name
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
            self.version = 1

    def enter(self) -> None:
        """Called in the child before exec: moves it into the cgroup."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def report(self) -> str:
        if self.version == 2:
            peak = self.path / "memory.peak"
            events = dict(line.split() for line in (self.path / "memory.events").read_text().splitlines())
            peak_mib = int(peak.read_text()) / 2**20 if peak.exists() else float("nan")
            return f"cgroup peak {peak_mib:.0f} MiB, limit hit {events.get('max', '?')} times, OOM kills {events.get('oom_kill', '?')}"
        peak_mib = int((self.path / "memory.max_usage_in_bytes").read_text()) / 2**20
        failures = int((self.path / "memory.failcnt").read_text())
        oom = (self.path / "memory.oom_control").read_text()
        kills = re.search(r"oom_kill (\d+)", oom)
        return f"cgroup peak {peak_mib:.0f} MiB, limit hit {failures} times, OOM kills {kills.group(1) if kills else '?'}"

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def start_server(binary: pathlib.Path, data_dir: pathlib.Path, log: pathlib.Path, limit: MemoryLimit | None) -> BenchServer:
    """A release ruvector-server on a free loopback port, inside `limit` when given."""
    # A large collection under a tight limit takes long to open: allow an hour.
    return BenchServer(binary, data_dir, log=log, args=["--auto-snapshot-replay-millis", "0"], start_timeout_seconds=3600,
                       preexec_fn=limit.enter if limit else None)


OVERSAMPLING = 4.0


def search_pass(db, name: str, qs: np.ndarray, expected: np.ndarray, ef: int) -> tuple[float, float, float, float]:
    found, latencies = [], []
    for q in qs:
        t = time.perf_counter()
        hits = db.search(name, q, k=10, ef=ef, with_payload=False, oversampling=OVERSAMPLING)
        latencies.append(time.perf_counter() - t)
        found.append([h.id for h in hits])
    total = sum(latencies)
    latencies.sort()
    return recall(found, expected), len(qs) / total, latencies[len(latencies) // 2] * 1e3, latencies[int(len(latencies) * 0.99)] * 1e3


BATCH = 100


def batched(db, name: str, qs: np.ndarray, ef: int) -> list[list[int]]:
    """The ids found for `qs`, sent BATCH at a time (SearchBatch: the server answers a batch's
    searches one after another on one thread), so the round trip is paid once a batch."""
    found = []
    for first in range(0, len(qs), BATCH):
        for hits in db.search_batch(name, qs[first:first + BATCH], k=10, ef=ef, with_payload=False, oversampling=OVERSAMPLING):
            found.append([h.id for h in hits])
    return found


def batch_pass(db, name: str, qs: np.ndarray, expected: np.ndarray, ef: int) -> tuple[float, float]:
    """Recall and QPS of the queries searched in batches (``batched``)."""
    started = time.perf_counter()
    found = batched(db, name, qs, ef)
    return recall(found, expected), len(qs) / (time.perf_counter() - started)


def fmt_memory(m: dict) -> str:
    return (f"RSS {m.get('VmRSS', 0):.0f} MiB (anon {m.get('RssAnon', 0):.0f}, file {m.get('RssFile', 0):.0f}; "
            f"peak {m.get('VmHWM', 0):.0f})")


def import_points(mode: str, base: np.ndarray, binary: pathlib.Path, data_dir: pathlib.Path, log: pathlib.Path,
                  limit: "MemoryLimit | None" = None) -> tuple[str, bool]:
    """Imports the points into a fresh data directory (inside `limit` when given), snapshots,
    stops; a line saying how it went, and whether every point was imported."""
    try:
        server = start_server(binary, data_dir, log, limit)
    except RuntimeError as error:
        return f"{mode}: import did not start: {error}" + (f"; {limit.report()}" if limit else ""), False
    try:
        with ruvector.Client(server.address, timeout=3600) as db:
            options = dict(MODES[mode])
            if options.get("quantization") == "pq8":
                options["pq_subvectors"] = max(1, base.shape[1] // 8)
            db.create_collection("bench", dimension=base.shape[1], metric="l2", m=16, ef_construction=200, **options)
            started = time.monotonic()
            db.import_stream("bench", ((i, base[i]) for i in range(len(base))), batch_size=1000, wait=False)
            db.wait_indexed("bench", timeout=7200)
            imported = time.monotonic() - started
            started = time.monotonic()
            db.create_snapshot("bench", timeout=3600)
            snapshotted = time.monotonic() - started
            info = db.get_collection("bench")
            counted = db.count("bench")
        if counted != len(base):
            return f"{mode}: import ended with {counted:,} of {len(base):,} points", False
        return (f"{mode}: import{f' inside the limit' if limit else ''} {imported:.0f} s ({len(base) / imported:,.0f} points/s), "
                f"then CreateSnapshot {snapshotted:.1f} s; "
                f"memory_bytes {info.memory_bytes / 2**20:.0f} MiB, on-disk vectors {info.on_disk_vector_bytes / 2**20:.0f} MiB, "
                f"on-disk graph {info.on_disk_graph_bytes / 2**20:.0f} MiB, "
                f"disk {info.disk_bytes / 2**20:.0f} MiB; {fmt_memory(proc_memory(server.pid))} after import"
                + (f"; {limit.report()}" if limit else "")), True
    except Exception as error:  # a server killed by the limit ends its calls: say so
        return (f"{mode}: import failed ({type(error).__name__}: {str(error)[:120]}); server exit "
                f"{server.process.poll()}" + (f"; {limit.report()}" if limit else "")), False
    finally:
        server.stop(timeout_seconds=600)
        if limit:
            limit.remove()


def new_limit(mib: int, lines: list[str], what: str) -> "MemoryLimit | None":
    """A cgroup limited to `mib` MiB, or None with a line saying `what` was not run."""
    try:
        return MemoryLimit(mib << 20)
    except OSError as error:
        lines.append(f"{what}: not run ({error}; needs root and a memory cgroup)")
        return None


def run_mode(mode: str, args, base: np.ndarray, qs: np.ndarray, warmup: np.ndarray, expected: np.ndarray,
             work: pathlib.Path, binary: pathlib.Path, efs: list[int]) -> list[str]:
    lines = []
    built_limited = args.build_limited and MODES[mode].get("on_disk")
    build_limit = args.build_limit_mib or args.limit_mib
    data_dir = work / (f"data-{mode}-{len(base)}x{base.shape[1]}-seed{args.seed}" + data_tag(args)
                       + (f"-built-in-{build_limit}" if built_limited else ""))
    log = work / f"server-{mode}.log"
    # Written once an import finished: a directory left by an interrupted run is imported again.
    complete = work / (data_dir.name + ".complete")
    if args.cache and data_dir.exists() and complete.exists():
        lines.append(f"{mode}: data directory reused (--cache 1): {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        complete.unlink(missing_ok=True)
        limit = new_limit(build_limit, lines, f"{mode}: import inside {build_limit} MiB") if built_limited else None
        line, imported = import_points(mode, base, binary, data_dir, log, limit)
        lines.append(line)
        if not imported:
            return lines      # searching part of the points would measure nothing worth a row
        complete.write_text(line + "\n")
    for limited in (False, True):
        limit = None
        if limited:
            limit = new_limit(args.limit_mib, lines, f"{mode}, limit {args.limit_mib} MiB")
            if limit is None:
                continue
        label = f"{mode}, limit {args.limit_mib} MiB" if limited else f"{mode}, no limit"
        try:
            lines += served_passes(label, limit, binary, data_dir, log, qs, warmup, expected, efs)
        finally:
            if limit:
                limit.remove()
    return lines


def served_passes(label: str, limit: "MemoryLimit | None", binary: pathlib.Path, data_dir: pathlib.Path,
                  log: pathlib.Path, qs: np.ndarray, warmup: np.ndarray, expected: np.ndarray, efs: list[int]) -> list[str]:
    """The rows and notes of one server configuration: a cold pass at each ef, each on a server
    started afresh with the page cache dropped (pages a running server has mapped survive a drop),
    then, on one more server, the warm-up queries (at the largest ef) and a warm pass at each ef,
    one at a time and in batches; inside a limit, a snapshot at the end."""
    lines = []
    cold = drop_page_cache()
    if not cold:
        lines.append(f"{label}: cold passes not run (cannot drop the page cache: needs root)")
    for pass_efs, warm in ([([ef], False) for ef in efs] if cold else []) + [(efs, True)]:
        drop_page_cache()
        try:
            server = start_server(binary, data_dir, log, limit)
        except RuntimeError as error:
            lines.append(f"{label}: did not start: {error}" + (f"; {limit.report()}" if limit else ""))
            return lines
        try:
            if warm:
                lines.append(f"{label}: started (snapshot loaded) in {server.start_seconds:.1f} s; "
                             f"{fmt_memory(proc_memory(server.pid))}")
            with ruvector.Client(server.address, timeout=600) as db:
                if warm:
                    started, faults = time.monotonic(), major_faults(server.pid)
                    batched(db, "bench", warmup, max(efs))
                    lines.append(f"{label}: {len(warmup):,} warm-up queries at ef {max(efs)} took "
                                 f"{time.monotonic() - started:.1f} s, {(major_faults(server.pid) - faults) / max(len(warmup), 1):.1f} "
                                 f"disk reads a query; then {fmt_memory(proc_memory(server.pid))}")
                for ef in pass_efs:
                    faults = major_faults(server.pid)
                    r, qps, p50, p99 = search_pass(db, "bench", qs, expected, ef)
                    faults = (major_faults(server.pid) - faults) / len(qs)
                    lines.append(f"| {label} | {'warm' if warm else 'cold'} | {ef} | {r:.3f} | {qps:,.0f} | {p50:.2f} | "
                                 f"{p99:.2f} | {faults:.1f} |")
                if not warm:
                    continue
                for ef in efs:
                    faults = major_faults(server.pid)
                    r, qps = batch_pass(db, "bench", qs, expected, ef)
                    faults = (major_faults(server.pid) - faults) / len(qs)
                    lines.append(f"| {label} | warm, batches of {BATCH} | {ef} | {r:.3f} | {qps:,.0f} | | | {faults:.1f} |")
                lines.append(f"{label}: after searching {fmt_memory(proc_memory(server.pid))}"
                             + (f"; {limit.report()}" if limit else ""))
                if limit:
                    started = time.monotonic()
                    db.create_snapshot("bench", timeout=3600)
                    lines.append(f"{label}: CreateSnapshot took {time.monotonic() - started:.1f} s; "
                                 f"{fmt_memory(proc_memory(server.pid))}; {limit.report()}")
        except Exception as error:  # a server killed by the limit ends its calls: say so
            code = server.process.poll()
            lines.append(f"{label}: failed ({type(error).__name__}: {str(error)[:120]}); server exit {code}"
                         + (f"; {limit.report()}" if limit else ""))
            return lines
        finally:
            server.stop(timeout_seconds=600)
    return lines


def data_tag(args) -> str:
    """What names cached data directories and peer indexes besides n and dim (nothing for the default data)."""
    return "" if args.data == "clustered" else f"-{args.data}"


def run_peers(peers: list[str], base: np.ndarray, qs: np.ndarray, expected: np.ndarray, efs: list[int],
              cache: pathlib.Path | None, tag: str) -> list[str]:
    """Peers' rows; with `cache`, their indexes are saved there and loaded again by a later run."""
    lines = []
    for peer in peers:
        before = rss()["VmRSS"]
        started = time.monotonic()
        saved = cache / f"{peer}-{tag}.index" if cache else None
        loaded = bool(saved and saved.exists())
        if peer == "hnswlib":
            import hnswlib
            index = hnswlib.Index(space="l2", dim=base.shape[1])
            if saved and saved.exists():
                index.load_index(str(saved), max_elements=len(base))
            else:
                index.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=1)
                index.add_items(base, np.arange(len(base)), num_threads=2)
                if saved:    # renamed into place: an interrupted save leaves nothing to reuse
                    index.save_index(str(saved) + ".partial")
                    os.replace(str(saved) + ".partial", saved)
            index.set_num_threads(1)
            index_bytes = len(base) * (base.shape[1] * 4 + (2 * 16 + 1) * 4 + 8)

            def query(q, ef):
                index.set_ef(ef)
                return index.knn_query(q[None, :], k=10)[0][0].tolist()
        elif peer == "faiss":
            import faiss
            faiss.omp_set_num_threads(2)
            if saved and saved.exists():
                index = faiss.read_index(str(saved))
            else:
                index = faiss.IndexHNSWFlat(base.shape[1], 16)
                index.hnsw.efConstruction = 200
                index.add(base)
                if saved:
                    faiss.write_index(index, str(saved) + ".partial")
                    os.replace(str(saved) + ".partial", saved)
            faiss.omp_set_num_threads(1)
            index_bytes = len(base) * (base.shape[1] * 4 + 2 * 16 * 4)

            def query(q, ef):
                index.hnsw.efSearch = ef
                return index.search(q[None, :], 10)[1][0].tolist()
        else:
            raise SystemExit(f"unknown peer {peer!r}: hnswlib or faiss")
        built = time.monotonic() - started
        grown = rss()["VmRSS"] - before
        how = "loaded (--cache 1) in" if loaded else "build (2 threads)"
        lines.append(f"{peer}: {how} {built:.0f} s; index about {index_bytes / 2**20:.0f} MiB "
                     f"(vectors + level-0 links), this process grew {grown:.0f} MiB")
        for ef in efs:
            found, latencies = [], []
            for q in qs:
                t = time.perf_counter()
                found.append(query(q, ef))
                latencies.append(time.perf_counter() - t)
            latencies.sort()
            lines.append(f"| {peer} (f32, in process) | warm | {ef} | {recall(found, expected):.3f} | "
                         f"{len(qs) / sum(latencies):,.0f} | {latencies[len(latencies) // 2] * 1e3:.2f} | "
                         f"{latencies[int(len(latencies) * 0.99)] * 1e3:.2f} | |")
        del index
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--limit-mib", type=int, default=400)
    parser.add_argument("--efs", default="32,64,128,256")
    parser.add_argument("--modes", default="f32,int8,int8-disk")
    parser.add_argument("--peers", default="hnswlib,faiss")
    parser.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    parser.add_argument("--work", default=None, help="folder for data directories and logs (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", choices=["clustered", "sift", "sift-held-out"], default="clustered",
                        help="clustered Gaussians, or SIFT descriptors of photographs (128 dimensions; needs "
                             "opencv-python-headless and scikit-image, cached in --work), the queries of other "
                             "views of the same photographs or (held-out) of photographs the points do not show")
    parser.add_argument("--cache", type=int, default=0,
                        help="1: reuse the data directories and peer indexes of an earlier run in --work (same n, dim, seed)")
    parser.add_argument("--build-limit-mib", type=int, default=0,
                        help="with --build-limited 1: the import's limit, if not --limit-mib (a later run with --cache 1 "
                             "can then search the same import inside another --limit-mib)")
    parser.add_argument("--build-limited", type=int, default=0,
                        help="1: on-disk modes also import inside the memory limit (their own data directory)")
    parser.add_argument("--warmup-queries", type=int, default=2000,
                        help="queries (not the measured ones) searched before the warm passes")
    parser.add_argument("--oversampling", type=float, default=4.0, help="candidates rescored per result (quantized modes)")
    args = parser.parse_args()
    global OVERSAMPLING
    OVERSAMPLING = args.oversampling
    efs = [int(e) for e in args.efs.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    if unknown := [m for m in modes if m not in MODES]:   # before the peers, which may take half an hour
        raise SystemExit(f"unknown mode {unknown[0]!r}: {', '.join(MODES)}")
    binary = pathlib.Path(args.bin) / "ruvector-server"
    if not binary.exists():
        raise SystemExit(f"{binary} not found: swift build -c release --product ruvector-server")
    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="on-disk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"on-disk-bench: {args.n:,} x {args.dim}, {args.queries} queries, limit {args.limit_mib} MiB, "
          f"efs {efs}, modes {args.modes}, peers {args.peers}; load {os.getloadavg()[0]:.2f}; work {work}", flush=True)
    if args.data.startswith("sift"):
        if args.dim != 128:
            raise SystemExit("--data sift has 128 dimensions")
        base, qs = descriptor_data(args.n, args.queries, args.seed, work, held_out=args.data == "sift-held-out")
    else:
        base, qs = data(args.n, args.dim, args.queries, args.seed)
    expected = truth(base, qs)
    warmup = warmup_queries(args, work) if modes else None   # only servers are warmed up
    f32_index = args.n * (args.dim * 4 + (2 * 16 + 1) * 4)
    print(f"f32 index (vectors + level-0 links): {f32_index / 2**20:.0f} MiB; limit {args.limit_mib} MiB "
          f"= {args.limit_mib * 2**20 / f32_index:.2f} of it", flush=True)
    print("\n| engine | page cache | ef | recall@10 | QPS | p50 ms | p99 ms | disk reads a query |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
    notes = []
    for peer_line in run_peers([p for p in args.peers.split(",") if p], base, qs, expected, efs,
                               work if args.cache else None,
                               f"{len(base)}x{base.shape[1]}" + (f"-seed{args.seed}" if args.seed != 1 else "") + data_tag(args)):
        (print(peer_line, flush=True) if peer_line.startswith("|") else notes.append(peer_line))
    for mode in modes:
        for line in run_mode(mode, args, base, qs, warmup, expected, work, binary, efs):
            (print(line, flush=True) if line.startswith("|") else notes.append(line))
    print("\n" + "\n".join(f"- {n}" for n in notes), flush=True)


if __name__ == "__main__":
    main()
