/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA padding parameters and the paddings made on the host (rsa_params.h),
 * for signature.c and asym_cipher.c. Names, defaults and refusals are the
 * default provider's, so that an application sees the same answers whichever
 * provider serves it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RSA_padding_check_*: OpenSSL's constant-time decoders */

#include "rsa_params.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* The padding modes by name (OSSL_PKEY_RSA_PAD_MODE_*); which an operation takes is its own */
static const struct {
    const char *name;
    int pad;
} pad_names[] = {
    {OSSL_PKEY_RSA_PAD_MODE_NONE, RSA_NO_PADDING},
    {OSSL_PKEY_RSA_PAD_MODE_PKCSV15, RSA_PKCS1_PADDING},
    {OSSL_PKEY_RSA_PAD_MODE_OAEP, RSA_PKCS1_OAEP_PADDING},
    {OSSL_PKEY_RSA_PAD_MODE_X931, RSA_X931_PADDING},
    {OSSL_PKEY_RSA_PAD_MODE_PSS, RSA_PKCS1_PSS_PADDING},
};

/*
 * The DigestInfo AlgorithmIdentifiers of EMSA-PKCS1-v1_5 (RFC 8017 9.2 note 1):
 * the digests the default provider signs PKCS#1 v1.5 with, by OID. MD5-SHA1
 * (TLS 1.0 and 1.1) has none: its 36 bytes are signed as they are.
 */
static const struct {
    const char *md;
    uint8_t oid_len;
    uint8_t oid[9];
} digest_oids[] = {
    {"MD5", 8, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05}},
    {"MD4", 8, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x04}},
    {"SHA1", 5, {0x2b, 0x0e, 0x03, 0x02, 0x1a}},
    {"RIPEMD-160", 5, {0x2b, 0x24, 0x03, 0x02, 0x01}},
    {"SHA2-256", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}},
    {"SHA2-384", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}},
    {"SHA2-512", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}},
    {"SHA2-224", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04}},
    {"SHA2-512/224", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x05}},
    {"SHA2-512/256", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x06}},
    {"SHA3-224", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07}},
    {"SHA3-256", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08}},
    {"SHA3-384", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09}},
    {"SHA3-512", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a}},
    {"MD5-SHA1", 0, {0}},
};

#define DIGESTINFO_MAX (6 + 9 + 4 + EVP_MAX_MD_SIZE)

void pico_rsa_params_init(pico_rsa_params *p, pico_prov_ctx *prov, pico_rsa_op op)
{
    memset(p, 0, sizeof(*p));
    p->prov = prov;
    p->op = op;
    p->pad = RSA_PKCS1_PADDING;
    p->saltlen = RSA_PSS_SALTLEN_AUTO;
}

int pico_rsa_params_own(pico_rsa_params *p)
{
    const uint8_t *label = p->label;
    int ok = 1;

    if (p->md != NULL && !EVP_MD_up_ref(p->md)) {
        p->md = NULL;
        ok = 0;
    }
    if (p->mgf1 != NULL && !EVP_MD_up_ref(p->mgf1)) {
        p->mgf1 = NULL;
        ok = 0;
    }
    p->label = NULL;
    if (label != NULL && (p->label = OPENSSL_memdup(label, p->label_len)) == NULL)
        ok = 0;
    return ok;
}

void pico_rsa_params_clear(pico_rsa_params *p)
{
    EVP_MD_free(p->md);
    EVP_MD_free(p->mgf1);
    OPENSSL_free(p->label);
    p->md = p->mgf1 = NULL;
    p->label = NULL;
    p->label_len = 0;
}

static EVP_MD *fetch_md(pico_rsa_params *p, const char *what, const char *name, const char *props)
{
    EVP_MD *md = EVP_MD_fetch(pico_prov_sw(p->prov), name, props != NULL ? props : PICO_SW_PROPQ);

    if (md == NULL)
        pico_prov_raise(p->prov, PICO_E_UNSUPPORTED, "%s %s", what, name);
    return md;
}

