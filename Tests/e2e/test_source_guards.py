"""Source patterns that are banned because the toolchain miscompiles them.

Swift 6.3.1 at -O (release builds, what users run) garbles a task group child's result when
its type is a tuple holding a generic `Result<T, any Error>`: in a 20-line program (a generic
function, `withThrowingTaskGroup(of: (UInt32, Result<R, any Error>).self)`, three children)
every one of 2,000 runs came back with wrong shard numbers, and none at -Onone. A cluster's
fanned-out search used that shape and merged the wrong shards' answers in release builds
only (recall@10 0.37-0.63 instead of 0.999; the e2e tests run debug builds and passed). The
fix files each child's outcome itself (ShardedVectorService.readEveryShard); this test keeps
the shape out of the code, since the debug-built tests cannot see it.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: A task group whose child result type is a tuple with a `Result<` in it.
_BANNED = re.compile(r"TaskGroup\s*\(\s*of:\s*\([^)]*Result<")


def test_no_task_group_returns_a_tuple_holding_a_result() -> None:
    offenders = []
    for folder in ("Sources", "Benchmarks", "clients/swift", "Tests"):
        for path in (ROOT / folder).rglob("*.swift"):
            text = path.read_text(errors="replace")
            for match in _BANNED.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, ("task groups whose children return a tuple holding a Result (miscompiled at -O by "
                           f"Swift 6.3.1; file each outcome from the child instead): {offenders}")
