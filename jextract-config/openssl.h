/*
 * Header group "openssl": OpenSSL 3 (libssl.so.3 + libcrypto.so.3), parsed as one translation
 * unit by the binding generator; the symbols to bind are listed in openssl.argfile.
 *
 * Only the 3.0 API is visible: everything OpenSSL marks as deprecated in 3.0 or earlier is
 * compiled out, so a deprecated function or macro cannot be bound by mistake (libclang fails
 * on any name that is not declared).
 */
#ifndef LORIFFM_JEXTRACT_OPENSSL_H
#define LORIFFM_JEXTRACT_OPENSSL_H

#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 30000
#endif
#ifndef OPENSSL_NO_DEPRECATED
#define OPENSSL_NO_DEPRECATED
#endif

#include <openssl/opensslv.h>   /* OPENSSL_VERSION_NUMBER, OPENSSL_VERSION_MAJOR/MINOR/PATCH */
#include <openssl/crypto.h>     /* OPENSSL_init_crypto, OpenSSL_version, CRYPTO_free */
#include <openssl/err.h>        /* ERR_* functions and packing constants */
#include <openssl/bio.h>        /* BIO_* and BIO_CTRL_* */
#include <openssl/evp.h>        /* EVP_PKEY_* */
#include <openssl/x509.h>       /* X509_*, X509_NAME_*, XN_FLAG_* */
#include <openssl/x509_vfy.h>   /* X509_STORE*, X509_VERIFY_PARAM_*, X509_V_* */
#include <openssl/x509v3.h>     /* GENERAL_NAME, GEN_*, X509_check_host, X509_CHECK_FLAG_* */
#include <openssl/pem.h>        /* PEM_read_bio_* */
#include <openssl/ssl.h>        /* SSL_*, SSL_CTX_*, SSL_CTRL_*, SSL_OP_* */
#include <openssl/tls1.h>       /* TLSEXT_NAMETYPE_host_name, TLS1_*_VERSION (via prov_ssl.h) */
#include <openssl/proverr.h>    /* PROV_R_*: how 3.0 reports a wrong key password */
#include <openssl/pkcs12err.h>  /* PKCS12_R_*: ditto, for PKCS#8-encrypted keys */

#endif /* LORIFFM_JEXTRACT_OPENSSL_H */
