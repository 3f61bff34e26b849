internal import CProtobufC
#if canImport(Glibc)
import Glibc
#endif

/// C memory for one message tree being packed: every allocation is released together
/// once protobuf-c has written the bytes. The only owner of unsafe allocations in Wire.
struct WireArena: ~Copyable {
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {}

    deinit {
        for allocation in allocations { free(allocation) }
    }

    private mutating func allocate(bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        // calloc: zeroed, and aligned for any C type.
        guard let memory = calloc(1, max(bytes, 1)) else { fatalError("out of memory packing a message") }
        allocations.append(memory)
        return memory
    }

    /// A protobuf-c message struct initialised by its descriptor (defaults, base header).
    mutating func message<C>(_ type: C.Type, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> UnsafeMutablePointer<C> {
        let memory = allocate(bytes: MemoryLayout<C>.size, alignment: MemoryLayout<C>.alignment)
        protobuf_c_message_init(descriptor, memory)
        return memory.bindMemory(to: C.self, capacity: 1)
    }

    /// Zeroed storage for `count` elements.
    mutating func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(bytes: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A C copy of `elements`.
    mutating func copy<T>(_ elements: [T]) -> UnsafeMutablePointer<T> {
        let pointer = array(of: T.self, count: elements.count)
        elements.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.initialize(from: base, count: source.count) }
        }
        return pointer
    }

    /// A NUL-terminated copy of `string`.
    mutating func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            // Zeroed by calloc, so the terminating NUL is already there.
            let pointer = array(of: CChar.self, count: utf8.count + 1)
            if let base = utf8.baseAddress {
                UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: utf8.count)
            }
            return pointer
        }
    }

    /// A protobuf-c bytes value holding a copy of `bytes`.
    mutating func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: copy(bytes))
    }
}

/// Reading protobuf-c values into Swift.
enum WireRuntime {
    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        string(UnsafePointer(pointer))
    }

    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: data.len))
    }
}

/// Decoding and encoding through protobuf-c's generic message functions.
enum WireCodec {
    static func decode<M>(_ bytes: [UInt8], schemaIndex: Int, descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
                          name: String, _ read: (UnsafeRawPointer) -> M) throws(WireError) -> M {
        try WireValidator.validate(bytes, schemaIndex: schemaIndex, messageName: name)
        // protobuf-c wants a non-null pointer even for an empty message.
        let storage = bytes.isEmpty ? [0] : bytes
        let result: M? = storage.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress,
                  let message = protobuf_c_message_unpack(descriptor, nil, bytes.count, base) else { return nil }
            defer { protobuf_c_message_free_unpacked(message, nil) }
            return read(UnsafeRawPointer(message))
        }
        guard let result else { throw WireError(.malformed, "\(name): not a valid protobuf encoding of this message") }
        return result
    }

    static func encode(_ build: (inout WireArena) -> UnsafeMutableRawPointer) -> [UInt8] {
        var arena = WireArena()
        let message = build(&arena).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(message)
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            _ = protobuf_c_message_pack(message, base)
        }
        return out
    }
}
