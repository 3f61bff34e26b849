import FoundationEssentials
import RPC

/// Verifies JSON Web Tokens (RFC 7519, compact JWS) and reads what they grant.
///
/// Accepted: HS256 with the configured secret, RS256 and ES256 with the configured public
/// key; the header's `alg` must match a configured key (an HS256 token is never checked
/// against a public key, and `none` is never accepted). Claims:
///
/// ```json
/// {"sub": "alice", "exp": 1767225600, "nbf": 1767139200,
///  "access": "read",                       // read | write | admin, on everything (optional)
///  "collections": {"docs": "write"}}       // read | write per collection (optional)
/// ```
///
/// `exp` is required; `exp` and `nbf` are checked with `leewaySeconds` of clock skew.
public struct JSONWebTokenVerifier: Sendable {
    /// The HS256 secret, if HS256 tokens are accepted.
    public var hmacSecret: [UInt8]?
    /// The RS256 or ES256 public key, if such tokens are accepted.
    public var publicKey: VerificationKey?
    /// Clock skew allowed on `exp` and `nbf`.
    public var leewaySeconds: Int64 = 30
    /// Longest token read; a longer bearer value is refused before any decoding.
    public static let maxTokenBytes = 8 << 10

    public init(hmacSecret: [UInt8]?, publicKey: VerificationKey?) {
        self.hmacSecret = hmacSecret
        self.publicKey = publicKey
    }

    /// Whether `bearer` has the shape of a token (three base64url parts), so it is checked
    /// as one rather than as an API key.
    public static func looksLikeToken(_ bearer: String) -> Bool {
        bearer.utf8.count <= maxTokenBytes && bearer.split(separator: ".", omittingEmptySubsequences: false).count == 3
            && bearer.hasPrefix("eyJ")
    }

    /// The grant `token` carries at `nowSeconds` (seconds since 1970), or why it is refused
    /// (always UNAUTHENTICATED: a bad token is no credential).
    public func grant(for token: String, nowSeconds: Int64) -> Result<Grant, AccessDenial> {
        func refuse(_ why: String) -> Result<Grant, AccessDenial> { .failure(AccessDenial(.unauthenticated, "the token is not valid: \(why)")) }
        guard token.utf8.count <= Self.maxTokenBytes else { return refuse("longer than \(Self.maxTokenBytes) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else {
            return refuse("not a compact JWS (three base64url parts separated by dots)")
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            return refuse("its header is not a JSON object with an 'alg'")
        }
        guard header.crit == nil else { return refuse("critical header extensions are not supported") }
        let signed = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        switch header.alg {
        case "HS256":
            guard let hmacSecret else { return refuse("HS256 tokens are not accepted by this server") }
            // Both sides are 32-byte digests: the comparison's time says nothing.
            guard Crypto.constantTimeEqual(Crypto.hmacSHA256(key: hmacSecret, message: signed), signature) else {
                return refuse("the signature does not match")
            }
        case "RS256", "ES256":
            guard let publicKey, publicKey.kind.rawValue == header.alg else {
                return refuse("\(header.alg) tokens are not accepted by this server")
            }
            guard publicKey.verify(signature: signature, of: signed) else { return refuse("the signature does not match") }
        default:
            return refuse("algorithm '\(header.alg.prefix(16))' is not accepted (HS256, RS256 or ES256, as configured)")
        }
        let claims: Claims
        do {
            claims = try JSONDecoder().decode(Claims.self, from: Data(claimBytes))
        } catch {
            return refuse("its claims are not a JSON object of the expected types")
        }
        guard let expires = claims.exp, expires.isFinite else { return refuse("it has no expiry ('exp')") }
        if Double(nowSeconds - leewaySeconds) >= expires { return refuse("it expired") }
        if let notBefore = claims.nbf, notBefore.isFinite, Double(nowSeconds + leewaySeconds) < notBefore {
            return refuse("it is not valid yet ('nbf')")
        }
        let principal = claims.sub.map { "token (sub \($0.prefix(128)))" } ?? "token"
        var global: AccessLevel?
        if let access = claims.access {
            guard let level = AccessLevel(name: access) else { return refuse("'access' must be read, write or admin") }
            global = level
        }
        var collections: [String: AccessLevel] = [:]
        for (name, access) in claims.collections ?? [:] {
            guard let level = AccessLevel(name: access), level <= .write else {
                return refuse("a collection's access must be read or write")
            }
            collections[name] = level
        }
        guard global != nil || !collections.isEmpty else { return refuse("it grants nothing ('access' or 'collections')") }
        return .success(Grant(principal: principal, global: global, collections: collections))
    }

    private struct Header: Decodable {
        let alg: String
        let crit: [String]?
    }

    private struct Claims: Decodable {
        let sub: String?
        let exp: Double?
        let nbf: Double?
        let access: String?
        let collections: [String: String]?
    }
}

/// Base64 with the URL alphabet and no padding (RFC 7515 section 2), as tokens carry it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// The unpadded base64url text of `bytes` (for tools and tests that mint tokens).
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = "", index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let n = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for k in 0...chunk.count { out.append(alphabet[Int(n >> (18 - 6 * UInt32(k)) & 63)]) }
            index += 3
        }
        return out
    }

    /// The bytes of unpadded base64url `text`; nil for any other character, padding included,
    /// a length no encoding has, or non-zero unused bits in the last character.
    public static func decode(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for char in text.utf8 {
            let value: UInt32
            switch char {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(char - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(char - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(char - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = (buffer << 6 | value) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // A lone trailing character carries fewer than 8 bits: not valid base64url. The bits
        // left over must be zero (RFC 4648 section 3.5): otherwise several texts decode to the
        // same bytes, and a token could be altered without touching its signature's value.
        guard bits < 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return bytes
    }
}
