import NIOCore
import NIOPosix
import Testing
@testable import ClusterNode

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP socket bound to a free port, listening (never accepting) or not.
private final class LoopbackSocket {
    let descriptor: Int32
    let port: Int

    init(listening: Bool) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic -> Bool in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound, !listening || listen(descriptor, 8) == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code, reason: "loopback socket")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite("Connect probe: only a refused connect says nothing listens")
struct ConnectProbeTests {
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    @Test("a port with no listener is refused")
    func refused() async throws {
        // Bound but not listening: the kernel answers a connect with RST, as for a dead process.
        let socket = try LoopbackSocket(listening: false)
        #expect(await ConnectProbe.probe(host: "127.0.0.1", port: socket.port, timeout: .milliseconds(500), group: Self.group) == .refused)
    }

    @Test("a listener that never accepts or answers (a paused process) is not refused")
    func silentListener() async throws {
        let socket = try LoopbackSocket(listening: true)
        #expect(await ConnectProbe.probe(host: "127.0.0.1", port: socket.port, timeout: .milliseconds(500), group: Self.group) == .connected)
    }

    @Test("errors other than ECONNREFUSED prove nothing")
    func otherErrors() {
        #expect(ConnectProbe.refused(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!ConnectProbe.refused(IOError(errnoCode: ECONNRESET, reason: "read")))
        #expect(!ConnectProbe.refused(IOError(errnoCode: EHOSTUNREACH, reason: "connect")))
        #expect(!ConnectProbe.refused(ChannelError.connectTimeout(.milliseconds(200))))
    }
}
