#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

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
#endif
