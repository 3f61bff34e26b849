#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ecdsa.h>
#include <openssl/crypto.h>
#include <string.h>
#include <stdio.h>

/* Function-like macros are invisible to Swift; these wrappers expose them. */
static inline long COpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long COpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long COpenSSL_SSL_CTX_set_options(SSL_CTX *ctx, long options) {
    return SSL_CTX_set_options(ctx, options);
}
static inline int COpenSSL_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
static inline long COpenSSL_SSL_MODE_ENABLE_PARTIAL_WRITE(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long COpenSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline long COpenSSL_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline long COpenSSL_BIO_pending(BIO *bio) { return BIO_pending(bio); }
static inline int COpenSSL_SSL_TLSEXT_ERR_OK(void) { return SSL_TLSEXT_ERR_OK; }
static inline int COpenSSL_SSL_TLSEXT_ERR_ALERT_FATAL(void) { return SSL_TLSEXT_ERR_ALERT_FATAL; }
static inline long COpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int COpenSSL_SSL_FILETYPE_PEM(void) { return SSL_FILETYPE_PEM; }
static inline int COpenSSL_ERR_GET_REASON(unsigned long code) { return ERR_GET_REASON(code); }
/* Does the peer's certificate (with the chain it sent) chain to a CA of `store`? The chain
   check only: purpose and host are the handshake's business. 1 yes, 0 no. */
static inline int COpenSSL_peer_chains_to(SSL *ssl, X509_STORE *store) {
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL) return 0;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL) return 0;
    int ok = X509_STORE_CTX_init(ctx, store, cert, SSL_get_peer_cert_chain(ssl)) == 1
        && X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1
        && X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    return ok;
}
/* A JWS ES256 signature is r || s (32 bytes each); OpenSSL verifies DER. Writes the DER form
   into `out` (capacity `cap`, 80 is enough for P-256) and returns its length, or -1. */
static inline int COpenSSL_ecdsa_raw_to_der(const unsigned char *raw, int raw_len, unsigned char *out, int cap) {
    if (raw_len <= 0 || raw_len % 2 != 0) return -1;
    int half = raw_len / 2;
    BIGNUM *r = BN_bin2bn(raw, half, NULL), *s = BN_bin2bn(raw + half, half, NULL);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (r == NULL || s == NULL || sig == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r); BN_free(s); ECDSA_SIG_free(sig);
        return -1;
    }
    int length = i2d_ECDSA_SIG(sig, NULL);
    if (length <= 0 || length > cap) { ECDSA_SIG_free(sig); return -1; }
    unsigned char *cursor = out;
    length = i2d_ECDSA_SIG(sig, &cursor);
    ECDSA_SIG_free(sig);
    return length;
}

/* The peer certificate's names, for mapping identities to roles: "CN=<common name>" then one
   "DNS:", "URI:", "email:" or "IP:" line per subject alternative name, separated by '\n',
   written into `out` (NUL-terminated, truncated at `cap`). Returns the bytes written
   (without the NUL), 0 when there is no peer certificate. */
static inline int COpenSSL_peer_names(SSL *ssl, char *out, int cap) {
    if (cap <= 0) return 0;
    out[0] = 0;
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL) return 0;
    int used = 0;
#define COPENSSL_APPEND(prefix, data, len) do { \
        int need = (int)strlen(prefix) + (len) + 1; \
        if (used + need < cap) { \
            memcpy(out + used, prefix, strlen(prefix)); used += (int)strlen(prefix); \
            memcpy(out + used, data, (size_t)(len)); used += (len); \
            out[used++] = '\n'; out[used] = 0; \
        } \
    } while (0)
    X509_NAME *subject = X509_get_subject_name(cert);
    int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
    if (index >= 0) {
        ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
        if (cn) COPENSSL_APPEND("CN=", ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
    }
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
            GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
            switch (name->type) {
            case GEN_DNS: COPENSSL_APPEND("DNS:", ASN1_STRING_get0_data(name->d.dNSName), ASN1_STRING_length(name->d.dNSName)); break;
            case GEN_URI: COPENSSL_APPEND("URI:", ASN1_STRING_get0_data(name->d.uniformResourceIdentifier),
                                          ASN1_STRING_length(name->d.uniformResourceIdentifier)); break;
            case GEN_EMAIL: COPENSSL_APPEND("email:", ASN1_STRING_get0_data(name->d.rfc822Name), ASN1_STRING_length(name->d.rfc822Name)); break;
            case GEN_IPADD: {
                char text[64];
                const unsigned char *ip = ASN1_STRING_get0_data(name->d.iPAddress);
                int n = ASN1_STRING_length(name->d.iPAddress);
                if (n == 4) {
                    int len = snprintf(text, sizeof text, "%d.%d.%d.%d", ip[0], ip[1], ip[2], ip[3]);
                    COPENSSL_APPEND("IP:", text, len);
                } else if (n == 16) {
                    int len = 0;
                    for (int k = 0; k < 16; k += 2) len += snprintf(text + len, sizeof text - (size_t)len, k ? ":%x" : "%x", (ip[k] << 8) | ip[k + 1]);
                    COPENSSL_APPEND("IP:", text, len);
                }
                break;
            }
            default: break;
            }
        }
        GENERAL_NAMES_free(names);
    }
#undef COPENSSL_APPEND
    return used;
}
#endif
