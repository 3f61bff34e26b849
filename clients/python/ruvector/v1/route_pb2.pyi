from ruvector.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RouteOptimize(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTE_OPTIMIZE_UNSPECIFIED: _ClassVar[RouteOptimize]
    ROUTE_OPTIMIZE_COST: _ClassVar[RouteOptimize]
    ROUTE_OPTIMIZE_LATENCY: _ClassVar[RouteOptimize]
    ROUTE_OPTIMIZE_QUALITY: _ClassVar[RouteOptimize]

class RouteFallback(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTE_FALLBACK_UNSPECIFIED: _ClassVar[RouteFallback]
    ROUTE_FALLBACK_ROUND_ROBIN: _ClassVar[RouteFallback]
    ROUTE_FALLBACK_CHEAPEST: _ClassVar[RouteFallback]
    ROUTE_FALLBACK_STRONGEST: _ClassVar[RouteFallback]

class DecisionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_REASON_UNSPECIFIED: _ClassVar[DecisionReason]
    DECISION_REASON_BEST_SCORE: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_CIRCUIT_OPEN: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_UNTRAINED: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_LOW_CONFIDENCE: _ClassVar[DecisionReason]
    DECISION_REASON_UNCERTAIN: _ClassVar[DecisionReason]
    DECISION_REASON_NONE_AVAILABLE: _ClassVar[DecisionReason]

class CircuitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_STATE_UNSPECIFIED: _ClassVar[CircuitState]
    CIRCUIT_STATE_CLOSED: _ClassVar[CircuitState]
    CIRCUIT_STATE_OPEN: _ClassVar[CircuitState]
    CIRCUIT_STATE_HALF_OPEN: _ClassVar[CircuitState]
ROUTE_OPTIMIZE_UNSPECIFIED: RouteOptimize
ROUTE_OPTIMIZE_COST: RouteOptimize
ROUTE_OPTIMIZE_LATENCY: RouteOptimize
ROUTE_OPTIMIZE_QUALITY: RouteOptimize
ROUTE_FALLBACK_UNSPECIFIED: RouteFallback
ROUTE_FALLBACK_ROUND_ROBIN: RouteFallback
ROUTE_FALLBACK_CHEAPEST: RouteFallback
ROUTE_FALLBACK_STRONGEST: RouteFallback
DECISION_REASON_UNSPECIFIED: DecisionReason
DECISION_REASON_BEST_SCORE: DecisionReason
DECISION_REASON_FALLBACK_CIRCUIT_OPEN: DecisionReason
DECISION_REASON_FALLBACK_UNTRAINED: DecisionReason
DECISION_REASON_FALLBACK_LOW_CONFIDENCE: DecisionReason
DECISION_REASON_UNCERTAIN: DecisionReason
DECISION_REASON_NONE_AVAILABLE: DecisionReason
CIRCUIT_STATE_UNSPECIFIED: CircuitState
CIRCUIT_STATE_CLOSED: CircuitState
CIRCUIT_STATE_OPEN: CircuitState
CIRCUIT_STATE_HALF_OPEN: CircuitState

class Candidate(_message.Message):
    __slots__ = ("name", "cost", "latency_millis", "quality")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MILLIS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    cost: float
    latency_millis: float
    quality: float
    def __init__(self, name: _Optional[str] = ..., cost: _Optional[float] = ..., latency_millis: _Optional[float] = ..., quality: _Optional[float] = ...) -> None: ...

class CreateRouterRequest(_message.Message):
    __slots__ = ("name", "candidates", "feature_size", "time_steps", "hidden_size", "w_rank", "u_rank", "confidence_threshold", "fallback", "breaker_failures", "breaker_cool_down_millis", "breaker_trials", "optimize", "conformal_alpha", "min_quality", "outcome_window")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TIME_STEPS_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    W_RANK_FIELD_NUMBER: _ClassVar[int]
    U_RANK_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FAILURES_FIELD_NUMBER: _ClassVar[int]
    BREAKER_COOL_DOWN_MILLIS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_TRIALS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZE_FIELD_NUMBER: _ClassVar[int]
    CONFORMAL_ALPHA_FIELD_NUMBER: _ClassVar[int]
    MIN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    name: str
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    feature_size: int
    time_steps: int
    hidden_size: int
    w_rank: int
    u_rank: int
    confidence_threshold: float
    fallback: RouteFallback
    breaker_failures: int
    breaker_cool_down_millis: int
    breaker_trials: int
    optimize: RouteOptimize
    conformal_alpha: float
    min_quality: float
    outcome_window: int
    def __init__(self, name: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., feature_size: _Optional[int] = ..., time_steps: _Optional[int] = ..., hidden_size: _Optional[int] = ..., w_rank: _Optional[int] = ..., u_rank: _Optional[int] = ..., confidence_threshold: _Optional[float] = ..., fallback: _Optional[_Union[RouteFallback, str]] = ..., breaker_failures: _Optional[int] = ..., breaker_cool_down_millis: _Optional[int] = ..., breaker_trials: _Optional[int] = ..., optimize: _Optional[_Union[RouteOptimize, str]] = ..., conformal_alpha: _Optional[float] = ..., min_quality: _Optional[float] = ..., outcome_window: _Optional[int] = ...) -> None: ...

class RouterInfo(_message.Message):
    __slots__ = ("definition", "model_version", "outcomes_recorded", "route_count")
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_RECORDED_FIELD_NUMBER: _ClassVar[int]
    ROUTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    definition: CreateRouterRequest
    model_version: int
    outcomes_recorded: int
    route_count: int
    def __init__(self, definition: _Optional[_Union[CreateRouterRequest, _Mapping]] = ..., model_version: _Optional[int] = ..., outcomes_recorded: _Optional[int] = ..., route_count: _Optional[int] = ...) -> None: ...

class GetRouterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRoutersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRoutersResponse(_message.Message):
    __slots__ = ("routers",)
    ROUTERS_FIELD_NUMBER: _ClassVar[int]
    routers: _containers.RepeatedCompositeFieldContainer[RouterInfo]
    def __init__(self, routers: _Optional[_Iterable[_Union[RouterInfo, _Mapping]]] = ...) -> None: ...

class DeleteRouterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRouterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RouteRequest(_message.Message):
    __slots__ = ("router", "features", "request_id")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    router: str
    features: _common_pb2.Vector
    request_id: str
    def __init__(self, router: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ScoredCandidate(_message.Message):
    __slots__ = ("name", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    score: float
    def __init__(self, name: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class RouteDecision(_message.Message):
    __slots__ = ("chosen", "confidence", "prediction_set", "alternatives", "reason", "model_version", "skipped_open", "request_id")
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_SET_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_OPEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    chosen: str
    confidence: float
    prediction_set: _containers.RepeatedScalarFieldContainer[str]
    alternatives: _containers.RepeatedCompositeFieldContainer[ScoredCandidate]
    reason: DecisionReason
    model_version: int
    skipped_open: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, chosen: _Optional[str] = ..., confidence: _Optional[float] = ..., prediction_set: _Optional[_Iterable[str]] = ..., alternatives: _Optional[_Iterable[_Union[ScoredCandidate, _Mapping]]] = ..., reason: _Optional[_Union[DecisionReason, str]] = ..., model_version: _Optional[int] = ..., skipped_open: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class SemanticRoute(_message.Message):
    __slots__ = ("name", "examples", "utterances", "threshold", "example_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    examples: _containers.RepeatedCompositeFieldContainer[_common_pb2.Vector]
    utterances: _containers.RepeatedScalarFieldContainer[str]
    threshold: float
    example_count: int
    def __init__(self, name: _Optional[str] = ..., examples: _Optional[_Iterable[_Union[_common_pb2.Vector, _Mapping]]] = ..., utterances: _Optional[_Iterable[str]] = ..., threshold: _Optional[float] = ..., example_count: _Optional[int] = ...) -> None: ...

class RegisterRouteRequest(_message.Message):
    __slots__ = ("router", "route")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    router: str
    route: SemanticRoute
    def __init__(self, router: _Optional[str] = ..., route: _Optional[_Union[SemanticRoute, _Mapping]] = ...) -> None: ...

class ListRoutesRequest(_message.Message):
    __slots__ = ("router",)
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    router: str
    def __init__(self, router: _Optional[str] = ...) -> None: ...

class ListRoutesResponse(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[SemanticRoute]
    def __init__(self, routes: _Optional[_Iterable[_Union[SemanticRoute, _Mapping]]] = ...) -> None: ...

class DeleteRouteRequest(_message.Message):
    __slots__ = ("router", "name")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    router: str
    name: str
    def __init__(self, router: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteRouteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MatchRouteRequest(_message.Message):
    __slots__ = ("router", "embedding", "limit")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    router: str
    embedding: _common_pb2.Vector
    limit: int
    def __init__(self, router: _Optional[str] = ..., embedding: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class RouteMatch(_message.Message):
    __slots__ = ("name", "similarity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    similarity: float
    def __init__(self, name: _Optional[str] = ..., similarity: _Optional[float] = ...) -> None: ...

class MatchRouteResponse(_message.Message):
    __slots__ = ("matches",)
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[RouteMatch]
    def __init__(self, matches: _Optional[_Iterable[_Union[RouteMatch, _Mapping]]] = ...) -> None: ...

class LabelledQuery(_message.Message):
    __slots__ = ("embedding", "route")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    embedding: _common_pb2.Vector
    route: str
    def __init__(self, embedding: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., route: _Optional[str] = ...) -> None: ...

class FitRouteThresholdRequest(_message.Message):
    __slots__ = ("router", "queries")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    router: str
    queries: _containers.RepeatedCompositeFieldContainer[LabelledQuery]
    def __init__(self, router: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[LabelledQuery, _Mapping]]] = ...) -> None: ...

class FitRouteThresholdResponse(_message.Message):
    __slots__ = ("threshold", "accuracy", "false_match_rate")
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    FALSE_MATCH_RATE_FIELD_NUMBER: _ClassVar[int]
    threshold: float
    accuracy: float
    false_match_rate: float
    def __init__(self, threshold: _Optional[float] = ..., accuracy: _Optional[float] = ..., false_match_rate: _Optional[float] = ...) -> None: ...

class RecordOutcomeRequest(_message.Message):
    __slots__ = ("router", "request_id", "candidate", "success", "latency_micros", "cost", "quality", "teacher_scores", "features")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MICROS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    TEACHER_SCORES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    router: str
    request_id: str
    candidate: str
    success: bool
    latency_micros: int
    cost: float
    quality: float
    teacher_scores: _containers.RepeatedCompositeFieldContainer[ScoredCandidate]
    features: _common_pb2.Vector
    def __init__(self, router: _Optional[str] = ..., request_id: _Optional[str] = ..., candidate: _Optional[str] = ..., success: bool = ..., latency_micros: _Optional[int] = ..., cost: _Optional[float] = ..., quality: _Optional[float] = ..., teacher_scores: _Optional[_Iterable[_Union[ScoredCandidate, _Mapping]]] = ..., features: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...

class RecordOutcomeResponse(_message.Message):
    __slots__ = ("recorded",)
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    def __init__(self, recorded: _Optional[int] = ...) -> None: ...

class TrainRouterRequest(_message.Message):
    __slots__ = ("router", "epochs", "learning_rate", "distillation_weight", "seed", "batch_size", "keep_fraction", "quantize")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    DISTILLATION_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    KEEP_FRACTION_FIELD_NUMBER: _ClassVar[int]
    QUANTIZE_FIELD_NUMBER: _ClassVar[int]
    router: str
    epochs: int
    learning_rate: float
    distillation_weight: float
    seed: int
    batch_size: int
    keep_fraction: float
    quantize: bool
    def __init__(self, router: _Optional[str] = ..., epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., distillation_weight: _Optional[float] = ..., seed: _Optional[int] = ..., batch_size: _Optional[int] = ..., keep_fraction: _Optional[float] = ..., quantize: bool = ...) -> None: ...

class TrainRouterProgress(_message.Message):
    __slots__ = ("epoch", "loss", "accuracy", "done", "model_version", "coverage")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    loss: float
    accuracy: float
    done: bool
    model_version: int
    coverage: float
    def __init__(self, epoch: _Optional[int] = ..., loss: _Optional[float] = ..., accuracy: _Optional[float] = ..., done: bool = ..., model_version: _Optional[int] = ..., coverage: _Optional[float] = ...) -> None: ...

class RouterStatusRequest(_message.Message):
    __slots__ = ("router",)
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    router: str
    def __init__(self, router: _Optional[str] = ...) -> None: ...

class CircuitBreakerStatus(_message.Message):
    __slots__ = ("candidate", "state", "consecutive_failures", "retry_at_unix_micros", "openings", "routed")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    OPENINGS_FIELD_NUMBER: _ClassVar[int]
    ROUTED_FIELD_NUMBER: _ClassVar[int]
    candidate: str
    state: CircuitState
    consecutive_failures: int
    retry_at_unix_micros: int
    openings: int
    routed: int
    def __init__(self, candidate: _Optional[str] = ..., state: _Optional[_Union[CircuitState, str]] = ..., consecutive_failures: _Optional[int] = ..., retry_at_unix_micros: _Optional[int] = ..., openings: _Optional[int] = ..., routed: _Optional[int] = ...) -> None: ...

class RouterStatus(_message.Message):
    __slots__ = ("router", "model_version", "outcomes_recorded", "calibrated_coverage", "breakers", "accuracy", "calibration_count", "conformal_threshold", "conformal_alpha", "model_bytes", "nonzero_weights", "training_examples", "trained_unix_micros", "requests_routed", "quantized", "evaluation_count", "outcome_log_records", "outcome_log_bytes")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_RECORDED_FIELD_NUMBER: _ClassVar[int]
    CALIBRATED_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    BREAKERS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONFORMAL_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CONFORMAL_ALPHA_FIELD_NUMBER: _ClassVar[int]
    MODEL_BYTES_FIELD_NUMBER: _ClassVar[int]
    NONZERO_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    TRAINED_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_ROUTED_FIELD_NUMBER: _ClassVar[int]
    QUANTIZED_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_LOG_RECORDS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_LOG_BYTES_FIELD_NUMBER: _ClassVar[int]
    router: str
    model_version: int
    outcomes_recorded: int
    calibrated_coverage: float
    breakers: _containers.RepeatedCompositeFieldContainer[CircuitBreakerStatus]
    accuracy: float
    calibration_count: int
    conformal_threshold: float
    conformal_alpha: float
    model_bytes: int
    nonzero_weights: int
    training_examples: int
    trained_unix_micros: int
    requests_routed: int
    quantized: bool
    evaluation_count: int
    outcome_log_records: int
    outcome_log_bytes: int
    def __init__(self, router: _Optional[str] = ..., model_version: _Optional[int] = ..., outcomes_recorded: _Optional[int] = ..., calibrated_coverage: _Optional[float] = ..., breakers: _Optional[_Iterable[_Union[CircuitBreakerStatus, _Mapping]]] = ..., accuracy: _Optional[float] = ..., calibration_count: _Optional[int] = ..., conformal_threshold: _Optional[float] = ..., conformal_alpha: _Optional[float] = ..., model_bytes: _Optional[int] = ..., nonzero_weights: _Optional[int] = ..., training_examples: _Optional[int] = ..., trained_unix_micros: _Optional[int] = ..., requests_routed: _Optional[int] = ..., quantized: bool = ..., evaluation_count: _Optional[int] = ..., outcome_log_records: _Optional[int] = ..., outcome_log_bytes: _Optional[int] = ...) -> None: ...

class ExportRouterRequest(_message.Message):
    __slots__ = ("router",)
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    router: str
    def __init__(self, router: _Optional[str] = ...) -> None: ...

class ImportRouterRequest(_message.Message):
    __slots__ = ("router", "chunk")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    router: str
    chunk: _common_pb2.FileChunk
    def __init__(self, router: _Optional[str] = ..., chunk: _Optional[_Union[_common_pb2.FileChunk, _Mapping]] = ...) -> None: ...
