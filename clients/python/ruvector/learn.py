"""`db.learn`: feedback, model settings, status and model files (LearnService).

Feedback is recorded durably on the server, one record per query: the query (a vector, or the id
of a point whose vector is the query), the ids in the order they were shown, and graded
judgements (0..10) or clicks (grade 1). `train` runs a training run on the server and yields
its progress (``progress_bar=True`` draws it on stderr); the server activates the model only when
it beats the plain HNSW order on held-out feedback. Searches with ``learned_rerank`` then use it
(their ``model_version`` says which; 0 = the plain HNSW order). `export_model` / `import_model`
move a model between servers. Requests and answers are built here for both `Learn` and
`ruvector.aio.AsyncLearn`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator, Mapping, Sequence

from ruvector import convert
from ruvector.crc import crc32c
from ruvector.models import PointIdLike, VectorLike
from ruvector.rpc import Learn as Methods
from ruvector.transport import Transport
from ruvector.v1 import common_pb2, learn_pb2


_LOSSES = {"listwise": learn_pb2.LOSS_KIND_LISTWISE_SOFTMAX, "infonce": learn_pb2.LOSS_KIND_INFONCE,
           "pairwise": learn_pb2.LOSS_KIND_PAIRWISE}
_SCHEDULES = {"constant": learn_pb2.LEARNING_RATE_SCHEDULE_CONSTANT,
              "warmup_cosine": learn_pb2.LEARNING_RATE_SCHEDULE_WARMUP_COSINE,
              "plateau": learn_pb2.LEARNING_RATE_SCHEDULE_PLATEAU}
#: ModelConfig fields `configure` accepts as keyword arguments (besides loss and schedule).
CONFIG_FIELDS = ("hidden_size", "heads", "layers", "dropout", "neighbours_per_node", "temperature", "warmup_steps",
                 "cosine_steps", "plateau_patience", "replay_size", "ewc_lambda", "batch_size", "retrain_every",
                 "learning_rate", "position_bias")


@dataclass(frozen=True)
class ModelStatus:
    """A collection's model: the active version (0: none, searches keep the HNSW order), the
    newest stored one and whether it was activated, hold-out metrics (0 until a model is
    trained), feedback held, the settings in force, and a note saying why no model ranks."""
    collection: str
    version: int
    latest_version: int
    activated: bool
    parameters: int
    training_examples: int
    feedback_buffered: int
    trained_unix_micros: int
    baseline_ndcg_at_10: float
    model_ndcg_at_10: float
    baseline_recall_at_10: float
    model_recall_at_10: float
    baseline_mrr: float
    model_mrr: float
    config: dict[str, Any]
    note: str


@dataclass(frozen=True)
class TrainProgress:
    """One message of a training run."""
    epoch: int
    step: int
    loss: float
    learning_rate: float
    eval_ndcg_at_10: float
    eval_recall_at_10: float
    eval_mrr: float
    done: bool


def feedback_request(collection: str, query: VectorLike | None, query_id: PointIdLike | None,
                     shown: Sequence[PointIdLike], judgements: Mapping[PointIdLike, int] | None,
                     clicks: Sequence[PointIdLike] | None) -> learn_pb2.RecordFeedbackRequest:
    """A RecordFeedbackRequest; clicks are judgements of grade 1 (not both)."""
    if (query is None) == (query_id is None):
        raise ValueError("give query (a vector) or query_id (a point whose vector is the query), not both")
    if judgements is not None and clicks is not None:
        raise ValueError("give judgements or clicks, not both")
    grades = dict(judgements) if judgements is not None else {c: 1 for c in clicks or ()}
    request = learn_pb2.RecordFeedbackRequest(collection=collection, shown=[convert.to_id(i) for i in shown],
                                              judgements=[learn_pb2.Judgement(id=convert.to_id(i), grade=g)
                                                          for i, g in grades.items()])
    if query is not None:
        request.query.CopyFrom(convert.to_vector(query))
    else:
        request.query_id.CopyFrom(convert.to_id(query_id))
    return request


def configure_request(collection: str, loss: str | None, schedule: str | None,
                      settings: Mapping[str, float | int]) -> learn_pb2.ConfigureModelRequest:
    """A ConfigureModelRequest; unset settings are 0 (the server's defaults)."""
    unknown = set(settings) - set(CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"unknown model settings {sorted(unknown)}; known: {', '.join(CONFIG_FIELDS)}")
    config = learn_pb2.ModelConfig(loss=_enum(_LOSSES, loss, "loss"), schedule=_enum(_SCHEDULES, schedule, "schedule"))
    for name, value in settings.items():
        setattr(config, name, value)
    return learn_pb2.ConfigureModelRequest(collection=collection, config=config)


def train_request(collection: str, epochs: int, learning_rate: float, schedule: str | None, loss: str | None,
                  batch_size: int, holdout_fraction: float, seed: int) -> learn_pb2.TrainRequest:
    """A TrainRequest; zero values mean the configured settings."""
    return learn_pb2.TrainRequest(collection=collection, epochs=epochs, learning_rate=learning_rate,
                                  schedule=_enum(_SCHEDULES, schedule, "schedule"), loss=_enum(_LOSSES, loss, "loss"),
                                  batch_size=batch_size, holdout_fraction=holdout_fraction, seed=seed)


class ProgressBar:
    """A one-line text progress bar for a training run, redrawn on `stream` (stderr by default)."""

    def __init__(self, epochs: int, stream: Any = None, width: int = 24):
        self.epochs = epochs if epochs > 0 else 10
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.last_ndcg: float | None = None

    def update(self, message: TrainProgress) -> None:
        """Redraws the bar for `message`; ends the line on the last one."""
        if message.eval_ndcg_at_10 > 0 and not message.done:
            self.last_ndcg = message.eval_ndcg_at_10
        if message.done:
            line = (f"done: held-out nDCG@10 {message.eval_ndcg_at_10:.4f}, recall@10 {message.eval_recall_at_10:.4f}, "
                    f"MRR {message.eval_mrr:.4f}")
            self.stream.write("\r" + line.ljust(100) + "\n")
        else:
            filled = min(self.width, self.width * message.epoch // self.epochs)
            ndcg = "" if self.last_ndcg is None else f" held-out nDCG@10 {self.last_ndcg:.4f}"
            line = (f"epoch {message.epoch}/{self.epochs} [{'#' * filled}{'.' * (self.width - filled)}] "
                    f"step {message.step} loss {message.loss:.4f} lr {message.learning_rate:.2e}{ndcg}")
            self.stream.write("\r" + line.ljust(100))
        self.stream.flush()


def _enum(names: Mapping[str, Any], name: str | None, what: str) -> Any:
    if name is None:
        return 0
    if name not in names:
        raise ValueError(f"{what} must be one of {', '.join(names)}, got {name!r}")
    return names[name]


def status(message: Any) -> ModelStatus:
    """A ModelStatus message as a `ModelStatus`."""
    config = {f: getattr(message.config, f) for f in CONFIG_FIELDS}
    config["loss"] = {v: k for k, v in _LOSSES.items()}.get(message.config.loss, "unspecified")
    config["schedule"] = {v: k for k, v in _SCHEDULES.items()}.get(message.config.schedule, "unspecified")
    return ModelStatus(message.collection, message.version, message.latest_version, message.activated,
                       message.parameters, message.training_examples, message.feedback_buffered,
                       message.trained_unix_micros, message.baseline_ndcg_at_10, message.model_ndcg_at_10,
                       message.baseline_recall_at_10, message.model_recall_at_10, message.baseline_mrr,
                       message.model_mrr, config, message.note)


def progress(message: Any) -> TrainProgress:
    """A TrainProgress message as a `TrainProgress`."""
    return TrainProgress(message.epoch, message.step, message.loss, message.learning_rate, message.eval_ndcg_at_10,
                         message.eval_recall_at_10, message.eval_mrr, message.done)


def file_chunks(data: bytes, chunk_bytes: int) -> Iterator[common_pb2.FileChunk]:
    """`data` as FileChunks of `chunk_bytes` (1..1 MiB), the last carrying size and CRC-32C."""
    if not 1 <= chunk_bytes <= 1 << 20:
        raise ValueError(f"chunk_bytes must be 1..1048576, got {chunk_bytes}")
    offsets = range(0, max(len(data), 1), chunk_bytes)
    for n, offset in enumerate(offsets):
        chunk = common_pb2.FileChunk(offset=offset, data=data[offset:offset + chunk_bytes])
        if n == len(offsets) - 1:
            chunk.trailer.CopyFrom(common_pb2.FileTrailer(size_bytes=len(data), crc32c=crc32c(data)))
        yield chunk


def import_requests(collection: str, data: bytes, chunk_bytes: int) -> Iterator[learn_pb2.ImportModelRequest]:
    """ImportModel messages: the first names the collection, the last carries size and CRC-32C."""
    for n, chunk in enumerate(file_chunks(data, chunk_bytes)):
        yield learn_pb2.ImportModelRequest(collection=collection if n == 0 else "", chunk=chunk)


class ModelFile:
    """Collects ExportModel chunks in order and checks them against the trailer."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.complete = False

    def add(self, chunk: common_pb2.FileChunk) -> None:
        """Appends a chunk; raises ValueError when one is out of order or the trailer disagrees."""
        if chunk.offset != len(self.data):
            raise ValueError(f"chunk at offset {chunk.offset} after {len(self.data)} bytes")
        self.data += chunk.data
        if chunk.HasField("trailer"):
            if chunk.trailer.size_bytes != len(self.data) or chunk.trailer.crc32c != crc32c(bytes(self.data)):
                raise ValueError("the exported model does not match its trailer (size or CRC-32C)")
            self.complete = True

    def finished(self) -> bytes:
        """The whole file; raises ValueError when the stream ended before the trailer."""
        if not self.complete:
            raise ValueError("the export ended before the chunk carrying the trailer")
        return bytes(self.data)


def _read(model: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(model, bytes):
        return model
    with open(model, "rb") as file:
        return file.read()


class Learn:
    """LearnService from `ruvector.Client`: ``db.learn.feedback("docs", query=q, shown=ids, clicks=[7])``."""

    def __init__(self, transport: Transport):
        self._transport = transport

    def feedback(self, collection: str, *, query: VectorLike | None = None, query_id: PointIdLike | None = None,
                 shown: Sequence[PointIdLike] = (), judgements: Mapping[PointIdLike, int] | None = None,
                 clicks: Sequence[PointIdLike] | None = None, timeout: float | None = None) -> int:
        """Records feedback for one query; returns the feedback records the collection now holds.
        `shown`: the result ids in the order shown; `judgements`: id -> grade 0..10, or `clicks`:
        the ids clicked (grade 1). At most 1000 of each; every id must be a point of the collection."""
        request = feedback_request(collection, query, query_id, shown, judgements, clicks)
        return int(self._transport.unary(Methods.RECORD_FEEDBACK, request, timeout).buffered)

    def configure(self, collection: str, *, loss: str | None = None, schedule: str | None = None,
                  timeout: float | None = None, **settings: float | int) -> ModelStatus:
        """Sets the collection's model settings (`CONFIG_FIELDS`, loss "listwise" | "infonce" |
        "pairwise", schedule "constant" | "warmup_cosine" | "plateau"); unset = server default."""
        request = configure_request(collection, loss, schedule, settings)
        return status(self._transport.unary(Methods.CONFIGURE_MODEL, request, timeout))

    def status(self, collection: str, *, timeout: float | None = None) -> ModelStatus:
        """The collection's model status (zeros and a note when nothing was trained)."""
        request = learn_pb2.ModelStatusRequest(collection=collection)
        return status(self._transport.unary(Methods.GET_MODEL_STATUS, request, timeout))

    def train(self, collection: str, *, epochs: int = 0, learning_rate: float = 0.0, schedule: str | None = None,
              loss: str | None = None, batch_size: int = 0, holdout_fraction: float = 0.0, seed: int = 0,
              progress_bar: bool = False, timeout: float | None = None) -> Iterator[TrainProgress]:
        """Trains on the feedback recorded since the last run, yielding progress (every tenth
        step, each epoch's end with held-out metrics, then one message with `done` set);
        closing the iterator cancels the run. `progress_bar` draws it on stderr. Raises
        `FailedPrecondition` when there is too little feedback or a run is already going."""
        request = train_request(collection, epochs, learning_rate, schedule, loss, batch_size, holdout_fraction, seed)
        bar = ProgressBar(epochs) if progress_bar else None
        for message in self._transport.server_stream(Methods.TRAIN, request, timeout):
            answer = progress(message)
            if bar is not None:
                bar.update(answer)
            yield answer

    def export_model(self, collection: str, *, timeout: float | None = None) -> bytes:
        """The active model's bytes, checked against the stream's size and CRC-32C."""
        target = ModelFile()
        for chunk in self._transport.server_stream(Methods.EXPORT_MODEL,
                                                   learn_pb2.ExportModelRequest(collection=collection), timeout):
            target.add(chunk)
        return target.finished()

    def import_model(self, collection: str, model: bytes | str | os.PathLike[str], *, chunk_bytes: int = 1 << 20,
                     timeout: float | None = None) -> ModelStatus:
        """Uploads a model (bytes or a file's path) exported from a server and activates it."""
        requests = import_requests(collection, _read(model), chunk_bytes)
        return status(self._transport.client_stream(Methods.IMPORT_MODEL, requests, timeout))


class AsyncLearn:
    """LearnService from `ruvector.AsyncClient`: the methods of `Learn`, awaited."""

    def __init__(self, transport: Any):
        self._transport = transport

    async def feedback(self, collection: str, *, query: VectorLike | None = None, query_id: PointIdLike | None = None,
                       shown: Sequence[PointIdLike] = (), judgements: Mapping[PointIdLike, int] | None = None,
                       clicks: Sequence[PointIdLike] | None = None, timeout: float | None = None) -> int:
        """As `Learn.feedback`."""
        request = feedback_request(collection, query, query_id, shown, judgements, clicks)
        return int((await self._transport.unary(Methods.RECORD_FEEDBACK, request, timeout)).buffered)

    async def configure(self, collection: str, *, loss: str | None = None, schedule: str | None = None,
                        timeout: float | None = None, **settings: float | int) -> ModelStatus:
        """As `Learn.configure`."""
        request = configure_request(collection, loss, schedule, settings)
        return status(await self._transport.unary(Methods.CONFIGURE_MODEL, request, timeout))

    async def status(self, collection: str, *, timeout: float | None = None) -> ModelStatus:
        """As `Learn.status`."""
        request = learn_pb2.ModelStatusRequest(collection=collection)
        return status(await self._transport.unary(Methods.GET_MODEL_STATUS, request, timeout))

    async def train(self, collection: str, *, epochs: int = 0, learning_rate: float = 0.0,
                    schedule: str | None = None, loss: str | None = None, batch_size: int = 0,
                    holdout_fraction: float = 0.0, seed: int = 0, progress_bar: bool = False,
                    timeout: float | None = None) -> AsyncIterator[TrainProgress]:
        """As `Learn.train`."""
        request = train_request(collection, epochs, learning_rate, schedule, loss, batch_size, holdout_fraction, seed)
        bar = ProgressBar(epochs) if progress_bar else None
        async for message in self._transport.server_stream(Methods.TRAIN, request, timeout):
            answer = progress(message)
            if bar is not None:
                bar.update(answer)
            yield answer

    async def export_model(self, collection: str, *, timeout: float | None = None) -> bytes:
        """As `Learn.export_model`."""
        target = ModelFile()
        async for chunk in self._transport.server_stream(Methods.EXPORT_MODEL,
                                                         learn_pb2.ExportModelRequest(collection=collection), timeout):
            target.add(chunk)
        return target.finished()

    async def import_model(self, collection: str, model: bytes | str | os.PathLike[str], *,
                           chunk_bytes: int = 1 << 20, timeout: float | None = None) -> ModelStatus:
        """As `Learn.import_model`."""
        requests = import_requests(collection, _read(model), chunk_bytes)
        return status(await self._transport.client_stream(Methods.IMPORT_MODEL, requests, timeout))
