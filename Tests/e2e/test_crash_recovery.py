"""No acknowledged write is lost: a Python client upserts in a loop through the real server,
the test SIGKILLs the server at seeded random moments, restarts it on the same data
directory, and checks every acknowledged point with its exact vector and payload. Half the
cycles write with wait=False (acknowledged once logged, indexed after).
RUVECTOR_CRASH_CYCLES sets the number of cycles (default 20); a failure prints the seed."""
import os
import random
import signal
import threading
import time

import ruvector
from conftest import RunningServer

DIMENSION = 6


def _point(i):
    rng = random.Random(i)
    # Values exactly representable as float32, so the stored vector compares equal.
    return [rng.randrange(-1000, 1000) / 64 for _ in range(DIMENSION)], {"n": i, "tag": f"p{i}", "odd": i % 2 == 1}


def _check_all(db, acknowledged, where):
    """Every acknowledged point is stored with exactly its vector and payload."""
    for start in range(0, len(acknowledged), 1000):
        ids = acknowledged[start:start + 1000]
        records = {r.id: r for r in db.get("crash", ids, with_vectors=True)}
        for i in ids:
            vector, payload = _point(i)
            assert i in records, f"{where}: acknowledged point {i} lost"
            assert records[i].vector == vector and records[i].payload == payload, f"{where}: point {i} changed"


def test_sigkill_loses_no_acknowledged_point(tmp_path):
    cycles = int(os.environ.get("RUVECTOR_CRASH_CYCLES", "20"))
    seed = int(os.environ.get("RUVECTOR_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    data = tmp_path / "data"
    acknowledged = []
    next_id = 0
    for cycle in range(cycles):
        server = RunningServer([], data)
        try:
            db = ruvector.Client(server.address, timeout=10)
            if cycle == 0:
                db.create_collection("crash", dimension=DIMENSION, metric="l2")
            # Everything acknowledged before the previous kill is there, exactly.
            _check_all(db, acknowledged, f"seed {seed} cycle {cycle}")
            stop = threading.Event()

            def writer(first):
                i = first
                while not stop.is_set():
                    batch = list(range(i, i + rng_batch))
                    points = [_point(j) for j in batch]
                    try:
                        db.upsert("crash", ids=batch, vectors=[p[0] for p in points], payloads=[p[1] for p in points],
                                  wait=wait)
                    except ruvector.RuVectorError:
                        return      # the server died mid-call: this batch was never acknowledged
                    acknowledged.extend(batch)
                    i += len(batch)
            rng_batch = rng.choice([1, 3, 20])
            # wait=False acknowledges once logged, before indexing: those points must survive too.
            wait = rng.choice([True, False])
            # Ids of unacknowledged batches may or may not exist after the restart; skip past them.
            thread = threading.Thread(target=writer, args=(next_id,))
            thread.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            stop.set()
            thread.join(timeout=30)
            next_id = (max(acknowledged) + 1000) if acknowledged else 1000
            db.close()
        finally:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()
    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=10) as db:
            _check_all(db, acknowledged, f"seed {seed} after the last kill")
    finally:
        server.stop()
    assert len(acknowledged) > cycles, f"seed {seed}: too few writes were acknowledged to mean anything"
