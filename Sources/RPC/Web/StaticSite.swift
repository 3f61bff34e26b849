/// Static files served on the main port beside gRPC and gRPC-Web: the web console. `GET` and
/// `HEAD` of a known path are answered from memory; any other path is `404`. No credentials
/// are asked for (the files are public); every call the pages make is a gRPC-Web call with
/// the usual credential check.
public struct StaticSite: Sendable {
    /// One embedded file.
    public struct File: Sendable {
        /// `Content-Type`, e.g. `text/javascript; charset=utf-8`.
        public let contentType: String
        /// Its bytes.
        public let body: [UInt8]

        /// A file of `contentType` holding `body`.
        public init(contentType: String, body: [UInt8]) {
            self.contentType = contentType
            self.body = body
        }
    }

    /// A page made afresh for each request (the console's `/console/metrics`): unlike the
    /// files it holds data, so it is answered only to a request that passes the server's
    /// credential check for its path, and never cached.
    public struct LivePage: Sendable {
        /// `Content-Type`, e.g. `text/plain; version=0.0.4; charset=utf-8`.
        public let contentType: String
        /// Makes the body; called on the connection's event loop, so it must be quick.
        public let body: @Sendable () -> [UInt8]

        /// A page of `contentType` whose body `body` makes when asked.
        public init(contentType: String, body: @escaping @Sendable () -> [UInt8]) {
            self.contentType = contentType
            self.body = body
        }
    }

    /// Files by request path (`/`, `/console/app.js`).
    public let files: [String: File]
    /// Live pages by request path; the path is also what the credential check is asked about
    /// (`CallAuthorizer.authorize(path:...)`), so an access rule must name it.
    public var livePages: [String: LivePage] = [:]

    /// A site made of `files`, keyed by request path.
    public init(files: [String: File]) {
        self.files = files
    }

    /// `path` without its query string: what files, live pages and access rules are keyed by.
    static func bare(_ path: String) -> String {
        String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// Only this origin's scripts, styles and calls; no framing by other sites, no plugins.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

    /// What a request for `path` gets: `:status`, headers and the body (empty for `HEAD`).
    /// The query string is ignored; paths are matched exactly (no directory walking).
    /// `denial` is the credential check's refusal of the request, asked of live pages only:
    /// UNAUTHENTICATED is `401`, any other refusal `403`, with the check's message as text.
    func response(method: String, path: String, denial: () -> RPCError? = { nil }) -> (headers: [HTTP2Header], body: [UInt8]) {
        let bare = Self.bare(path)
        if let page = livePages[bare] {
            if let refused = denial() {
                let body = Array("\(refused.code): \(refused.message)\n".utf8)
                return (Self.headers(status: refused.code == .unauthenticated ? "401" : "403", contentType: "text/plain; charset=utf-8",
                                     length: body.count, cache: "no-store"), method == "HEAD" ? [] : body)
            }
            let body = page.body()
            return (Self.headers(status: "200", contentType: page.contentType, length: body.count, cache: "no-store"),
                    method == "HEAD" ? [] : body)
        }
        guard let file = files[bare] else {
            let body = Array("not found: only the console's files are served here; gRPC and gRPC-Web calls use POST\n".utf8)
            return (Self.headers(status: "404", contentType: "text/plain; charset=utf-8", length: body.count,
                                 cache: "no-store"), method == "HEAD" ? [] : body)
        }
        // index.html names its assets without version, so nothing is cached without asking again.
        let headers = Self.headers(status: "200", contentType: file.contentType, length: file.body.count, cache: "no-cache")
        return (headers, method == "HEAD" ? [] : file.body)
    }

    private static func headers(status: String, contentType: String, length: Int, cache: String) -> [HTTP2Header] {
        [HTTP2Header(name: ":status", value: status),
         HTTP2Header(name: "content-type", value: contentType),
         HTTP2Header(name: "content-length", value: "\(length)"),
         HTTP2Header(name: "cache-control", value: cache),
         HTTP2Header(name: "content-security-policy", value: contentSecurityPolicy),
         HTTP2Header(name: "x-content-type-options", value: "nosniff"),
         HTTP2Header(name: "x-frame-options", value: "DENY"),
         HTTP2Header(name: "referrer-policy", value: "no-referrer")]
    }
}
