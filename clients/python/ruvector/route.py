"""`db.route`: Tiny Dancer routers and semantic routes (RouteService).

A router sends each request to one of its candidates (models, backends): `create_router` defines
the candidates and the FastGRNN scorer's shape; `route` answers the chosen candidate with the
model's confidence, the conformal prediction set and the reason (an untrained router uses its
fallback); `record_outcome` logs how a request went (durably, for training, and into the
candidate's circuit breaker); `train` learns from the outcomes (see docs/route.md for the label
rule) and yields progress; `status` shows held-out accuracy, conformal coverage and breakers.
Semantic routes (`register_route`, `match_route`) match embeddings to named routes.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator, Mapping, Sequence, TextIO

from ruvector.learn import ModelFile, _enum, _read, file_chunks
from ruvector.models import VectorLike
from ruvector.rpc import Route as Methods
from ruvector.transport import Transport
from ruvector.v1 import common_pb2, route_pb2

_OPTIMIZE = {"cost": route_pb2.ROUTE_OPTIMIZE_COST, "latency": route_pb2.ROUTE_OPTIMIZE_LATENCY,
             "quality": route_pb2.ROUTE_OPTIMIZE_QUALITY}
_FALLBACK = {"round_robin": route_pb2.ROUTE_FALLBACK_ROUND_ROBIN, "cheapest": route_pb2.ROUTE_FALLBACK_CHEAPEST,
             "strongest": route_pb2.ROUTE_FALLBACK_STRONGEST}
_REASONS = {route_pb2.DECISION_REASON_BEST_SCORE: "model", route_pb2.DECISION_REASON_FALLBACK_CIRCUIT_OPEN: "circuit_open",
            route_pb2.DECISION_REASON_FALLBACK_UNTRAINED: "untrained",
            route_pb2.DECISION_REASON_FALLBACK_LOW_CONFIDENCE: "low_confidence",
            route_pb2.DECISION_REASON_UNCERTAIN: "uncertain", route_pb2.DECISION_REASON_NONE_AVAILABLE: "none_available"}
#: CreateRouter fields `create_router` takes as keyword arguments (besides fallback and optimize).
CREATE_FIELDS = ("time_steps", "hidden_size", "w_rank", "u_rank", "confidence_threshold", "breaker_failures",
                 "breaker_cool_down_millis", "breaker_trials", "conformal_alpha", "min_quality", "outcome_window")
#: TrainRouter fields `train` takes as keyword arguments.
TRAIN_FIELDS = ("epochs", "learning_rate", "batch_size", "seed", "keep_fraction", "quantize", "distillation_weight")
_STATES = {route_pb2.CIRCUIT_STATE_CLOSED: "closed", route_pb2.CIRCUIT_STATE_OPEN: "open",
           route_pb2.CIRCUIT_STATE_HALF_OPEN: "half_open"}


@dataclass(frozen=True)
class Candidate:
    """A model or backend a router may choose: cost per request, typical latency, expected quality."""
    name: str
    cost: float = 0.0
    latency_millis: float = 0.0
    quality: float = 0.0


@dataclass(frozen=True)
class Decision:
    """Where a request goes. `reason`: "model", "uncertain", "low_confidence", "circuit_open",
    "untrained" or "none_available" (then `chosen` is None). `prediction_set`: the conformal set
    (contains the right candidate for about 1 - alpha of requests). `scores`: candidate ->
    probability, best first (empty when untrained)."""
    chosen: str | None
    confidence: float
    prediction_set: list[str]
    scores: dict[str, float]
    reason: str
    model_version: int
    skipped_open: list[str]
    request_id: str


@dataclass(frozen=True)
class Breaker:
    """One candidate's circuit breaker: "closed", "open" or "half_open"."""
    candidate: str
    state: str
    consecutive_failures: int
    retry_at_unix_micros: int
    openings: int
    routed: int


@dataclass(frozen=True)
class RouterStatus:
    """A router's model (version 0: untrained), held-out accuracy and conformal coverage of the last
    run, model size, counters and breakers."""
    router: str
    model_version: int
    outcomes_recorded: int
    requests_routed: int
    accuracy: float
    calibrated_coverage: float
    conformal_alpha: float
    conformal_threshold: float
    calibration_count: int
    evaluation_count: int
    training_examples: int
    model_bytes: int
    nonzero_weights: int
    quantized: bool
    breakers: list[Breaker]
    #: Outcomes the outcome log holds now (about the router's outcome_window at most) and its bytes on disk.
    outcome_log_records: int = 0
    outcome_log_bytes: int = 0


