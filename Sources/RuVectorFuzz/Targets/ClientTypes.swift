import RuVectorClient

/// The client library's payload value (VectorEngine, also imported by the fuzzer, has its own
/// `PayloadValue`; the module name cannot qualify it, a type in it has the same name).
typealias ClientPayloadValue = PayloadValue
