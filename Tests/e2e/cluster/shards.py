"""Sharded collections on a test cluster: which shard a point id falls in (as the server
computes it), the shard map, every copy's checksum, and the checks the shard tests share.

`shard_of` is the placement rule of Sources/ClusterEngine/Placement written again from its
documentation (ShardKey, ShardPlacement): XXH64 (seed 0) of byte 0x00 and the id as 8 bytes
little endian, times the shard count, high 64 bits. Tests use it to aim writes at one shard;
`test_shard_search.py` checks it against the points each shard holds on the server, and the
golden values of PlacementShardTests.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import ruvector
from ruvector.cluster import ShardAssignment
from harness import Cluster, soak_requested

_MASK = (1 << 64) - 1
_PRIME1 = 0x9E3779B185EBCA87
_PRIME2 = 0xC2B2AE3D27D4EB4F
_PRIME3 = 0x165667B19E3779F9
_PRIME4 = 0x85EBCA77C2B2AE63
_PRIME5 = 0x27D4EB2F165667C5
#: Per-call bound of the helpers' own status calls (a node may be paused or cut off).
STATUS_CALL_SECONDS = 2.0


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _round(accumulator: int, lane: int) -> int:
    return (_rotl((accumulator + lane * _PRIME2) & _MASK, 31) * _PRIME1) & _MASK


def _lane(data: bytes, offset: int, width: int) -> int:
    return int.from_bytes(data[offset:offset + width], "little")


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 of `data` (the xxHash specification, in plain Python: slow, for a few ids)."""
    length, offset = len(data), 0
    if length >= 32:
        lanes = [(seed + _PRIME1 + _PRIME2) & _MASK, (seed + _PRIME2) & _MASK, seed & _MASK, (seed - _PRIME1) & _MASK]
        while offset + 32 <= length:
            lanes = [_round(lanes[k], _lane(data, offset + 8 * k, 8)) for k in range(4)]
            offset += 32
        digest = (_rotl(lanes[0], 1) + _rotl(lanes[1], 7) + _rotl(lanes[2], 12) + _rotl(lanes[3], 18)) & _MASK
        for lane in lanes:
            digest = ((digest ^ _round(0, lane)) * _PRIME1 + _PRIME4) & _MASK
    else:
        digest = (seed + _PRIME5) & _MASK
    digest = (digest + length) & _MASK
    while offset + 8 <= length:
        digest = (_rotl(digest ^ _round(0, _lane(data, offset, 8)), 27) * _PRIME1 + _PRIME4) & _MASK
        offset += 8
    if offset + 4 <= length:
        digest = (_rotl(digest ^ (_lane(data, offset, 4) * _PRIME1 & _MASK), 23) * _PRIME2 + _PRIME3) & _MASK
        offset += 4
    for byte in data[offset:]:
        digest = (_rotl(digest ^ (byte * _PRIME5 & _MASK), 11) * _PRIME1) & _MASK
    digest ^= digest >> 33
    digest = digest * _PRIME2 & _MASK
    digest ^= digest >> 29
    digest = digest * _PRIME3 & _MASK
    return digest ^ (digest >> 32)


def shard_of(point_id: int, shards: int) -> int:
    """The shard of numeric point id `point_id` in a collection of `shards` shards."""
    return (xxh64(b"\x00" + point_id.to_bytes(8, "little")) * shards) >> 64


def ids_in_shard(shard: int, shards: int, start: int, count: int) -> list[int]:
    """The first `count` ids from `start` on that fall in `shard`."""
    found: list[int] = []
    point_id = start
    while len(found) < count:
        if shard_of(point_id, shards) == shard:
            found.append(point_id)
        point_id += 1
    return found


def soak_kills(ci: int, soak: int = 20) -> int:
    """How many times a fault is repeated: `soak` with RUVECTOR_CLUSTER_SOAK=1 or RUVECTOR_SOAK
    set, else `ci`."""
    return soak if soak_requested() or os.environ.get("RUVECTOR_SOAK") else ci


# The shard map and the copies