@dataclass(frozen=True)
class TrainProgress:
    """One message of a training run; the last has `done`, the model version, held-out accuracy and coverage."""
    epoch: int
    loss: float
    accuracy: float
    coverage: float
    model_version: int
    done: bool


@dataclass(frozen=True)
class RouterInfo:
    """A router's definition as the server stores it (defaults filled in) and its counters."""
    name: str
    candidates: list[Candidate]
    feature_size: int
    time_steps: int
    hidden_size: int
    confidence_threshold: float
    fallback: str
    optimize: str
    breaker_failures: int
    breaker_cool_down_millis: int
    breaker_trials: int
    conformal_alpha: float
    min_quality: float
    model_version: int
    outcomes_recorded: int
    route_count: int
    #: Newest outcomes the router keeps and trains on.
    outcome_window: int = 0


@dataclass(frozen=True)
class SemanticRoute:
    """A semantic route: its name, the least score that matches, and how many examples it holds."""
    name: str
    threshold: float
    example_count: int
    utterances: list[str]


@dataclass(frozen=True)
class RouteMatch:
    """A semantic route an embedding matched, with its score (mean cosine of its 3 nearest examples)."""
    name: str
    similarity: float


def _candidate(c: Candidate | str) -> route_pb2.Candidate:
    if isinstance(c, str):
        return route_pb2.Candidate(name=c)
    return route_pb2.Candidate(name=c.name, cost=c.cost, latency_millis=c.latency_millis, quality=c.quality)


def _flat(features: VectorLike | Sequence[VectorLike]) -> list[float]:
    """Features as one flat list: a vector, or a sequence of per-step vectors (concatenated)."""
    values = list(features)
    if values and hasattr(values[0], "__len__"):
        return [float(x) for step in values for x in step]
    return [float(x) for x in values]


def router_info(message: route_pb2.RouterInfo) -> RouterInfo:
    """A RouterInfo message as a `RouterInfo`."""
    d = message.definition
    return RouterInfo(d.name, [Candidate(c.name, c.cost, c.latency_millis, c.quality) for c in d.candidates], d.feature_size,
                      d.time_steps, d.hidden_size, d.confidence_threshold,
                      {v: k for k, v in _FALLBACK.items()}.get(d.fallback, "unspecified"),
                      {v: k for k, v in _OPTIMIZE.items()}.get(d.optimize, "unspecified"), d.breaker_failures,
                      d.breaker_cool_down_millis, d.breaker_trials, d.conformal_alpha, d.min_quality, message.model_version,
                      message.outcomes_recorded, message.route_count, d.outcome_window)


def semantic_route(message: route_pb2.SemanticRoute) -> SemanticRoute:
    """A SemanticRoute message as a `SemanticRoute`."""
    return SemanticRoute(message.name, message.threshold, message.example_count, list(message.utterances))


def decision(message: route_pb2.RouteDecision) -> Decision:
    """A RouteDecision message as a `Decision`."""
    return Decision(message.chosen or None, message.confidence, list(message.prediction_set),
                    {a.name: a.score for a in message.alternatives}, _REASONS.get(message.reason, "unspecified"),
                    message.model_version, list(message.skipped_open), message.request_id)


def status(message: route_pb2.RouterStatus) -> RouterStatus:
    """A RouterStatus message as a `RouterStatus`."""
    breakers = [Breaker(b.candidate, _STATES.get(b.state, "unspecified"), b.consecutive_failures, b.retry_at_unix_micros,
                        b.openings, b.routed) for b in message.breakers]
    return RouterStatus(message.router, message.model_version, message.outcomes_recorded, message.requests_routed,
                        message.accuracy, message.calibrated_coverage, message.conformal_alpha, message.conformal_threshold,
                        message.calibration_count, message.evaluation_count, message.training_examples, message.model_bytes, message.nonzero_weights,
                        message.quantized, breakers, message.outcome_log_records, message.outcome_log_bytes)


def import_requests(router: str, data: bytes, chunk_bytes: int) -> Iterator[route_pb2.ImportRouterRequest]:
    """ImportRouter messages: the first names the router, the last carries size and CRC-32C."""
    for n, chunk in enumerate(file_chunks(data, chunk_bytes)):
        yield route_pb2.ImportRouterRequest(router=router if n == 0 else "", chunk=chunk)


