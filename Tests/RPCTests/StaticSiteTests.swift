import Synchronization
import Testing
@testable import RPC

@Suite("Static site (the web console's files)")
struct StaticSiteTests {
    private let site = StaticSite(files: ["/": .init(contentType: "text/html; charset=utf-8", body: Array("<p>hi</p>".utf8)),
                                          "/console/a.js": .init(contentType: "text/javascript", body: Array("x()".utf8))])

    private func header(_ headers: [HTTP2Header], _ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    @Test("GET of a known path: the file, its type and length, CSP, nosniff; the query string is ignored")
    func get() {
        for path in ["/console/a.js", "/console/a.js?v=2"] {
            let (headers, body) = site.response(method: "GET", path: path)
            #expect(header(headers, ":status") == "200")
            #expect(header(headers, "content-type") == "text/javascript")
            #expect(header(headers, "content-length") == "3" && body == Array("x()".utf8))
            #expect(header(headers, "content-security-policy")?.hasPrefix("default-src 'self'") == true)
            #expect(header(headers, "x-content-type-options") == "nosniff")
        }
    }

    @Test("HEAD: the GET's headers without a body")
    func head() {
        let (headers, body) = site.response(method: "HEAD", path: "/")
        #expect(header(headers, ":status") == "200" && header(headers, "content-length") == "9" && body.isEmpty)
    }

    @Test("paths that are not files are 404, matched exactly", arguments: ["/console/", "/console/../console/a.js",
                                                                            "/console/a.js/", "/index.html", "", "//console/a.js"])
    func notFound(path: String) {
        let (headers, body) = site.response(method: "GET", path: path)
        #expect(header(headers, ":status") == "404" && !body.isEmpty)
        #expect(header(headers, "content-length") == "\(body.count)")
    }

    @Test("a live page: made per request, never cached, answered only when the credential check passes")
    func livePage() {
        var site = self.site
        let made = Mutex(0)
        site.livePages["/console/live"] = .init(contentType: "text/plain") {
            made.withLock { $0 += 1 }
            return Array("secret 1\n".utf8)
        }
        let (headers, body) = site.response(method: "GET", path: "/console/live?x=1")
        #expect(header(headers, ":status") == "200" && header(headers, "cache-control") == "no-store")
        #expect(body == Array("secret 1\n".utf8) && header(headers, "content-length") == "9")
        for (code, status) in [(StatusCode.unauthenticated, "401"), (.permissionDenied, "403")] {
            for method in ["GET", "HEAD"] {
                let (refusedHeaders, refusedBody) = site.response(method: method, path: "/console/live") { RPCError(code, "no") }
                #expect(header(refusedHeaders, ":status") == status && header(refusedHeaders, "cache-control") == "no-store")
                #expect(!String(decoding: refusedBody, as: UTF8.self).contains("secret"))
            }
        }
        // Refused requests do not make the page; files are not checked at all.
        #expect(made.withLock { $0 } == 1)
        let (fileHeaders, _) = site.response(method: "GET", path: "/console/a.js") {
            Issue.record("a file asked for credentials")
            return RPCError(.unauthenticated, "no")
        }
        #expect(header(fileHeaders, ":status") == "200")
    }

    @Test("the generated console has its index at / and its modules under /console/")
    func console() {
        for path in ["/", "/console/index.html", "/console/app.js", "/console/grpcweb.js", "/console/protobuf.js",
                     "/console/schema.js", "/console/style.css", "/console/common.js", "/console/collections.js", "/console/points.js",
                     "/console/filter.js", "/console/search.js", "/console/cypher.js", "/console/graph.js", "/console/metrics.js",
                     "/console/status.js"] {
            #expect(StaticSite.console.files[path] != nil, "\(path)")
        }
        #expect(StaticSite.console.files["/"]?.body == StaticSite.console.files["/console/index.html"]?.body)
    }
}
