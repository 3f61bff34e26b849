#if canImport(Glibc)
import Glibc
#endif
import RPC
import Storage

/// What the server checks before it creates or opens anything: TLS files load, the listen
/// addresses are free; then it takes its data directory (creating only that folder) and
/// holds the directory's lock for the life of the process.
enum StartupChecks {
    /// A problem the operator must fix; the message says what.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The TLS files load as a server would use them (exist, readable, parse, key matches).
    static func checkTLS(_ configuration: TLSConfiguration?) throws(Failure) {
        guard let configuration else { return }
        for (what, path) in [("certificate chain (--tls-cert)", configuration.certificateChainPath),
                             ("private key (--tls-key)", configuration.privateKeyPath),
                             ("client CA bundle (--tls-client-ca)", configuration.trustRootsPath)] {
            guard let path else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let hint = path == configuration.privateKeyPath ? " (mode 0600, owned by that user)" : ""
                throw Failure(description: "cannot read the TLS \(what) '\(path)': \(String(cString: strerror(errno))); "
                    + "it must be readable by the user the server runs as\(hint)")
            }
            close(fd)
        }
        do { try configuration.checkServerFiles() } catch { throw Failure(description: "TLS: \(error.message)") }
    }

    /// Nothing listens on `host:port` yet (port 0 always passes): binds a socket as the server
    /// will (with SO_REUSEADDR) and closes it.
    static func checkAddressFree(host: String, port: Int, option: String) throws(Failure) {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw Failure(description: "\(option): cannot resolve host '\(host)'")
        }
        defer { freeaddrinfo(first) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return }   // the real bind will say what is wrong
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            throw Failure(description: "\(option) \(host):\(port) cannot be used: \(reason)"
                + (errno == EADDRINUSE ? " (another process listens there; stop it or choose another port)" : ""))
        }
    }

    /// Takes the data directory: creates it if missing (its parent must exist; mode 0750), checks
    /// it is a writable directory and locks it. A directory another server holds is refused,
    /// naming that server.
    static func lockDataDirectory(_ path: String) throws(Failure) -> DirectoryLock {
        var info = stat()
        if stat(path, &info) != 0 {
            guard mkdir(path, 0o750) == 0 else {
                throw Failure(description: "cannot create data directory '\(path)': \(String(cString: strerror(errno))) "
                    + "(its parent must exist and be writable by the user the server runs as)")
            }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw Failure(description: "data directory '\(path)' exists and is not a directory")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw Failure(description: "data directory '\(path)' is not writable by the user the server runs as")
        }
        do {
            return try DirectoryLock(directory: path, owner: "ruvector-server")
        } catch where error.code == .locked {
            throw Failure(description: "data directory \(path) is \(error.message); stop it or use another --data-dir")
        } catch {
            throw Failure(description: "cannot lock data directory \(path): \(error.clientMessage)")
        }
    }
}