/* A restricted RSA-PSS key signs with its own digest and MGF1 digest only (RFC 4055 3.1,
 * as OpenSSL's RSA-PSS keys do). */
int pico_rsa_params_set_md(pico_rsa_params *p, const char *name, const char *props)
{
    EVP_MD *md = fetch_md(p, "digest", name, props);

    if (md == NULL)
        return 0;
    if (p->pss.restricted && !EVP_MD_is_a(md, p->pss.md)) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "digest %s: this rsa-pss key signs with %s only",
                        name, p->pss.md);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(p->md);
    p->md = md;
    return 1;
}

int pico_rsa_params_set_mgf1(pico_rsa_params *p, const char *name, const char *props)
{
    EVP_MD *md = fetch_md(p, "mgf1 digest", name, props);

    if (md == NULL)
        return 0;
    if (p->pss.restricted && !EVP_MD_is_a(md, p->pss.mgf1)) {
        pico_prov_raise(p->prov, PICO_E_ARGS,
                        "mgf1 digest %s: this rsa-pss key uses mgf1 with %s only", name,
                        p->pss.mgf1);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(p->mgf1);
    p->mgf1 = md;
    return 1;
}

/* A restricted key's minimum salt length; "digest" is the digest's length. */
static int check_saltlen(pico_rsa_params *p, int saltlen)
{
    int hlen = p->md != NULL ? EVP_MD_get_size(p->md) : 0;

    if (!p->pss.restricted)
        return 1;
    if ((saltlen == RSA_PSS_SALTLEN_DIGEST && hlen < p->pss.min_saltlen) ||
        (saltlen >= 0 && saltlen < p->pss.min_saltlen)) {
        pico_prov_raise(p->prov, PICO_E_ARGS,
                        "pss salt of %d bytes: this rsa-pss key needs at least %d",
                        saltlen == RSA_PSS_SALTLEN_DIGEST ? hlen : saltlen, p->pss.min_saltlen);
        return 0;
    }
    return 1;
}

int pico_rsa_params_start(pico_rsa_params *p, int pss_only, const pico_pss_limits *limits)
{
    p->pss_only = pss_only;
    p->pad = pss_only ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
    p->saltlen = RSA_PSS_SALTLEN_AUTO;
    p->saltlen_set = 0;
    EVP_MD_free(p->mgf1);
    p->mgf1 = NULL;
    memset(&p->pss, 0, sizeof(p->pss));
    if (limits == NULL || !limits->restricted)
        return 1;
    p->pss = *limits;
    if (!pico_rsa_params_set_md(p, p->pss.md, NULL) ||
        !pico_rsa_params_set_mgf1(p, p->pss.mgf1, NULL))
        return 0;
    p->saltlen = p->pss.min_saltlen;
    return 1;
}

/* ---------------------------------------------------------------- set_ctx_params */

static int pad_allowed(const pico_rsa_params *p, int pad)
{
    if (p->op == PICO_RSA_SIG)
        return pad == RSA_PKCS1_PADDING || pad == RSA_PKCS1_PSS_PADDING || pad == RSA_NO_PADDING;
    return pad == RSA_NO_PADDING || pad == RSA_PKCS1_PADDING || pad == RSA_PKCS1_OAEP_PADDING ||
           (pad == RSA_PKCS1_WITH_TLS_PADDING && !p->encrypt);
}

/* The padding mode, a number or a name */
static int set_pad(pico_rsa_params *p, const OSSL_PARAM *q)
{
    const char *s;
    int pad = -1;
    size_t i;

    if (q->data_type == OSSL_PARAM_INTEGER) {
        if (!OSSL_PARAM_get_int(q, &pad))
            pad = -1;
    } else if (OSSL_PARAM_get_utf8_string_ptr(q, &s)) {
        for (i = 0; i < sizeof(pad_names) / sizeof(pad_names[0]); i++)
            if (strcmp(s, pad_names[i].name) == 0)
                pad = pad_names[i].pad;
    }
    if (!pad_allowed(p, pad)) {
        pico_prov_raise(p->prov, PICO_E_UNSUPPORTED, "rsa padding mode");
        return 0;
    }
    if (p->pss_only && pad != RSA_PKCS1_PSS_PADDING) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "an rsa-pss key signs with pss only");
        return 0;
    }
    p->pad = pad;
    return 1;
}

