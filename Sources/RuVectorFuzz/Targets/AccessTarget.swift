import Access
import RPC
import VectorEngine

/// Credentials from the network: the `authorization` value of a call, checked by the server's
/// `Authenticator` (bearer parsing, API key digests, base64url, the JSON of a token's header
/// and claims, HMAC and ECDSA verification through OpenSSL).
///
/// Invariants: an input accepted as an HS256 token carries the HMAC of its own first two parts
/// under the server's secret (no forgery); nothing is accepted as an ES256 token (the fuzzer
/// holds no private key for the configured public key, so an acceptance is a forgery); no
/// refusal message contains the input's key part.
final class AccessTarget: FuzzTarget {
    static let name = "access"
    let maxInputBytes = 12 << 10
    private static let secret = Array("fuzz-hs256-secret-0123456789abcdef".utf8)
    // An EC P-256 public key whose private key was thrown away.
    private static let publicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyoRsQ6ZttWoYdp/3/+8B16nyyhRN
        a3K+HDAwgoDCpn2PGtgk5vm1rYud2VX5jDwI9R+j/wUl6hE1WdZwFx6SDg==
        -----END PUBLIC KEY-----
        """
    private let hs256: Authenticator
    private let es256: Authenticator
    private let tokenMutator: TokenMutator
    private let now: Int64 = 1_800_000_000

    init() throws {
        let rules: AccessRules = ["/f/Read": .requires(.read, perCollection: true)]
        let clock: @Sendable () -> Int64 = { [now] in now }
        hs256 = Authenticator(rules: rules, credentials: Credentials(apiKey: "fuzz-admin-key", readOnlyAPIKey: "fuzz-read-key",
            tokens: JSONWebTokenVerifier(hmacSecret: Self.secret, publicKey: nil)), nowSeconds: clock)
        let key = try VerificationKey(pem: Array(Self.publicKeyPEM.utf8))
        es256 = Authenticator(rules: rules, credentials: Credentials(tokens: JSONWebTokenVerifier(hmacSecret: nil, publicKey: key)),
                              nowSeconds: clock)
        tokenMutator = TokenMutator(dictionary: Self.words, maxBytes: maxInputBytes)
    }

    var dictionary: [[UInt8]] { Self.words.map { Array($0.utf8) } }

    func seedCorpus() throws -> [[UInt8]] {
        let claims = [
            #"{"sub":"a","exp":1800000060,"access":"read"}"#, #"{"exp":1800000060,"collections":{"docs":"write"}}"#,
            #"{"exp":1800000060,"nbf":1799999000,"access":"admin","collections":{"a":"r","b":"rw"}}"#,
            #"{"exp":1.8e9,"access":"write","extra":[1,{"x":null}]}"#,
        ]
        var seeds = claims.map { Array("Bearer \(Self.sign($0, header: #"{"alg":"HS256","typ":"JWT"}"#))".utf8) }
        seeds.append(Array("Bearer \(Self.sign(claims[0], header: #"{"alg":"ES256"}"#))".utf8))
        seeds += ["Bearer fuzz-admin-key", "bearer  fuzz-read-key", "Basic Zm9vOmJhcg==", "Bearer ", "Bearer eyJ.eyJ."].map { Array($0.utf8) }
        return seeds
    }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        tokenMutator.mutate(&input, random: &random, corpus: corpus)
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        let value = String(decoding: input, as: UTF8.self)
        let metadata = Metadata([("authorization", value)])
        var accepted = false
        for authenticator in [hs256, es256] {
            switch authenticator.check(path: "/f/Read", metadata: metadata, peer: PeerCredentials()) {
            case .success(let access):
                accepted = true
                if access.grant.principal.hasPrefix("token") {
                    guard authenticator === hs256 else { throw FuzzFinding("an ES256 token was accepted without its private key: \(value.prefix(300))") }
                    try checkSigned(value)
                }
            case .failure(let denial):
                if let key = value.split(separator: " ").last, key.count >= 8, denial.message.contains(key) {
                    throw FuzzFinding("a refusal echoed the credential: \(denial.message.prefix(200))")
                }
            }
        }
        return accepted ? .accepted : .rejected
    }

    /// The token in `value` must carry the HMAC of its signed part.
    private func checkSigned(_ value: String) throws {
        let token = value.split(separator: " ").last.map(String.init) ?? ""
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw FuzzFinding("accepted a token without three parts: \(token.prefix(300))") }
        let expected = Self.base64URL(Crypto.hmacSHA256(key: Self.secret, message: Array((parts[0] + "." + parts[1]).utf8)))
        guard expected == parts[2] else { throw FuzzFinding("accepted an HS256 token whose signature is not its HMAC: \(token.prefix(300))") }
    }

    private static func sign(_ claims: String, header: String) -> String {
        let signed = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        return signed + "." + base64URL(Crypto.hmacSHA256(key: secret, message: Array(signed.utf8)))
    }

    private static func base64URL(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }

    static let words = [
        "Bearer ", "bearer ", ".", "eyJ", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJFUzI1NiJ9",
        "fuzz-admin-key", "fuzz-read-key", "-", "_", "=", "AAAA", "====",
    ]
}
