"""RuVector client: `ruvector.Client("host:port")` for collections, points, search, snapshots and
learning feedback (`db.learn`),
and `ruvector.AsyncClient` with the same methods for asyncio.

See the package README (clients/python/README.md) for a quick start and the filter mini-language.
"""
from ruvector.aio import AsyncClient
from ruvector.client import Client
from ruvector.crc import crc32c
from ruvector.models import (CollectionInfo, FailedBatch, Hit, Hits, Point, Record, SnapshotInfo, TierCounts,
                             UpdateResult)
from ruvector.cluster import ClusterCollection, ClusterState, Member
from ruvector.graph import HybridHit, HybridHits, Node, Path, Plan, PlanOperator, Relationship, Result, Temporal, Transaction, GraphIndex
from ruvector.learn import ModelStatus, TrainProgress
from ruvector.errors import (Aborted, AlreadyExists, DataLoss, DeadlineExceeded, FailedPrecondition,
                             InvalidArgument, NotFound, PermissionDenied, ResourceExhausted, RuVectorError,
                             Unauthenticated, Unavailable, Unimplemented)

__all__ = [
    "Client", "AsyncClient", "CollectionInfo", "Hit", "Hits", "Point", "Record", "SnapshotInfo", "TierCounts",
    "UpdateResult", "FailedBatch", "crc32c",
    "RuVectorError", "InvalidArgument", "NotFound", "AlreadyExists", "ResourceExhausted", "FailedPrecondition",
    "Aborted", "Unavailable", "DeadlineExceeded", "DataLoss", "Unimplemented", "Unauthenticated", "PermissionDenied",
    "ClusterState", "ClusterCollection", "Member",
    "Node", "Relationship", "Path", "Plan", "PlanOperator", "Result", "Temporal", "Transaction", "GraphIndex", "HybridHit", "HybridHits",
    "ModelStatus", "TrainProgress",
]
__version__ = "0.1.0"
