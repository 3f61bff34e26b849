internal import COpenSSL

/// Hashes, HMAC and signature checks from OpenSSL, for verifying credentials (API keys,
/// JSON Web Tokens) without another C library: OpenSSL is reached from this folder only.
public enum Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            _ = SHA256(input.baseAddress, input.count, &digest)
        }
        return digest
    }

    /// HMAC-SHA-256 of `message` under `key` (HS256 in JSON Web Tokens).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                _ = HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress, message.count, &digest, &length)
            }
        }
        return Array(digest.prefix(Int(length)))
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths (OpenSSL's
    /// `CRYPTO_memcmp`): compare digests of secrets, so that lengths tell nothing either.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { a in b.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 } }
    }
}

/// A public key read from PEM that checks SHA-256 signatures: RS256 (RSA PKCS#1 v1.5) and
/// ES256 (ECDSA on P-256, signatures as JWS gives them: r || s, 64 bytes).
public final class VerificationKey: @unchecked Sendable {
    /// The algorithms a key can verify.
    public enum Kind: String, Sendable {
        case rsa = "RS256"
        case ecP256 = "ES256"
    }

    /// Which signatures this key checks.
    public let kind: Kind
    // Immutable after init; EVP_PKEY is safe to use from several threads for verification.
    private let key: OpaquePointer

    /// Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`): RSA of at least 2048 bits, or
    /// EC on P-256. Throws for anything else, with OpenSSL's reason.
    public init(pem: [UInt8]) throws(TLSError) {
        let parsed: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let parsed else {
            throw TLSError(message: "not a PEM public key (-----BEGIN PUBLIC KEY-----): \(OpenSSLFailure.take().text)")
        }
        switch EVP_PKEY_get_base_id(parsed) {
        case EVP_PKEY_RSA where EVP_PKEY_get_bits(parsed) >= 2048:
            kind = .rsa
        case EVP_PKEY_EC where EVP_PKEY_get_bits(parsed) == 256:
            kind = .ecP256
        default:
            EVP_PKEY_free(parsed)
            throw TLSError(message: "the public key must be RSA (2048 bits or more, for RS256) or EC P-256 (for ES256)")
        }
        key = parsed
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is this key's SHA-256 signature of `message`.
    public func verify(signature: [UInt8], of message: [UInt8]) -> Bool {
        var signature = signature
        if kind == .ecP256 {
            guard signature.count == 64 else { return false }
            var der = [UInt8](repeating: 0, count: 80)
            let length = COpenSSL_ecdsa_raw_to_der(signature, Int32(signature.count), &der, Int32(der.count))
            guard length > 0 else { return false }
            signature = Array(der.prefix(Int(length)))
        }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let verified = signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            }
        }
        ERR_clear_error()
        return verified == 1
    }
}
