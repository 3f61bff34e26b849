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

class LossKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOSS_KIND_UNSPECIFIED: _ClassVar[LossKind]
    LOSS_KIND_LISTWISE_SOFTMAX: _ClassVar[LossKind]
    LOSS_KIND_INFONCE: _ClassVar[LossKind]
    LOSS_KIND_PAIRWISE: _ClassVar[LossKind]
LEARNING_RATE_SCHEDULE_UNSPECIFIED: LearningRateSchedule
LEARNING_RATE_SCHEDULE_CONSTANT: LearningRateSchedule
LEARNING_RATE_SCHEDULE_WARMUP_COSINE: LearningRateSchedule
LEARNING_RATE_SCHEDULE_PLATEAU: LearningRateSchedule
LOSS_KIND_UNSPECIFIED: LossKind
LOSS_KIND_LISTWISE_SOFTMAX: LossKind
LOSS_KIND_INFONCE: LossKind
LOSS_KIND_PAIRWISE: LossKind

class Judgement(_message.Message):
    __slots__ = ("id", "grade")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    grade: int
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., grade: _Optional[int] = ...) -> None: ...

class RecordFeedbackRequest(_message.Message):
    __slots__ = ("collection", "query", "judgements", "query_id", "shown")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    SHOWN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    query: _common_pb2.Vector
    judgements: _containers.RepeatedCompositeFieldContainer[Judgement]
    query_id: _common_pb2.PointId
    shown: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    def __init__(self, collection: _Optional[str] = ..., query: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., judgements: _Optional[_Iterable[_Union[Judgement, _Mapping]]] = ..., query_id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., shown: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ...) -> None: ...

class RecordFeedbackResponse(_message.Message):
    __slots__ = ("buffered",)
    BUFFERED_FIELD_NUMBER: _ClassVar[int]
    buffered: int
    def __init__(self, buffered: _Optional[int] = ...) -> None: ...

class ModelConfig(_message.Message):
    __slots__ = ("hidden_size", "heads", "layers", "dropout", "neighbours_per_node", "loss", "temperature", "schedule", "warmup_steps", "cosine_steps", "plateau_patience", "replay_size", "ewc_lambda", "batch_size", "retrain_every", "learning_rate", "position_bias")
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    HEADS_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    COSINE_STEPS_FIELD_NUMBER: _ClassVar[int]
    PLATEAU_PATIENCE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_SIZE_FIELD_NUMBER: _ClassVar[int]
    EWC_LAMBDA_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    RETRAIN_EVERY_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    POSITION_BIAS_FIELD_NUMBER: _ClassVar[int]
    hidden_size: int
    heads: int
    layers: int
    dropout: float
    neighbours_per_node: int
    loss: LossKind
    temperature: float
    schedule: LearningRateSchedule
    warmup_steps: int
    cosine_steps: int
    plateau_patience: int
    replay_size: int
    ewc_lambda: float
    batch_size: int
    retrain_every: int
    learning_rate: float
    position_bias: float
    def __init__(self, hidden_size: _Optional[int] = ..., heads: _Optional[int] = ..., layers: _Optional[int] = ..., dropout: _Optional[float] = ..., neighbours_per_node: _Optional[int] = ..., loss: _Optional[_Union[LossKind, str]] = ..., temperature: _Optional[float] = ..., schedule: _Optional[_Union[LearningRateSchedule, str]] = ..., warmup_steps: _Optional[int] = ..., cosine_steps: _Optional[int] = ..., plateau_patience: _Optional[int] = ..., replay_size: _Optional[int] = ..., ewc_lambda: _Optional[float] = ..., batch_size: _Optional[int] = ..., retrain_every: _Optional[int] = ..., learning_rate: _Optional[float] = ..., position_bias: _Optional[float] = ...) -> None: ...

