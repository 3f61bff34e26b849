"""Which shard a numeric point id falls in, computed as the server computes it, so the benchmark
can aim a write at one shard (and so at one primary) without asking the server.

The server's rule (Sources/ClusterEngine/Placement/ShardKey.swift and ShardPlacement.swift): the
id's canonical bytes are 0x00 then the id as 8 little-endian bytes; the shard is the high 64
bits of XXH64(bytes, seed 0) x shards. `missing_points` compares this with the points per shard
the server reports, so a change of the rule stops the benchmark instead of skewing it.
"""
from __future__ import annotations

import struct
from typing import Iterator

import xxhash


def shard_of(point_id: int, shards: int) -> int:
    """The shard of numeric point id `point_id` in a collection of `shards` shards."""
    digest = xxhash.xxh64_intdigest(b"\x00" + struct.pack("<Q", point_id), seed=0)
    return (digest * shards) >> 64


def ids_in_shard(shard: int, shards: int, start: int) -> Iterator[int]:
    """Ids from `start` upwards that fall in `shard` (about one in `shards`)."""
    point_id = start
    while True:
        if shard_of(point_id, shards) == shard:
            yield point_id
        point_id += 1


def points_per_shard(ids: range, shards: int) -> list[int]:
    """How many of `ids` fall in each shard."""
    counts = [0] * shards
    for point_id in ids:
        counts[shard_of(point_id, shards)] += 1
    return counts


def missing_points(expected: list[int], reported: dict[int, int], failed_over: set[int]) -> int:
    """Points missing from the shards that changed primary during the writes (`failed_over`:
    async writes the old primary acknowledged and no replica had). Raises when a shard that kept
    its primary differs from the prediction, or any shard holds more than predicted: then the
    rule in this module no longer matches the server's."""
    actual = [reported.get(shard, 0) for shard in range(len(expected))]
    if any(got > want or (got != want and shard not in failed_over)
           for shard, (want, got) in enumerate(zip(expected, actual))):
        raise RuntimeError(f"points per shard: predicted {expected}, server reports {actual} (shards that changed "
                           f"primary: {sorted(failed_over)}): the shard rule in shard_keys.py no longer matches the server's")
    return sum(expected) - sum(actual)

def ring_points(nodes: list[int], virtual_nodes: int = 150) -> list[tuple[int, int]]:
    """The consistent-hash ring of `nodes` as the server builds it (HashRing.swift): node `n`
    stands at XXH64 of "node/<n>/<i>" for i below `virtual_nodes`; (position, node), sorted."""
    return sorted((xxhash.xxh64_intdigest(f"node/{node}/{i}".encode(), seed=0), node)
                  for node in set(nodes) for i in range(virtual_nodes))


def shard_holders(collection: str, shard: int, ring: list[tuple[int, int]], replication_factor: int) -> set[int]:
    """The nodes the ring assigns `shard` of `collection` (ShardPlacement.replicas): the first
    `replication_factor` distinct nodes clockwise from XXH64 of "<collection>/<shard>"."""
    key = xxhash.xxh64_intdigest(f"{collection}/{shard}".encode(), seed=0)
    start = next((index for index, (position, _) in enumerate(ring) if position >= key), 0)
    owners: list[int] = []
    wanted = min(replication_factor, len({node for _, node in ring}))
    for step in range(len(ring)):
        node = ring[(start + step) % len(ring)][1]
        if node not in owners:
            owners.append(node)
            if len(owners) == wanted:
                break
    return set(owners)
