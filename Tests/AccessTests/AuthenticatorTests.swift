import Testing
@testable import Access
import RPC

/// A compact HS256 token over `claims` (JSON text), signed with `secret`; `header` overrides
/// the protected header.
func hs256Token(_ claims: String, secret: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
    let signed = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
    return signed + "." + base64URL(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array(signed.utf8)))
}

func base64URL(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }

private let secret = "0123456789abcdef0123456789abcdef-secret"
private let now: Int64 = 1_800_000_000
private let rules: AccessRules = [
    "/s/Health": .open,
    "/s/Read": .requires(.read, perCollection: true),
    "/s/Write": .requires(.write, perCollection: true),
    "/s/Admin": .requires(.admin, perCollection: false),
    "/s/GraphRead": .requires(.read, perCollection: false),
    "/s/Node": .nodesOnly,
]

private func authenticator(_ credentials: Credentials) -> Authenticator {
    Authenticator(rules: rules, credentials: credentials, nowSeconds: { now })
}

private func bearer(_ value: String) -> Metadata { Metadata([("authorization", "Bearer \(value)")]) }

@Suite("access: API keys, tokens, certificates and nodes against method rules")
struct AuthenticatorTests {
    let keys = Credentials(apiKey: "admin-key-1", readOnlyAPIKey: "read-key-2", nodeKey: "node-key-3",
                           tokens: JSONWebTokenVerifier(hmacSecret: Array(secret.utf8), publicKey: nil),
                           certificateLevels: ["CN=ops": .admin, "DNS:reader.example": .read], nodePeerRole: "cluster-node")

    @Test("no credentials configured: everything passes as before; node methods too while nodes prove nothing")
    func openByDefault() throws {
        let open = authenticator(Credentials())
        for path in rules.keys {
            #expect(throws: Never.self) { try open.check(path: path, metadata: Metadata(), peer: .init()).get() }
        }
        #expect(!open.requiresCredentials)
        // With a cluster key, node methods need it even when clients need nothing.
        let keyed = authenticator(Credentials(nodeKey: "k"))
        #expect(throws: AccessDenial.self) { try keyed.check(path: "/s/Node", metadata: Metadata(), peer: .init()).get() }
        #expect(throws: Never.self) { try keyed.check(path: "/s/Node", metadata: bearer("k"), peer: .init()).get() }
        #expect(throws: Never.self) { try keyed.check(path: "/s/Admin", metadata: Metadata(), peer: .init()).get() }
    }

