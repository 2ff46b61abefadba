/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RSA padding parameters of a signature or asymmetric cipher context, in
 * one place: the padding mode (number or name), the digest and MGF1 digest,
 * the PSS salt length, the OAEP label and the TLS versions, parsed from
 * OSSL_PARAMs, answered to get_ctx_params, handed to the software provider
 * (the shadow context), and the paddings applied and removed on the host:
 * EMSA-PKCS1-v1_5 with its DigestInfo, EMSA-PSS, and the decryption blocks
 * (PKCS#1 v1.5 type 2, OAEP, the TLS premaster secret) in constant time.
 * signature.c and asym_cipher.c keep the operations' flow only.
 */
#ifndef PICO_RSA_PARAMS_H
#define PICO_RSA_PARAMS_H

#include <openssl/core.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

typedef enum pico_rsa_op {
    PICO_RSA_SIG,    /* RSA signature: pkcs1, pss, none; digest, mgf1 digest, salt length */
    PICO_RSA_CIPHER, /* RSA cipher: pkcs1, oaep, none, TLS; OAEP digest, mgf1, label, TLS */
    PICO_RSA_DIGEST  /* ECDSA: the digest alone, with the signature's names */
} pico_rsa_op;

/* OpenSSL 3.2's name; 3.0 does not define it */
#define PICO_PARAM_IMPLICIT_REJECTION "implicit-rejection"
#define PICO_TLS_PREMASTER_LEN 48

typedef struct pico_rsa_params {
    pico_prov_ctx *prov;
    pico_rsa_op op;
    int pad;         /* RSA_*_PADDING */
    EVP_MD *md;      /* signature: message digest, NULL until set; cipher: OAEP's, NULL: SHA-1 */
    EVP_MD *mgf1;    /* NULL: the same as md */
    int saltlen;     /* RSA_PSS_SALTLEN_* or bytes */
    int saltlen_set; /* by the application (else the shadow keeps its own default) */
    uint8_t *label;
    size_t label_len;
    unsigned client_version, alt_version; /* TLS padding */
    int pss_only;                         /* signature with an RSA-PSS key: PSS padding only */
    int encrypt;                          /* cipher: encryption (the TLS padding decrypts only) */
    pico_pss_limits pss;                  /* an RSA-PSS device key's restrictions */
} pico_rsa_params;

void pico_rsa_params_init(pico_rsa_params *p, pico_prov_ctx *prov, pico_rsa_op op);
/* After a copy of the structure (dupctx): takes its own references. 0: out of memory. */
int pico_rsa_params_own(pico_rsa_params *p);
void pico_rsa_params_clear(pico_rsa_params *p);
/*
 * A signature operation starts from the key's defaults, as the default
 * provider's does: PSS for an RSA-PSS key, else PKCS#1 v1.5; salt "auto"; a
 * restricted key's digest, MGF1 digest and minimum salt length.
 */
int pico_rsa_params_start(pico_rsa_params *p, int pss_only, const pico_pss_limits *limits);

/* The digest (and MGF1 digest) by name, from the software provider; props NULL: the default. */
int pico_rsa_params_set_md(pico_rsa_params *p, const char *name, const char *props);
int pico_rsa_params_set_mgf1(pico_rsa_params *p, const char *name, const char *props);
/* set_ctx_params: 0 with an error raised on a value refused. */
int pico_rsa_params_set(pico_rsa_params *p, const OSSL_PARAM params[]);
/* get_ctx_params, except the signature's algorithm-id (the shadow's answer). */
int pico_rsa_params_get(const pico_rsa_params *p, OSSL_PARAM params[]);
const OSSL_PARAM *pico_rsa_params_settable(pico_rsa_op op);
const OSSL_PARAM *pico_rsa_params_gettable(pico_rsa_op op);
/*
 * The settings for the software provider's context, into out (room for
 * PICO_RSA_SHADOW_PARAMS, END included). They point into p.
 */
#define PICO_RSA_SHADOW_PARAMS 6
void pico_rsa_params_shadow(pico_rsa_params *p, OSSL_PARAM out[PICO_RSA_SHADOW_PARAMS]);

/*
 * EMSA-PKCS1-v1_5 (RFC 8017 9.2) into a k-byte block: 00 01 FF.. 00 T, T the
 * DigestInfo of the tbslen-byte hash, or the caller's data when no digest is
 * set (as OpenSSL's raw PKCS#1 signing does).
 */
int pico_rsa_pad_pkcs1(pico_rsa_params *p, const uint8_t *tbs, size_t tbslen, uint8_t *em,
                       size_t k);
/*
 * The PSS salt length for a bits-bit key and a tbslen-byte hash (the digest
 * SHA-256 when none is set): "digest", "max", "auto" (max when signing) or
 * the number, checked against the key's restrictions and size.
 */
int pico_rsa_pss_saltlen(pico_rsa_params *p, unsigned bits, size_t tbslen, int *slen);
/* EMSA-PSS-ENCODE (RFC 8017 9.1.1) of the hash into a k-byte block, for a bits-bit key. */
int pico_rsa_pad_pss(pico_rsa_params *p, const uint8_t *mhash, size_t hlen, int slen, unsigned bits,
                     uint8_t *em, size_t k);
/*
 * The plaintext of the k-byte decrypted block em, padding removed in constant
 * time: none, PKCS#1 v1.5 type 2, OAEP with the digests and label, or the
 * TLS premaster secret (random for a bad block). 0 (error raised) when the
 * block is bad or out is too small, the same error whatever went wrong.
 */
int pico_rsa_unpad(pico_rsa_params *p, const uint8_t *em, size_t k, uint8_t *out, size_t outsize,
                   size_t *outlen);

#endif
