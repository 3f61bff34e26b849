from ruvector.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LearningRateSchedule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEARNING_RATE_SCHEDULE_UNSPECIFIED: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_CONSTANT: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_WARMUP_COSINE: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_PLATEAU: _ClassVar[LearningRateSchedule]
LEARNING_RATE_SCHEDULE_UNSPECIFIED: LearningRateSchedule
LEARNING_RATE_SCHEDULE_CONSTANT: LearningRateSchedule
LEARNING_RATE_SCHEDULE_WARMUP_COSINE: LearningRateSchedule
LEARNING_RATE_SCHEDULE_PLATEAU: LearningRateSchedule

class Judgement(_message.Message):
    __slots__ = ("id", "grade")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    grade: int
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., grade: _Optional[int] = ...) -> None: ...

class RecordFeedbackRequest(_message.Message):
    __slots__ = ("collection", "query", "judgements")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    query: _common_pb2.Vector
    judgements: _containers.RepeatedCompositeFieldContainer[Judgement]
    def __init__(self, collection: _Optional[str] = ..., query: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., judgements: _Optional[_Iterable[_Union[Judgement, _Mapping]]] = ...) -> None: ...

class RecordFeedbackResponse(_message.Message):
    __slots__ = ("buffered",)
    BUFFERED_FIELD_NUMBER: _ClassVar[int]
    buffered: int
    def __init__(self, buffered: _Optional[int] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("collection", "epochs", "learning_rate", "schedule", "warmup_steps", "ewc_lambda", "replay_buffer_size", "holdout_fraction", "seed")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    EWC_LAMBDA_FIELD_NUMBER: _ClassVar[int]
    REPLAY_BUFFER_SIZE_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    collection: str
    epochs: int
    learning_rate: float
    schedule: LearningRateSchedule
    warmup_steps: int
    ewc_lambda: float
    replay_buffer_size: int
    holdout_fraction: float
    seed: int
    def __init__(self, collection: _Optional[str] = ..., epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., schedule: _Optional[_Union[LearningRateSchedule, str]] = ..., warmup_steps: _Optional[int] = ..., ewc_lambda: _Optional[float] = ..., replay_buffer_size: _Optional[int] = ..., holdout_fraction: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class TrainProgress(_message.Message):
    __slots__ = ("epoch", "step", "loss", "learning_rate", "eval_ndcg_at_10", "done")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EVAL_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    step: int
    loss: float
    learning_rate: float
    eval_ndcg_at_10: float
    done: bool
    def __init__(self, epoch: _Optional[int] = ..., step: _Optional[int] = ..., loss: _Optional[float] = ..., learning_rate: _Optional[float] = ..., eval_ndcg_at_10: _Optional[float] = ..., done: bool = ...) -> None: ...

class ModelStatusRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ModelStatus(_message.Message):
    __slots__ = ("collection", "version", "parameters", "trained_unix_micros", "baseline_ndcg_at_10", "model_ndcg_at_10", "feedback_buffered")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TRAINED_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    BASELINE_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    MODEL_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_BUFFERED_FIELD_NUMBER: _ClassVar[int]
    collection: str
    version: int
    parameters: int
    trained_unix_micros: int
    baseline_ndcg_at_10: float
    model_ndcg_at_10: float
    feedback_buffered: int
    def __init__(self, collection: _Optional[str] = ..., version: _Optional[int] = ..., parameters: _Optional[int] = ..., trained_unix_micros: _Optional[int] = ..., baseline_ndcg_at_10: _Optional[float] = ..., model_ndcg_at_10: _Optional[float] = ..., feedback_buffered: _Optional[int] = ...) -> None: ...

class ExportModelRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ImportModelRequest(_message.Message):
    __slots__ = ("collection", "chunk")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    collection: str
    chunk: _common_pb2.FileChunk
    def __init__(self, collection: _Optional[str] = ..., chunk: _Optional[_Union[_common_pb2.FileChunk, _Mapping]] = ...) -> None: ...