    @Test("each credential gets exactly its level; missing is UNAUTHENTICATED, insufficient PERMISSION_DENIED, never echoing the key")
    func levels() {
        let auth = authenticator(keys)
        func outcome(_ path: String, _ metadata: Metadata, _ peer: PeerCredentials = .init()) -> String {
            switch auth.check(path: path, metadata: metadata, peer: peer) {
            case .success: return "ok"
            case .failure(let denial):
                #expect(!denial.message.contains("admin-key") && !denial.message.contains("read-key") && !denial.message.contains("wrong"))
                return denial.code == .unauthenticated ? "unauthenticated" : "denied"
            }
        }
        #expect(outcome("/s/Health", Metadata()) == "ok")
        #expect(outcome("/s/Read", Metadata()) == "unauthenticated")
        #expect(outcome("/s/Read", bearer("wrong-key")) == "unauthenticated")
        #expect(outcome("/s/Read", Metadata([("authorization", "Basic YWxhZGRpbjpvcGVu")])) == "unauthenticated")
        for path in ["/s/Read", "/s/GraphRead"] { #expect(outcome(path, bearer("read-key-2")) == "ok") }
        for path in ["/s/Write", "/s/Admin", "/s/Node"] { #expect(outcome(path, bearer("read-key-2")) == "denied") }
        for path in ["/s/Read", "/s/Write", "/s/Admin"] { #expect(outcome(path, Metadata([("api-key", "admin-key-1")])) == "ok") }
        #expect(outcome("/s/Node", bearer("admin-key-1")) == "denied")
        #expect(outcome("/s/Node", bearer("node-key-3")) == "ok")
        #expect(outcome("/s/Node", Metadata(), PeerCredentials(roles: ["cluster-node"])) == "ok")
        #expect(outcome("/s/Admin", Metadata(), PeerCredentials(certificateNames: ["CN=ops"])) == "ok")
        #expect(outcome("/s/Read", Metadata(), PeerCredentials(certificateNames: ["CN=x", "DNS:reader.example"])) == "ok")
        #expect(outcome("/s/Write", Metadata(), PeerCredentials(certificateNames: ["DNS:reader.example"])) == "denied")
        #expect(outcome("/s/Read", Metadata(), PeerCredentials(certificateNames: ["CN=stranger"])) == "unauthenticated")
        #expect(outcome("/s/Unlisted", bearer("admin-key-1")) == "denied")
        // A key that is a prefix or an extension of a real one is not it.
        #expect(outcome("/s/Read", bearer("admin-key-")) == "unauthenticated")
        #expect(outcome("/s/Read", bearer("admin-key-11")) == "unauthenticated")
    }

    @Test("tokens: expiry, not-before, per-collection grants; tampered, unsigned, wrong-algorithm and malformed ones are refused")
    func tokens() throws {
        let auth = authenticator(keys)
        func grant(_ token: String, _ path: String = "/s/Read") -> Result<CallAccess, AccessDenial> {
            auth.check(path: path, metadata: bearer(token), peer: .init())
        }
        let reader = hs256Token(#"{"sub":"alice","exp":\#(now + 60),"access":"read"}"#, secret: secret)
        #expect(try grant(reader).get().grant == Grant(principal: "token (sub alice)", global: .read))
        #expect(throws: AccessDenial.self) { try grant(reader, "/s/Write").get() }

        let scoped = hs256Token(#"{"exp":\#(now + 60),"collections":{"docs":"write","logs":"read"}}"#, secret: secret)
        let access = try grant(scoped, "/s/Write").get()
        #expect(access.collectionLevel == .write)
        #expect(access.refusal(for: ["docs"]) == nil && access.refusal(for: ["", "docs"]) == nil)
        #expect(access.refusal(for: ["logs"])?.code == .permissionDenied)
        #expect(access.refusal(for: ["docs", "other"])?.message.contains("'other'") == true)
        #expect(throws: AccessDenial.self) { try grant(scoped, "/s/Admin").get() }
        #expect(throws: AccessDenial.self) { try grant(scoped, "/s/GraphRead").get() }

        let refused: [(String, String)] = [
            (hs256Token(#"{"exp":\#(now - 31),"access":"admin"}"#, secret: secret), "expired"),
            (hs256Token(#"{"exp":\#(now + 60),"nbf":\#(now + 31),"access":"admin"}"#, secret: secret), "not valid yet"),
            (hs256Token(#"{"access":"admin"}"#, secret: secret), "no expiry"),
            (hs256Token(#"{"exp":\#(now + 60),"access":"root"}"#, secret: secret), "'access'"),
            (hs256Token(#"{"exp":\#(now + 60),"collections":{"docs":"admin"}}"#, secret: secret), "collection's access"),
            (hs256Token(#"{"exp":\#(now + 60)}"#, secret: secret), "grants nothing"),
            (hs256Token(#"{"exp":\#(now + 60),"access":"admin"}"#, secret: "another-secret-of-32-bytes-or-more!!"), "signature"),
            (hs256Token(#"{"exp":\#(now + 60),"access":"admin"}"#, secret: secret, header: #"{"alg":"none"}"#), "algorithm"),
            (hs256Token(#"{"exp":\#(now + 60),"access":"admin"}"#, secret: secret, header: #"{"alg":"RS256"}"#), "RS256"),
            (hs256Token(#"{"exp":\#(now + 60),"access":"admin"}"#, secret: secret, header: #"{"alg":"HS256","crit":["x"]}"#), "critical"),
        ]
        for (token, why) in refused {
            let result = grant(token)
            guard case .failure(let denial) = result else {
                Issue.record("accepted a token that should fail with '\(why)'")
                continue
            }
            #expect(denial.code == .unauthenticated)
            #expect(denial.message.contains(why), "\(denial.message)")
        }
        // Tampering: the claims changed after signing (read -> admin), the signature kept.
        let parts = reader.split(separator: ".")
        let forged = parts[0] + "." + base64URL(Array(#"{"sub":"alice","exp":\#(now + 60),"access":"admin"}"#.utf8)) + "." + parts[2]
        #expect(throws: AccessDenial.self) { try grant(String(forged)).get() }
        // "alg": "none" with an empty signature.
        let unsigned = base64URL(Array(#"{"alg":"none"}"#.utf8)) + "." + base64URL(Array(#"{"exp":\#(now + 60),"access":"admin"}"#.utf8)) + "."
        #expect(throws: AccessDenial.self) { try grant(unsigned).get() }
        // Garbage shaped like a token, and an oversized one.
        #expect(throws: AccessDenial.self) { try grant("eyJ.!!.x").get() }
        #expect(throws: AccessDenial.self) { try grant("eyJ" + String(repeating: "a", count: 9000) + ".a.b").get() }
        // A server with no token key refuses tokens as unknown keys.
        let keysOnly = authenticator(Credentials(apiKey: "k"))
        #expect(throws: AccessDenial.self) { try keysOnly.check(path: "/s/Read", metadata: bearer(reader), peer: .init()).get() }
    }

    @Test("reload replaces the credentials for new checks")
    func reload() {
        let auth = authenticator(Credentials(apiKey: "old-key"))
        #expect((try? auth.check(path: "/s/Admin", metadata: bearer("old-key"), peer: .init()).get()) != nil)
        auth.reload(Credentials(apiKey: "new-key"))
        #expect((try? auth.check(path: "/s/Admin", metadata: bearer("old-key"), peer: .init()).get()) == nil)
        #expect((try? auth.check(path: "/s/Admin", metadata: bearer("new-key"), peer: .init()).get()) != nil)
    }

    @Test("base64url decoding is strict")
    func base64() {
        #expect(Base64URL.decode("aGVsbG8") == Array("hello".utf8))
        #expect(Base64URL.decode("aGVsbG8=") == nil)
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("") == [])
        // Unused bits of the last character must be zero: "aGVsbG9" and "aGVsbG8" would both be
        // "hello" otherwise (fuzz finding: a token's signature text altered, still accepted).
        #expect(Base64URL.decode("aGVsbG9") == nil)
        #expect(Base64URL.decode("YQ") == Array("a".utf8) && Base64URL.decode("YR") == nil)
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Substring(Base64URL.encode(bytes))) == bytes)
        }
    }
}
