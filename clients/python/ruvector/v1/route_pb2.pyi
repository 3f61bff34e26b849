from ruvector.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DecisionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_REASON_UNSPECIFIED: _ClassVar[DecisionReason]
    DECISION_REASON_BEST_SCORE: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_CIRCUIT_OPEN: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_UNTRAINED: _ClassVar[DecisionReason]
    DECISION_REASON_FALLBACK_LOW_CONFIDENCE: _ClassVar[DecisionReason]

class CircuitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_STATE_UNSPECIFIED: _ClassVar[CircuitState]
    CIRCUIT_STATE_CLOSED: _ClassVar[CircuitState]
    CIRCUIT_STATE_OPEN: _ClassVar[CircuitState]
    CIRCUIT_STATE_HALF_OPEN: _ClassVar[CircuitState]
DECISION_REASON_UNSPECIFIED: DecisionReason
DECISION_REASON_BEST_SCORE: DecisionReason
DECISION_REASON_FALLBACK_CIRCUIT_OPEN: DecisionReason
DECISION_REASON_FALLBACK_UNTRAINED: DecisionReason
DECISION_REASON_FALLBACK_LOW_CONFIDENCE: DecisionReason
CIRCUIT_STATE_UNSPECIFIED: CircuitState
CIRCUIT_STATE_CLOSED: CircuitState
CIRCUIT_STATE_OPEN: CircuitState
CIRCUIT_STATE_HALF_OPEN: CircuitState

class Candidate(_message.Message):
    __slots__ = ("name", "features", "cost")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    name: str
    features: _containers.RepeatedScalarFieldContainer[float]
    cost: float
    def __init__(self, name: _Optional[str] = ..., features: _Optional[_Iterable[float]] = ..., cost: _Optional[float] = ...) -> None: ...

class RouteRequest(_message.Message):
    __slots__ = ("router", "features", "candidates", "coverage", "request_id")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    router: str
    features: _common_pb2.Vector
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    coverage: float
    request_id: str
    def __init__(self, router: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., coverage: _Optional[float] = ..., request_id: _Optional[str] = ...) -> None: ...

class ScoredCandidate(_message.Message):
    __slots__ = ("name", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    score: float
    def __init__(self, name: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class RouteDecision(_message.Message):
    __slots__ = ("chosen", "confidence", "uncertainty", "prediction_set", "alternatives", "reason", "model_version")
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_SET_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    chosen: str
    confidence: float
    uncertainty: float
    prediction_set: _containers.RepeatedScalarFieldContainer[str]
    alternatives: _containers.RepeatedCompositeFieldContainer[ScoredCandidate]
    reason: DecisionReason
    model_version: int
    def __init__(self, chosen: _Optional[str] = ..., confidence: _Optional[float] = ..., uncertainty: _Optional[float] = ..., prediction_set: _Optional[_Iterable[str]] = ..., alternatives: _Optional[_Iterable[_Union[ScoredCandidate, _Mapping]]] = ..., reason: _Optional[_Union[DecisionReason, str]] = ..., model_version: _Optional[int] = ...) -> None: ...

class SemanticRoute(_message.Message):
    __slots__ = ("name", "examples", "utterances", "threshold")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    name: str
    examples: _containers.RepeatedCompositeFieldContainer[_common_pb2.Vector]
    utterances: _containers.RepeatedScalarFieldContainer[str]
    threshold: float
    def __init__(self, name: _Optional[str] = ..., examples: _Optional[_Iterable[_Union[_common_pb2.Vector, _Mapping]]] = ..., utterances: _Optional[_Iterable[str]] = ..., threshold: _Optional[float] = ...) -> None: ...

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
    __slots__ = ("router", "epochs", "learning_rate", "distillation_weight", "seed")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    DISTILLATION_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    router: str
    epochs: int
    learning_rate: float
    distillation_weight: float
    seed: int
    def __init__(self, router: _Optional[str] = ..., epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., distillation_weight: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class TrainRouterProgress(_message.Message):
    __slots__ = ("epoch", "loss", "accuracy", "done")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    loss: float
    accuracy: float
    done: bool
    def __init__(self, epoch: _Optional[int] = ..., loss: _Optional[float] = ..., accuracy: _Optional[float] = ..., done: bool = ...) -> None: ...

class RouterStatusRequest(_message.Message):
    __slots__ = ("router",)
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    router: str
    def __init__(self, router: _Optional[str] = ...) -> None: ...

class CircuitBreakerStatus(_message.Message):
    __slots__ = ("candidate", "state", "consecutive_failures", "retry_at_unix_micros")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    candidate: str
    state: CircuitState
    consecutive_failures: int
    retry_at_unix_micros: int
    def __init__(self, candidate: _Optional[str] = ..., state: _Optional[_Union[CircuitState, str]] = ..., consecutive_failures: _Optional[int] = ..., retry_at_unix_micros: _Optional[int] = ...) -> None: ...

class RouterStatus(_message.Message):
    __slots__ = ("router", "model_version", "outcomes_recorded", "calibrated_coverage", "breakers")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_RECORDED_FIELD_NUMBER: _ClassVar[int]
    CALIBRATED_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    BREAKERS_FIELD_NUMBER: _ClassVar[int]
    router: str
    model_version: int
    outcomes_recorded: int
    calibrated_coverage: float
    breakers: _containers.RepeatedCompositeFieldContainer[CircuitBreakerStatus]
    def __init__(self, router: _Optional[str] = ..., model_version: _Optional[int] = ..., outcomes_recorded: _Optional[int] = ..., calibrated_coverage: _Optional[float] = ..., breakers: _Optional[_Iterable[_Union[CircuitBreakerStatus, _Mapping]]] = ...) -> None: ...