/* "digest", "max", "auto" or a number, as the default provider reads them */
static int set_saltlen(pico_rsa_params *p, const OSSL_PARAM *q)
{
    const char *s;
    int saltlen;

    if (q->data_type == OSSL_PARAM_INTEGER) {
        if (!OSSL_PARAM_get_int(q, &saltlen))
            return 0;
    } else if (!OSSL_PARAM_get_utf8_string_ptr(q, &s)) {
        return 0;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0) {
        saltlen = RSA_PSS_SALTLEN_DIGEST;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0) {
        saltlen = RSA_PSS_SALTLEN_MAX;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0) {
        saltlen = RSA_PSS_SALTLEN_AUTO;
    } else {
        saltlen = atoi(s);
    }
    if (saltlen < RSA_PSS_SALTLEN_MAX) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "pss salt length %d out of range", saltlen);
        return 0;
    }
    if (!check_saltlen(p, saltlen))
        return 0;
    p->saltlen = saltlen;
    p->saltlen_set = 1;
    return 1;
}

/* The digest and MGF1 digest, with their property queries where the operation has them. The
 * signature's and the cipher's names are the same strings (digest, pad-mode, mgf1-digest). */
static int set_digests(pico_rsa_params *p, const OSSL_PARAM params[])
{
    const OSSL_PARAM *q;
    const char *s, *props = NULL;

    if ((q = OSSL_PARAM_locate_const(params, p->op == PICO_RSA_CIPHER
                                                 ? OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS
                                                 : OSSL_SIGNATURE_PARAM_PROPERTIES)) != NULL &&
        !OSSL_PARAM_get_utf8_string_ptr(q, &props))
        return 0;
    if ((q = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(q, &s) || !pico_rsa_params_set_md(p, s, props)))
        return 0;
    if (p->op == PICO_RSA_DIGEST)
        return 1;
    props = NULL;
    if (p->op == PICO_RSA_CIPHER &&
        (q = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS)) != NULL &&
        !OSSL_PARAM_get_utf8_string_ptr(q, &props))
        return 0;
    if ((q = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(q, &s) || !pico_rsa_params_set_mgf1(p, s, props)))
        return 0;
    return 1;
}

static int get_uint(const OSSL_PARAM params[], const char *name, unsigned *out)
{
    const OSSL_PARAM *q = OSSL_PARAM_locate_const(params, name);

    return q == NULL || OSSL_PARAM_get_uint(q, out);
}