def _draw(message: TrainProgress, stream: TextIO | None = None) -> None:
    """Redraws a one-line progress report on stderr; ends the line on the last message."""
    out = stream if stream is not None else sys.stderr
    if message.done:
        out.write(f"\rdone: model {message.model_version}, held-out accuracy {message.accuracy:.3f}, "
                  f"coverage {message.coverage:.3f}".ljust(80) + "\n")
    else:
        out.write(f"\repoch {message.epoch} loss {message.loss:.4f}".ljust(80))
    out.flush()


def create_request(name: str, candidates: Sequence[Candidate | str], feature_size: int,
                   settings: Mapping[str, Any]) -> route_pb2.CreateRouterRequest:
    """A CreateRouterRequest; `settings` are CreateRouter's fields (fallback and optimize by name)."""
    unknown = set(settings) - set(CREATE_FIELDS) - {"fallback", "optimize"}
    if unknown:
        raise TypeError(f"unknown router settings {sorted(unknown)}; known: fallback, optimize, {', '.join(CREATE_FIELDS)}")
    request = route_pb2.CreateRouterRequest(name=name, candidates=[_candidate(c) for c in candidates], feature_size=feature_size,
                                            fallback=_enum(_FALLBACK, settings.get("fallback"), "fallback"),
                                            optimize=_enum(_OPTIMIZE, settings.get("optimize"), "optimize"))
    for field in CREATE_FIELDS:
        if field in settings:
            setattr(request, field, settings[field])
    return request


def route_request(router: str, features: VectorLike | Sequence[VectorLike], request_id: str) -> route_pb2.RouteRequest:
    """A RouteRequest: `features` is one vector or time_steps vectors (concatenated)."""
    return route_pb2.RouteRequest(router=router, features=common_pb2.Vector(values=_flat(features)), request_id=request_id)


def outcome_request(router: str, candidate: str, success: bool, request_id: str,
                    features: VectorLike | Sequence[VectorLike] | None, details: Mapping[str, Any]) -> route_pb2.RecordOutcomeRequest:
    """A RecordOutcomeRequest; `details`: quality, latency_micros, cost, teacher_scores (candidate -> probability)."""
    unknown = set(details) - {"quality", "latency_micros", "cost", "teacher_scores"}
    if unknown:
        raise TypeError(f"unknown outcome fields {sorted(unknown)}")
    request = route_pb2.RecordOutcomeRequest(
        router=router, request_id=request_id, candidate=candidate, success=success,
        quality=details.get("quality", 0.0), latency_micros=details.get("latency_micros", 0), cost=details.get("cost", 0.0),
        teacher_scores=[route_pb2.ScoredCandidate(name=k, score=v) for k, v in (details.get("teacher_scores") or {}).items()])
    if features is not None:
        request.features.CopyFrom(common_pb2.Vector(values=_flat(features)))
    return request


def train_request(router: str, settings: Mapping[str, Any]) -> route_pb2.TrainRouterRequest:
    """A TrainRouterRequest; `settings`: epochs, learning_rate, batch_size, seed, keep_fraction, quantize, distillation_weight."""
    unknown = set(settings) - set(TRAIN_FIELDS)
    if unknown:
        raise TypeError(f"unknown training settings {sorted(unknown)}; known: {', '.join(TRAIN_FIELDS)}")
    return route_pb2.TrainRouterRequest(router=router, **settings)


def progress(message: route_pb2.TrainRouterProgress) -> TrainProgress:
    """A TrainRouterProgress message as a `TrainProgress`."""
    return TrainProgress(message.epoch, message.loss, message.accuracy, message.coverage, message.model_version, message.done)


def register_request(router: str, name: str, examples: Sequence[VectorLike], threshold: float,
                     utterances: Sequence[str]) -> route_pb2.RegisterRouteRequest:
    """A RegisterRouteRequest."""
    route = route_pb2.SemanticRoute(name=name, examples=[common_pb2.Vector(values=[float(x) for x in e]) for e in examples],
                                    utterances=list(utterances), threshold=threshold)
    return route_pb2.RegisterRouteRequest(router=router, route=route)


def match_request(router: str, embedding: VectorLike, limit: int) -> route_pb2.MatchRouteRequest:
    """A MatchRouteRequest."""
    return route_pb2.MatchRouteRequest(router=router, embedding=common_pb2.Vector(values=[float(x) for x in embedding]), limit=limit)


def fit_request(router: str, queries: Sequence[tuple[VectorLike, str | None]]) -> route_pb2.FitRouteThresholdRequest:
    """A FitRouteThresholdRequest from (embedding, route or None) pairs."""
    return route_pb2.FitRouteThresholdRequest(router=router, queries=[
        route_pb2.LabelledQuery(embedding=common_pb2.Vector(values=[float(x) for x in e]), route=r or "") for e, r in queries])