class ConfigureModelRequest(_message.Message):
    __slots__ = ("collection", "config")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    collection: str
    config: ModelConfig
    def __init__(self, collection: _Optional[str] = ..., config: _Optional[_Union[ModelConfig, _Mapping]] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("collection", "epochs", "learning_rate", "schedule", "warmup_steps", "ewc_lambda", "replay_buffer_size", "holdout_fraction", "seed", "batch_size", "loss")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    EWC_LAMBDA_FIELD_NUMBER: _ClassVar[int]
    REPLAY_BUFFER_SIZE_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    epochs: int
    learning_rate: float
    schedule: LearningRateSchedule
    warmup_steps: int
    ewc_lambda: float
    replay_buffer_size: int
    holdout_fraction: float
    seed: int
    batch_size: int
    loss: LossKind
    def __init__(self, collection: _Optional[str] = ..., epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., schedule: _Optional[_Union[LearningRateSchedule, str]] = ..., warmup_steps: _Optional[int] = ..., ewc_lambda: _Optional[float] = ..., replay_buffer_size: _Optional[int] = ..., holdout_fraction: _Optional[float] = ..., seed: _Optional[int] = ..., batch_size: _Optional[int] = ..., loss: _Optional[_Union[LossKind, str]] = ...) -> None: ...

class TrainProgress(_message.Message):
    __slots__ = ("epoch", "step", "loss", "learning_rate", "eval_ndcg_at_10", "done", "eval_recall_at_10", "eval_mrr")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EVAL_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    EVAL_RECALL_AT_10_FIELD_NUMBER: _ClassVar[int]
    EVAL_MRR_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    step: int
    loss: float
    learning_rate: float
    eval_ndcg_at_10: float
    done: bool
    eval_recall_at_10: float
    eval_mrr: float
    def __init__(self, epoch: _Optional[int] = ..., step: _Optional[int] = ..., loss: _Optional[float] = ..., learning_rate: _Optional[float] = ..., eval_ndcg_at_10: _Optional[float] = ..., done: bool = ..., eval_recall_at_10: _Optional[float] = ..., eval_mrr: _Optional[float] = ...) -> None: ...

class ModelStatusRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ModelStatus(_message.Message):
    __slots__ = ("collection", "version", "parameters", "trained_unix_micros", "baseline_ndcg_at_10", "model_ndcg_at_10", "feedback_buffered", "baseline_recall_at_10", "model_recall_at_10", "baseline_mrr", "model_mrr", "training_examples", "latest_version", "activated", "config", "note")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TRAINED_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    BASELINE_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    MODEL_NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_BUFFERED_FIELD_NUMBER: _ClassVar[int]
    BASELINE_RECALL_AT_10_FIELD_NUMBER: _ClassVar[int]
    MODEL_RECALL_AT_10_FIELD_NUMBER: _ClassVar[int]
    BASELINE_MRR_FIELD_NUMBER: _ClassVar[int]
    MODEL_MRR_FIELD_NUMBER: _ClassVar[int]
    TRAINING_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    version: int
    parameters: int
    trained_unix_micros: int
    baseline_ndcg_at_10: float
    model_ndcg_at_10: float
    feedback_buffered: int
    baseline_recall_at_10: float
    model_recall_at_10: float
    baseline_mrr: float
    model_mrr: float
    training_examples: int
    latest_version: int
    activated: bool
    config: ModelConfig
    note: str
    def __init__(self, collection: _Optional[str] = ..., version: _Optional[int] = ..., parameters: _Optional[int] = ..., trained_unix_micros: _Optional[int] = ..., baseline_ndcg_at_10: _Optional[float] = ..., model_ndcg_at_10: _Optional[float] = ..., feedback_buffered: _Optional[int] = ..., baseline_recall_at_10: _Optional[float] = ..., model_recall_at_10: _Optional[float] = ..., baseline_mrr: _Optional[float] = ..., model_mrr: _Optional[float] = ..., training_examples: _Optional[int] = ..., latest_version: _Optional[int] = ..., activated: bool = ..., config: _Optional[_Union[ModelConfig, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

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