/* The cipher's OAEP label, TLS versions and implicit rejection */
static int set_cipher_params(pico_rsa_params *p, const OSSL_PARAM params[])
{
    const OSSL_PARAM *q;
    void *label = NULL;
    size_t len = 0;
    unsigned v = 0;

    if ((q = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL) {
        /* RSA_padding_check_PKCS1_OAEP_mgf1 takes an int */
        if (q->data_type == OSSL_PARAM_OCTET_STRING && q->data_size > INT_MAX) {
            pico_prov_raise(p->prov, PICO_E_ARGS, "oaep label of %zu bytes: too long",
                            q->data_size);
            return 0;
        }
        if (!OSSL_PARAM_get_octet_string(q, &label, 0, &len))
            return 0;
        OPENSSL_free(p->label);
        p->label = label;
        p->label_len = len;
    }
    if (!get_uint(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &p->client_version) ||
        !get_uint(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, &p->alt_version) ||
        !get_uint(params, PICO_PARAM_IMPLICIT_REJECTION, &v))
        return 0;
    if (v != 0) {
        pico_prov_raise(p->prov, PICO_E_UNSUPPORTED,
                        "implicit rejection needs the private exponent, which stays on the "
                        "device");
        return 0;
    }
    return 1;
}

int pico_rsa_params_set(pico_rsa_params *p, const OSSL_PARAM params[])
{
    const OSSL_PARAM *q;

    if (params == NULL)
        return 1;
    if (!set_digests(p, params))
        return 0;
    if (p->op == PICO_RSA_DIGEST)
        return 1;
    if ((q = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
        !set_pad(p, q))
        return 0;
    if (p->op == PICO_RSA_CIPHER)
        return set_cipher_params(p, params);
    q = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    return q == NULL || set_saltlen(p, q);
}

/* ---------------------------------------------------------------- get_ctx_params */

static const char *pad_name(int pad)
{
    size_t i;

    for (i = 0; i < sizeof(pad_names) / sizeof(pad_names[0]); i++)
        if (pad_names[i].pad == pad)
            return pad_names[i].name;
    return OSSL_PKEY_RSA_PAD_MODE_PKCSV15; /* the TLS padding is PKCS#1 v1.5's */
}

static int set_name(OSSL_PARAM params[], const char *key, const EVP_MD *md, const EVP_MD *dflt,
                    const char *none)
{
    OSSL_PARAM *q = OSSL_PARAM_locate(params, key);

    if (q == NULL)
        return 1;
    md = md != NULL ? md : dflt;
    return OSSL_PARAM_set_utf8_string(q, md != NULL ? EVP_MD_get0_name(md) : none);
}

static int set_uint(OSSL_PARAM params[], const char *key, unsigned v)
{
    OSSL_PARAM *q = OSSL_PARAM_locate(params, key);

    return q == NULL || OSSL_PARAM_set_uint(q, v);
}

int pico_rsa_params_get(const pico_rsa_params *p, OSSL_PARAM params[])
{
    /* no digest set: the signature says "", the cipher OAEP's default */
    const char *none = p->op == PICO_RSA_CIPHER ? "SHA1" : "";
    OSSL_PARAM *q;

    if (!set_name(params, OSSL_SIGNATURE_PARAM_DIGEST, p->md, NULL, none))
        return 0;
    if (p->op == PICO_RSA_DIGEST)
        return 1;
    if ((q = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
        !(q->data_type == OSSL_PARAM_INTEGER ? OSSL_PARAM_set_int(q, p->pad)
                                             : OSSL_PARAM_set_utf8_string(q, pad_name(p->pad))))
        return 0;
    if (!set_name(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST, p->mgf1, p->md, none))
        return 0;
    if (p->op == PICO_RSA_SIG)
        return (q = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) == NULL ||
               q->data_type != OSSL_PARAM_INTEGER || OSSL_PARAM_set_int(q, p->saltlen);
    if ((q = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL &&
        !OSSL_PARAM_set_octet_ptr(q, p->label, p->label_len))
        return 0;
    return set_uint(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, p->client_version) &&
           set_uint(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, p->alt_version) &&
           set_uint(params, PICO_PARAM_IMPLICIT_REJECTION, 0);
}

static const OSSL_PARAM sig_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM digest_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM cipher_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
    OSSL_PARAM_uint(PICO_PARAM_IMPLICIT_REJECTION, NULL),
    OSSL_PARAM_END,
};

const OSSL_PARAM *pico_rsa_params_settable(pico_rsa_op op)
{
    return op == PICO_RSA_SIG      ? sig_settable
           : op == PICO_RSA_CIPHER ? cipher_settable
                                   : digest_settable;
}

/* The signature's algorithm-id is the shadow's answer (signature.c) */
static const OSSL_PARAM sig_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM digest_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM cipher_gettable[] = {
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_octet_ptr(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
    OSSL_PARAM_uint(PICO_PARAM_IMPLICIT_REJECTION, NULL),
    OSSL_PARAM_END,
};

const OSSL_PARAM *pico_rsa_params_gettable(pico_rsa_op op)
{
    return op == PICO_RSA_SIG      ? sig_gettable
           : op == PICO_RSA_CIPHER ? cipher_gettable
                                   : digest_gettable;
}

/* ---------------------------------------------------------------- the shadow's settings */

void pico_rsa_params_shadow(pico_rsa_params *p, OSSL_PARAM out[PICO_RSA_SHADOW_PARAMS])
{
    OSSL_PARAM *q = out;
    int pss = p->pad == RSA_PKCS1_PSS_PADDING, oaep = p->pad == RSA_PKCS1_OAEP_PADDING;

    if (p->op == PICO_RSA_CIPHER)
        *q++ = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &p->pad);
    if (p->md != NULL && (p->op != PICO_RSA_CIPHER || oaep))
        *q++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST,
                                                (char *)EVP_MD_get0_name(p->md), 0);
    if (p->op == PICO_RSA_SIG) {
        *q++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &p->pad);
        /* the default salt length is the shadow's own: "auto" for a verification,
         * the minimum of a restricted RSA-PSS key (where "auto" is refused) */
        if (pss && (p->saltlen_set || p->pss.restricted))
            *q++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &p->saltlen);
    }
    if (p->mgf1 != NULL && ((p->op == PICO_RSA_SIG && pss) || oaep))
        *q++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                                (char *)EVP_MD_get0_name(p->mgf1), 0);
    if (oaep && p->op == PICO_RSA_CIPHER && p->label != NULL)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, p->label,
                                                 p->label_len);
    *q = OSSL_PARAM_construct_end();
}