class Route:
    """RouteService from `ruvector.Client`: ``db.route.route("llm", features)``. Settings not named in a
    signature go by keyword: `create_router` takes CreateRouter's fields (`CREATE_FIELDS`, plus
    fallback "round_robin" | "cheapest" | "strongest" and optimize "cost" | "latency" | "quality"),
    `train` TrainRouter's (`TRAIN_FIELDS`), `record_outcome` quality, latency_micros, cost and
    teacher_scores."""

    def __init__(self, transport: Transport):
        self._transport = transport

    def create_router(self, name: str, candidates: Sequence[Candidate | str], *, feature_size: int,
                      timeout: float | None = None, **settings: Any) -> RouterInfo:
        """Creates a router over 2..256 candidates for requests of time_steps x feature_size features.
        Unset settings take the server's defaults (time steps 1, hidden 32, threshold 0.7, round robin,
        cost, breaker 5 failures / 30000 ms / 1 trial, alpha 0.1, outcome_window 100000: the newest
        outcomes kept and trained on, 100 to 100000)."""
        request = create_request(name, candidates, feature_size, settings)
        return router_info(self._transport.unary(Methods.CREATE_ROUTER, request, timeout))

    def get_router(self, name: str, *, timeout: float | None = None) -> RouterInfo:
        """The router's definition (defaults resolved) and counters."""
        return router_info(self._transport.unary(Methods.GET_ROUTER, route_pb2.GetRouterRequest(name=name), timeout))

    def list_routers(self, *, timeout: float | None = None) -> list[RouterInfo]:
        """Every router the caller may read, by name."""
        return [router_info(r) for r in self._transport.unary(Methods.LIST_ROUTERS, route_pb2.ListRoutersRequest(), timeout).routers]

    def delete_router(self, name: str, *, timeout: float | None = None) -> None:
        """Deletes the router with its model, routes and outcomes."""
        self._transport.unary(Methods.DELETE_ROUTER, route_pb2.DeleteRouterRequest(name=name), timeout)

    def route(self, router: str, features: VectorLike | Sequence[VectorLike], *, request_id: str = "",
              timeout: float | None = None) -> Decision:
        """Routes one request: `features` is one vector (time_steps 1) or time_steps vectors."""
        return decision(self._transport.unary(Methods.ROUTE, route_request(router, features, request_id), timeout))

    def record_outcome(self, router: str, candidate: str, *, success: bool, request_id: str = "",
                       features: VectorLike | Sequence[VectorLike] | None = None, timeout: float | None = None,
                       **details: Any) -> int:
        """Records how a request served by `candidate` went; returns the outcomes recorded so far. Give the
        `request_id` of a recent `route` answer, or the request's `features`."""
        request = outcome_request(router, candidate, success, request_id, features, details)
        return int(self._transport.unary(Methods.RECORD_OUTCOME, request, timeout).recorded)

    def train(self, router: str, *, progress_bar: bool = False, timeout: float | None = None,
              **settings: Any) -> Iterator[TrainProgress]:
        """Trains from the recorded outcomes, yielding one message per epoch and a last one with
        `done`; closing the iterator cancels the run. Raises `FailedPrecondition` when too few
        requests are labelled or a run of this router is going."""
        for message in self._transport.server_stream(Methods.TRAIN, train_request(router, settings), timeout):
            answer = progress(message)
            if progress_bar:
                _draw(answer)
            yield answer

    def status(self, router: str, *, timeout: float | None = None) -> RouterStatus:
        """The router's model, held-out accuracy and coverage, counters and breakers."""
        return status(self._transport.unary(Methods.GET_STATUS, route_pb2.RouterStatusRequest(router=router), timeout))

    def register_route(self, router: str, name: str, examples: Sequence[VectorLike], *, threshold: float = 0.0,
                       utterances: Sequence[str] = (), timeout: float | None = None) -> SemanticRoute:
        """Registers (or replaces) a semantic route with 1..1000 example embeddings; `threshold` is
        the least score that matches (0 = 0.8)."""
        request = register_request(router, name, examples, threshold, utterances)
        return semantic_route(self._transport.unary(Methods.REGISTER_ROUTE, request, timeout))

    def list_routes(self, router: str, *, timeout: float | None = None) -> list[SemanticRoute]:
        """The routes (names, thresholds, example counts), in registration order."""
        answer = self._transport.unary(Methods.LIST_ROUTES, route_pb2.ListRoutesRequest(router=router), timeout)
        return [semantic_route(r) for r in answer.routes]

    def delete_route(self, router: str, name: str, *, timeout: float | None = None) -> None:
        """Deletes a semantic route."""
        self._transport.unary(Methods.DELETE_ROUTE, route_pb2.DeleteRouteRequest(router=router, name=name), timeout)

    def match_route(self, router: str, embedding: VectorLike, *, limit: int = 0,
                    timeout: float | None = None) -> list[RouteMatch]:
        """The routes `embedding` matches (score >= their threshold), best first; empty: no route."""
        answer = self._transport.unary(Methods.MATCH_ROUTE, match_request(router, embedding, limit), timeout)
        return [RouteMatch(m.name, m.similarity) for m in answer.matches]

    def fit_route_threshold(self, router: str, queries: Sequence[tuple[VectorLike, str | None]], *,
                            timeout: float | None = None) -> tuple[float, float, float]:
        """Fits one threshold for every route from labelled queries ((embedding, route name or None for
        "no route"), 1..10000) and sets it; returns (threshold, accuracy on the queries, share of the
        "no route" queries that still match a route)."""
        answer = self._transport.unary(Methods.FIT_ROUTE_THRESHOLD, fit_request(router, queries), timeout)
        return float(answer.threshold), float(answer.accuracy), float(answer.false_match_rate)

    def export_router(self, router: str, *, timeout: float | None = None) -> bytes:
        """The router (definition, model, calibration, routes) as bytes, checked against size and CRC-32C."""
        target = ModelFile()
        for chunk in self._transport.server_stream(Methods.EXPORT_ROUTER, route_pb2.ExportRouterRequest(router=router), timeout):
            target.add(chunk)
        return target.finished()

    def import_router(self, router: str, data: bytes | str | os.PathLike[str], *, chunk_bytes: int = 1 << 20,
                      timeout: float | None = None) -> RouterInfo:
        """Creates router `router` from an export (bytes or a file's path)."""
        requests = import_requests(router, _read(data), chunk_bytes)
        return router_info(self._transport.client_stream(Methods.IMPORT_ROUTER, requests, timeout))