def shard_map(cluster: Cluster, collection: str, via: int | None = None,
              timeout: float = STATUS_CALL_SECONDS) -> dict[int, ShardAssignment]:
    """shard -> its assignment (primary, replicas, epoch), from a linearizable GetState on node
    `via` (default: the first live node)."""
    node = via if via is not None else cluster.live_ids()[0]
    state = cluster.client(node).cluster.state(timeout=timeout)
    return {s.shard: s for s in state.shards if s.collection == collection}


@dataclass(frozen=True)
class Copy:
    """One node's copy of one shard, as its ShardStatus reports it."""
    node_id: int
    primary: bool
    epoch: int
    last_sequence: int
    points: int
    checksum: int


def copies(cluster: Cluster, collection: str, nodes: Iterable[int] | None = None) -> dict[int, dict[int, Copy]]:
    """shard -> node -> that node's copy (with its checksum), for `nodes` (default: the live ones)."""
    found: dict[int, dict[int, Copy]] = {}
    for i in (cluster.live_ids() if nodes is None else nodes):
        status = cluster.client(i).cluster.shard_status(collection=collection, checksums=True, timeout=STATUS_CALL_SECONDS)
        for s in status.shards:
            found.setdefault(s.shard, {})[i] = Copy(i, s.primary, s.epoch, s.last_sequence, s.points, s.checksum)
    return found


def wait_listed(cluster: Cluster, collection: str, timeout: float = 5.0) -> None:
    """Waits until every node lists `collection` (CreateCollection answers once the node called
    applied it; the others may not have yet)."""
    cluster.wait_until(lambda: all(collection in {c.name for c in cluster.client(i).list_collections()}
                                   for i in cluster.nodes), timeout=timeout, what=f"every node lists {collection!r}")


def convergence_problems(cluster: Cluster, collection: str) -> list[str]:
    """What keeps the copies from being converged, empty when they are: every holder of every
    shard (in the linearizable shard map) has a copy, agrees on the epoch, and every copy has
    the primary's points and checksum."""
    assignments = shard_map(cluster, collection)
    held = copies(cluster, collection, sorted({n for s in assignments.values() for n in (s.primary, *s.replicas)}))
    problems = []
    for shard, assignment in sorted(assignments.items()):
        holders = [assignment.primary, *assignment.replicas]
        present = held.get(shard, {})
        missing = [n for n in holders if n not in present]
        if missing:
            problems.append(f"shard {shard}: no copy on {missing}")
            continue
        primary = present[assignment.primary]
        for n in holders:
            copy = present[n]
            if (copy.epoch, copy.points, copy.checksum) != (assignment.epoch, primary.points, primary.checksum):
                problems.append(f"shard {shard} node {n}: epoch {copy.epoch} points {copy.points} sequence "
                                f"{copy.last_sequence} checksum {copy.checksum:x}; primary {assignment.primary} at epoch "
                                f"{assignment.epoch}: points {primary.points} sequence {primary.last_sequence} "
                                f"checksum {primary.checksum:x}")
    return problems


def wait_converged(cluster: Cluster, collection: str, timeout: float) -> float:
    """Waits until `convergence_problems` finds none; returns the seconds it took."""
    return cluster.wait_until(lambda: not convergence_problems(cluster, collection), timeout=timeout,
                              what=f"every copy of every shard of {collection!r} equal to its primary's",
                              progress=lambda: convergence_problems(cluster, collection), interval=0.1)


def wait_epoch_above(cluster: Cluster, collection: str, shard: int, epoch: int, timeout: float,
                     avoid: Iterable[int] = ()) -> ShardAssignment:
    """Waits until a live node outside `avoid` reports (linearizably) `shard` at an epoch above
    `epoch`; returns the new assignment."""
    found: list[ShardAssignment] = []

    def promoted() -> bool:
        for i in cluster.live_ids():
            if i in avoid:
                continue
            try:
                assignment = shard_map(cluster, collection, via=i, timeout=0.5)[shard]
            except ruvector.RuVectorError:
                continue
            if assignment.epoch > epoch:
                found.append(assignment)
                return True
        return False

    cluster.wait_until(promoted, timeout=timeout, what=f"shard {shard} of {collection!r} past epoch {epoch}", interval=0.02)
    return found[-1]