/* ---------------------------------------------------------------- signature paddings */

/* T = DigestInfo(md, hash) (RFC 8017 9.2), or the hash alone for MD5-SHA1 */
static int digest_info(pico_rsa_params *p, const uint8_t *hash, size_t hlen, uint8_t *t,
                       size_t *tlen)
{
    size_t i, n = 0, olen;

    for (i = 0; i < sizeof(digest_oids) / sizeof(digest_oids[0]); i++)
        if (EVP_MD_is_a(p->md, digest_oids[i].md))
            break;
    if (i == sizeof(digest_oids) / sizeof(digest_oids[0])) {
        pico_prov_raise(p->prov, PICO_E_UNSUPPORTED, "digest %s with pkcs#1 v1.5",
                        EVP_MD_get0_name(p->md));
        return 0;
    }
    if ((olen = digest_oids[i].oid_len) > 0) {
        /* SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING hash } */
        t[n++] = 0x30;
        t[n++] = (uint8_t)(olen + 8 + hlen);
        t[n++] = 0x30;
        t[n++] = (uint8_t)(olen + 4);
        t[n++] = 0x06;
        t[n++] = (uint8_t)olen;
        memcpy(t + n, digest_oids[i].oid, olen);
        n += olen;
        t[n++] = 0x05;
        t[n++] = 0x00;
        t[n++] = 0x04;
        t[n++] = (uint8_t)hlen;
    }
    memcpy(t + n, hash, hlen);
    *tlen = n + hlen;
    return 1;
}

int pico_rsa_pad_pkcs1(pico_rsa_params *p, const uint8_t *tbs, size_t tbslen, uint8_t *em, size_t k)
{
    uint8_t info[DIGESTINFO_MAX];
    const uint8_t *t = tbs;
    size_t tlen = tbslen;

    if (p->md != NULL) {
        if ((size_t)EVP_MD_get_size(p->md) != tbslen) {
            pico_prov_raise(p->prov, PICO_E_ARGS, "%zu bytes to sign, %s makes %d", tbslen,
                            EVP_MD_get0_name(p->md), EVP_MD_get_size(p->md));
            return 0;
        }
        if (!digest_info(p, tbs, tbslen, info, &tlen))
            return 0;
        t = info;
    }
    if (tlen + 11 > k) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "data too long for the key size");
        return 0;
    }
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xFF, k - tlen - 3);
    em[k - tlen - 1] = 0x00;
    memcpy(em + k - tlen, t, tlen);
    return 1;
}

