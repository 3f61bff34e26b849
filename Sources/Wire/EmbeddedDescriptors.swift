internal import RuVectorProto

/// The descriptors of every served `.proto` file, embedded at build time (protobuf-c keeps
/// none at run time). Server reflection answers from here.
public enum EmbeddedDescriptors {
    /// Fully qualified names of every service declared in the embedded files.
    public static var serviceNames: [String] { EmbeddedDescriptorIndex.serviceNames }

    /// Names of the embedded files, e.g. `grpc/health/v1/health.proto`.
    public static var fileNames: [String] { EmbeddedDescriptorIndex.fileNames }

    private static let fileIndex: [String: Int] = Dictionary(
        uniqueKeysWithValues: EmbeddedDescriptorIndex.fileNames.enumerated().map { ($1, $0) })

    private static let symbolIndex: [String: Int] = Dictionary(
        EmbeddedDescriptorIndex.symbolNames.enumerated().map { ($1, EmbeddedDescriptorIndex.symbolFiles[$0]) },
        uniquingKeysWith: { first, _ in first })

    /// The serialized `FileDescriptorProto` of a file, or nil when it is not embedded.
    public static func fileDescriptor(named name: String) -> [UInt8]? {
        guard let index = fileIndex[name] else { return nil }
        let offset = EmbeddedDescriptorIndex.fileRanges[index * 2]
        let length = EmbeddedDescriptorIndex.fileRanges[index * 2 + 1]
        let blob = UnsafeBufferPointer(start: RuVectorProto_descriptor_blob(), count: RuVectorProto_descriptor_blob_size())
        return Array(blob[offset..<offset + length])
    }

    /// The file declaring a symbol: a service, a method (`pkg.Service.Method`), a message
    /// (nested ones too) or an enum.
    public static func fileName(containingSymbol symbol: String) -> String? {
        symbolIndex[symbol].map { EmbeddedDescriptorIndex.fileNames[$0] }
    }

    /// The files a file imports directly.
    public static func dependencies(ofFile name: String) -> [String] {
        guard let index = fileIndex[name] else { return [] }
        return EmbeddedDescriptorIndex.fileDependencies[index].map { EmbeddedDescriptorIndex.fileNames[$0] }
    }

    /// The file and everything it imports, transitively, the file first.
    public static func transitiveFiles(from name: String) -> [String] {
        guard fileIndex[name] != nil else { return [] }
        var ordered = [name]
        var seen: Set<String> = [name]
        var cursor = 0
        while cursor < ordered.count {
            for dependency in dependencies(ofFile: ordered[cursor]) where seen.insert(dependency).inserted {
                ordered.append(dependency)
            }
            cursor += 1
        }
        return ordered
    }
}
