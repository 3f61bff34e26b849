import RPC
import Storage
import Wire

/// Server reflection, `grpc.reflection.v1` and `grpc.reflection.v1alpha` (grpcurl 1.8 and
/// Python's grpcio-reflection speak v1alpha). Both versions have the same wire format, so
/// one implementation reads and writes the v1 types for both. Answers come from the
/// descriptors embedded at build time (protobuf-c keeps none at run time).
struct ReflectionService: RPCService {
    static let names = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
    /// The services `list_services` reports: the ones this server actually routes.
    let servedServices: @Sendable () -> [String]

    typealias Request = GrpcReflectionV1.ServerReflectionRequest
    typealias Response = GrpcReflectionV1.ServerReflectionResponse

    func register(into router: inout RPCRouter) {
        let served = servedServices
        for name in Self.names {
            router.bidirectional(name, "ServerReflectionInfo", Request.self, Response.self) { requests, writer, _ in
                var sentFiles = Set<String>()
                for try await request in requests {
                    try await writer.send(Self.answer(request, servedServices: served(), sentFiles: &sentFiles))
                }
            }
        }
    }

    /// Answers one reflection request. Files already sent on this stream are not sent again
    /// (the protocol lets clients rely on that to save bytes).
    static func answer(_ request: Request, servedServices: [String], sentFiles: inout Set<String>) -> Response {
        var response = Response()
        response.validHost = request.host
        response.originalRequest = request
        switch request.messageRequest {
        case .listServices?:
            var list = GrpcReflectionV1.ListServiceResponse()
            list.service = servedServices.map { GrpcReflectionV1.ServiceResponse(name: $0) }
            response.messageResponse = .listServicesResponse(list)
        case .fileByFilename(let name)?:
            response.messageResponse = files(startingAt: name, sentFiles: &sentFiles)
                ?? error(.notFound, "no file named \(MessageText.quoted(name))")
        case .fileContainingSymbol(let symbol)?:
            if let file = EmbeddedDescriptors.fileName(containingSymbol: symbol) {
                response.messageResponse = files(startingAt: file, sentFiles: &sentFiles)
            } else {
                response.messageResponse = error(.notFound, "no symbol named '\(symbol)'")
            }
        case .fileContainingExtension(let request)?:
            response.messageResponse = error(.notFound,
                "no extension \(request.extensionNumber) of \(MessageText.quoted(request.containingType)) (this server declares no extensions)")
        case .allExtensionNumbersOfType(let type)?:
            if EmbeddedDescriptors.fileName(containingSymbol: type) != nil {
                var numbers = GrpcReflectionV1.ExtensionNumberResponse()
                numbers.baseTypeName = type
                response.messageResponse = .allExtensionNumbersResponse(numbers)
            } else {
                response.messageResponse = error(.notFound, "no type named '\(type)'")
            }
        case nil:
            response.messageResponse = error(.invalidArgument, "the request names no reflection query")
        }
        return response
    }

    /// The file and every file it depends on, transitively, minus those already sent.
    private static func files(startingAt name: String, sentFiles: inout Set<String>) -> Response.MessageResponse? {
        guard EmbeddedDescriptors.fileDescriptor(named: name) != nil else { return nil }
        var answer = GrpcReflectionV1.FileDescriptorResponse()
        for file in EmbeddedDescriptors.transitiveFiles(from: name) where file == name || !sentFiles.contains(file) {
            if let bytes = EmbeddedDescriptors.fileDescriptor(named: file) {
                answer.fileDescriptorProto.append(bytes)
                sentFiles.insert(file)
            }
        }
        return .fileDescriptorResponse(answer)
    }

    private static func error(_ code: StatusCode, _ message: String) -> Response.MessageResponse {
        var error = GrpcReflectionV1.ErrorResponse()
        error.errorCode = Int32(code.rawValue)
        error.errorMessage = message
        return .errorResponse(error)
    }
}