/* 1 when a salt of slen bytes fits an emlen-byte EMSA-PSS block with an hlen-byte hash */
static int salt_fits(pico_rsa_params *p, size_t emlen, size_t hlen, int slen)
{
    if (slen >= 0 && emlen >= hlen + (size_t)slen + 2 && slen <= 512)
        return 1;
    pico_prov_raise(p->prov, PICO_E_ARGS, "pss salt length %d too long for the key", slen);
    return 0;
}

int pico_rsa_pss_saltlen(pico_rsa_params *p, unsigned bits, size_t tbslen, int *slen)
{
    size_t hlen, emlen = ((size_t)bits - 1 + 7) / 8;

    if (p->md == NULL && !pico_rsa_params_set_md(p, "SHA256", NULL))
        return 0;
    hlen = (size_t)EVP_MD_get_size(p->md);
    if (tbslen != hlen) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "%zu bytes to sign, %s makes %zu", tbslen,
                        EVP_MD_get0_name(p->md), hlen);
        return 0;
    }
    *slen = p->saltlen == RSA_PSS_SALTLEN_DIGEST ? (int)hlen
            : p->saltlen == RSA_PSS_SALTLEN_AUTO || p->saltlen == RSA_PSS_SALTLEN_MAX
                ? (int)emlen - (int)hlen - 2
                : p->saltlen;
    return check_saltlen(p, *slen) && salt_fits(p, emlen, hlen, *slen);
}

/* out ^= MGF1(seed), RFC 8017 B.2.1 */
static int mgf1_xor(const EVP_MD *md, uint8_t *out, size_t len, const uint8_t *seed, size_t seedlen)
{
    uint8_t block[EVP_MAX_MD_SIZE], cnt[4];
    unsigned hl, i;
    uint32_t c;
    size_t done = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = 0;

    for (c = 0; m != NULL && done < len; c++) {
        cnt[0] = (uint8_t)(c >> 24), cnt[1] = (uint8_t)(c >> 16), cnt[2] = (uint8_t)(c >> 8),
        cnt[3] = (uint8_t)c;
        if (!EVP_DigestInit_ex(m, md, NULL) || !EVP_DigestUpdate(m, seed, seedlen) ||
            !EVP_DigestUpdate(m, cnt, 4) || !EVP_DigestFinal_ex(m, block, &hl))
            goto end;
        for (i = 0; i < hl && done < len; i++)
            out[done++] ^= block[i];
    }
    ok = m != NULL;
end:
    EVP_MD_CTX_free(m);
    return ok;
}