class AsyncRoute:
    """RouteService from `ruvector.AsyncClient`: the routing calls of `Route`, awaited."""

    def __init__(self, transport: Any):
        self._transport = transport

    async def create_router(self, name: str, candidates: Sequence[Candidate | str], *, feature_size: int,
                            timeout: float | None = None, **settings: Any) -> RouterInfo:
        """As `Route.create_router`."""
        request = create_request(name, candidates, feature_size, settings)
        return router_info(await self._transport.unary(Methods.CREATE_ROUTER, request, timeout))

    async def route(self, router: str, features: VectorLike | Sequence[VectorLike], *, request_id: str = "",
                    timeout: float | None = None) -> Decision:
        """As `Route.route`."""
        return decision(await self._transport.unary(Methods.ROUTE, route_request(router, features, request_id), timeout))

    async def record_outcome(self, router: str, candidate: str, *, success: bool, request_id: str = "",
                             features: VectorLike | Sequence[VectorLike] | None = None, timeout: float | None = None,
                             **details: Any) -> int:
        """As `Route.record_outcome`."""
        request = outcome_request(router, candidate, success, request_id, features, details)
        return int((await self._transport.unary(Methods.RECORD_OUTCOME, request, timeout)).recorded)

    async def train(self, router: str, *, progress_bar: bool = False, timeout: float | None = None,
                    **settings: Any) -> AsyncIterator[TrainProgress]:
        """As `Route.train`."""
        async for message in self._transport.server_stream(Methods.TRAIN, train_request(router, settings), timeout):
            answer = progress(message)
            if progress_bar:
                _draw(answer)
            yield answer

    async def status(self, router: str, *, timeout: float | None = None) -> RouterStatus:
        """As `Route.status`."""
        return status(await self._transport.unary(Methods.GET_STATUS, route_pb2.RouterStatusRequest(router=router), timeout))

    async def match_route(self, router: str, embedding: VectorLike, *, limit: int = 0,
                          timeout: float | None = None) -> list[RouteMatch]:
        """As `Route.match_route`."""
        answer = await self._transport.unary(Methods.MATCH_ROUTE, match_request(router, embedding, limit), timeout)
        return [RouteMatch(m.name, m.similarity) for m in answer.matches]