int pico_rsa_pad_pss(pico_rsa_params *p, const uint8_t *mhash, size_t hlen, int slen, unsigned bits,
                     uint8_t *em, size_t k)
{
    static const uint8_t zeros[8] = {0};
    const EVP_MD *mgf1 = p->mgf1 != NULL ? p->mgf1 : p->md;
    size_t embits = (size_t)bits - 1, emlen = (embits + 7) / 8;
    uint8_t *e = em + (k - emlen), *db = e, salt[512];
    EVP_MD_CTX *m = NULL;
    size_t dblen = emlen - hlen - 1;
    unsigned hl;
    int ok = 0;

    if (p->md == NULL || emlen > k || !salt_fits(p, emlen, hlen, slen))
        return 0;
    memset(em, 0, k);
    if (slen > 0 && RAND_bytes_ex(pico_prov_sw(p->prov), salt, (size_t)slen, 0) != 1)
        return 0;
    /* H = Hash(00*8 || mHash || salt), placed after DB */
    if ((m = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(m, p->md, NULL) ||
        !EVP_DigestUpdate(m, zeros, 8) || !EVP_DigestUpdate(m, mhash, hlen) ||
        !EVP_DigestUpdate(m, salt, (size_t)slen) || !EVP_DigestFinal_ex(m, e + dblen, &hl))
        goto end;
    /* DB = PS || 01 || salt, masked with MGF1(H) */
    db[dblen - (size_t)slen - 1] = 0x01;
    memcpy(db + dblen - (size_t)slen, salt, (size_t)slen);
    if (!mgf1_xor(mgf1, db, dblen, e + dblen, hlen))
        goto end;
    db[0] &= (uint8_t)(0xFF >> (8 * emlen - embits));
    e[emlen - 1] = 0xBC;
    ok = 1;
end:
    OPENSSL_cleanse(salt, sizeof(salt));
    EVP_MD_CTX_free(m);
    return ok;
}

/* ---------------------------------------------------------------- decryption paddings */

/* Constant-time helpers: all-ones when the condition holds, zero otherwise. */
static unsigned ct_is_zero(unsigned a)
{
    return 0u - ((~a & (a - 1)) >> (sizeof(unsigned) * 8 - 1));
}

static unsigned ct_eq(unsigned a, unsigned b)
{
    return ct_is_zero(a ^ b);
}

/*
 * The TLS premaster secret (RFC 5246 7.4.7.1) from the k-byte block em: 48
 * bytes after 00 02 PS 00, PS at least 8 non-zero bytes, starting with the
 * client's version. Whatever is wrong, the answer is 48 random bytes, chosen
 * without a branch on the block.
 */
static int tls_premaster(pico_rsa_params *p, const uint8_t *em, size_t k, uint8_t *out)
{
    uint8_t rnd[PICO_TLS_PREMASTER_LEN];
    unsigned good, ver;
    size_t i, msg = k - PICO_TLS_PREMASTER_LEN;

    if (k < PICO_TLS_PREMASTER_LEN + 11 ||
        RAND_priv_bytes_ex(pico_prov_sw(p->prov), rnd, sizeof(rnd), 0) != 1)
        return 0;
    good = ct_is_zero(em[0]) & ct_eq(em[1], 2) & ct_is_zero(em[msg - 1]);
    for (i = 2; i < msg - 1; i++)
        good &= ~ct_is_zero(em[i]);
    ver = (unsigned)em[msg] << 8 | em[msg + 1];
    good &= ct_eq(ver, p->client_version) | (p->alt_version != 0 ? ct_eq(ver, p->alt_version) : 0u);
    for (i = 0; i < PICO_TLS_PREMASTER_LEN; i++)
        out[i] = (uint8_t)((em[msg + i] & good) | (rnd[i] & ~good));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return 1;
}

static int oaep_decode(pico_rsa_params *p, const uint8_t *em, size_t k, uint8_t *out,
                       size_t outsize)
{
    const EVP_MD *md = p->md;
    EVP_MD *sha1 = NULL;
    int n = -1;

    if (md == NULL) /* OpenSSL's default */
        md = sha1 = EVP_MD_fetch(pico_prov_sw(p->prov), "SHA1", PICO_SW_PROPQ);
    if (md != NULL)
        n = RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)outsize, em, (int)k, (int)k, p->label,
                                              (int)p->label_len, md,
                                              p->mgf1 != NULL ? p->mgf1 : md);
    EVP_MD_free(sha1);
    return n;
}

int pico_rsa_unpad(pico_rsa_params *p, const uint8_t *em, size_t k, uint8_t *out, size_t outsize,
                   size_t *outlen)
{
    int n = -1;

    if (outsize > INT_MAX)
        outsize = INT_MAX;
    switch (p->pad) {
    case RSA_NO_PADDING:
        if (outsize >= k) {
            memcpy(out, em, k);
            n = (int)k;
        }
        break;
    case RSA_PKCS1_PADDING:
        n = RSA_padding_check_PKCS1_type_2(out, (int)outsize, em, (int)k, (int)k);
        break;
    case RSA_PKCS1_OAEP_PADDING:
        n = oaep_decode(p, em, k, out, outsize);
        break;
    case RSA_PKCS1_WITH_TLS_PADDING:
        if (outsize >= PICO_TLS_PREMASTER_LEN)
            n = tls_premaster(p, em, k, out) ? PICO_TLS_PREMASTER_LEN : -1;
        break;
    }
    if (n < 0) {
        pico_prov_raise(p->prov, PICO_E_ARGS, "rsa decryption failed");
        return 0;
    }
    *outlen = (size_t)n;
    return 1;
}
