/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA and RSA-PSS key management: device keys (generated with `openssl genpkey
 * -algorithm RSA -pkeyopt rsa_keygen_bits:3072`, or found by the store) and
 * imported public keys. The device makes 1024 to 4096-bit keys with e = 65537
 * only (field-notes.md). RSA-PSS keys are RSA keys whose use is restricted to
 * PSS, and to one digest, MGF1 digest and minimum salt length when made with
 * rsa_pss_keygen_md/_mgf1_md/_saltlen: the restriction is kept in the key's
 * PrKD as an RSASSA-PSS AlgorithmIdentifier (pkcs15.h), so that the key is the
 * same RSA-PSS key in every process that finds it, and its public key (and so
 * every certificate and CSR made with it) carries those parameters.
 */
#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "rsapss.h"
#include "tlv.h"

static OSSL_FUNC_keymgmt_new_fn rsa_keymgmt_new;
static OSSL_FUNC_keymgmt_new_fn rsapss_keymgmt_new;
static OSSL_FUNC_keymgmt_import_types_fn rsa_keymgmt_types;
static OSSL_FUNC_keymgmt_gettable_params_fn rsa_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_query_operation_name_fn rsa_keymgmt_query_operation_name;
static OSSL_FUNC_keymgmt_gen_init_fn rsa_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_init_fn rsapss_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_set_params_fn rsa_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn rsa_keymgmt_gen_settable_params;
static OSSL_FUNC_keymgmt_gen_fn rsapss_keymgmt_gen;
static OSSL_FUNC_keymgmt_gen_set_params_fn rsapss_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn rsapss_keymgmt_gen_settable_params;
static OSSL_FUNC_keymgmt_import_types_fn rsapss_keymgmt_types;
static OSSL_FUNC_keymgmt_get_params_fn rsapss_keymgmt_get_params;
static OSSL_FUNC_keymgmt_gettable_params_fn rsapss_keymgmt_gettable_params;

static void *rsa_keymgmt_new(void *provctx)
{
    return pico_pkey_new(provctx, PICO_KEY_RSA);
}

static void *rsapss_keymgmt_new(void *provctx)
{
    pico_pkey *key = pico_pkey_new(provctx, PICO_KEY_RSA);

    if (key != NULL)
        key->rsa_pss = 1;
    return key;
}

/* ------------------------------------------------------------ RSA-PSS keys */

int pico_rsa_pss_key(const pico_key *hsm)
{
    pico_pss_params pp;

    pico_err_mark();
    pico_key_pss_params(hsm, &pp); /* unreadable restrictions: a PSS key that signs with none */
    pico_err_pop_to_mark();
    return pp.pss;
}

/* A digest's OpenSSL name from its NID. */
static int md_name(int nid, char *out, size_t cap)
{
    const char *sn = OBJ_nid2sn(nid);

    if (sn == NULL || OBJ_sn2nid(sn) == NID_undef || strlen(sn) >= cap)
        return 0;
    strcpy(out, sn);
    return 1;
}

/* common/rsapss.c reads them; here they take OpenSSL's names (the default provider's
 * rsa_pss_keygen_md/_mgf1_md/_saltlen) */
int pico_rsa_pss_limits(pico_prov_ctx *prov, const pico_key *hsm, pico_pss_limits *out)
{
    pico_pss_params pp;

    memset(out, 0, sizeof(*out));
    if (pico_key_pss_params(hsm, &pp) != PICO_OK)
        return 0;
    if (!pp.pss) {
        pico_prov_raise(prov, PICO_E_ARGS, "not an rsa-pss key");
        return 0;
    }
    if (!pp.restricted)
        return 1;
    if (!md_name(pp.md_nid, out->md, sizeof(out->md)) ||
        !md_name(pp.mgf1_nid, out->mgf1, sizeof(out->mgf1))) {
        pico_prov_raise(prov, PICO_E_ARGS, "rsa-pss key %u: a digest openssl does not know",
                        hsm->keyref);
        return 0;
    }
    out->restricted = 1;
    out->min_saltlen = pp.min_salt;
    return 1;
}

/* SubjectPublicKeyInfo { the key's AlgorithmIdentifier, BIT STRING { RSAPublicKey } },
 * decoded by the software provider: the same key as a software RSA-PSS key would be. */
EVP_PKEY *pico_rsa_pss_public(pico_prov_ctx *prov, const pico_key *hsm, EVP_PKEY *rsa)
{
    unsigned char *spki = NULL, *der = NULL, *w;
    const unsigned char *pk, *q;
    X509_PUBKEY *xp = NULL;
    EVP_PKEY *pss = NULL;
    int n, pklen;
    size_t bits, body, total;

    if ((n = i2d_PUBKEY(rsa, &spki)) <= 0 ||
        (q = spki, xp = d2i_X509_PUBKEY(NULL, &q, n)) == NULL ||
        !X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xp))
        goto end;
    bits = 1 + (size_t)pklen;
    body = hsm->algid_len + pico_tlv_header(NULL, 0x03, bits) + bits;
    total = pico_tlv_header(NULL, 0x30, body) + body;
    if ((der = OPENSSL_malloc(total)) == NULL)
        goto end;
    w = der + pico_tlv_header(der, 0x30, body);
    memcpy(w, hsm->algid, hsm->algid_len);
    w += hsm->algid_len;
    w += pico_tlv_header(w, 0x03, bits);
    *w++ = 0x00; /* no unused bits */
    memcpy(w, pk, (size_t)pklen);
    q = der;
    pss = d2i_PUBKEY_ex(NULL, &q, (long)total, pico_prov_sw(prov), PICO_SW_PROPQ);
end:
    if (pss == NULL)
        pico_prov_raise(prov, PICO_E_INTERNAL, "rsa-pss public key of key %u", hsm->keyref);
    X509_PUBKEY_free(xp);
    OPENSSL_free(spki);
    OPENSSL_free(der);
    return pss;
}

/*
 * The AlgorithmIdentifier of the key genpkey asks for, as OpenSSL's RSA-PSS
 * key manager makes it from the same parameters (the same defaults: a digest
 * alone leaves MGF1 on SHA-1, a salt alone SHA-1 for both; none at all, an
 * unrestricted key): it holds the parameters of a public key made of a
 * placeholder modulus, since the device's key does not exist yet.
 */
static int rsapss_algid(pico_genctx *ctx, size_t *len)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n = BN_new(), *e = BN_new();
    unsigned char *spki = NULL, *a = NULL;
    const unsigned char *q;
    X509_PUBKEY *xp = NULL;
    X509_ALGOR *alg;
    char salt[16] = "default";
    int slen, alen = 0, ok = 0;

    if (bld == NULL || n == NULL || e == NULL || !BN_set_bit(n, ctx->spec.bits - 1) ||
        !BN_set_bit(n, 0) || !BN_set_word(e, 65537) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (ctx->pss_md[0] != '\0' &&
         !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_RSA_DIGEST, ctx->pss_md, 0)) ||
        (ctx->pss_mgf1[0] != '\0' && !OSSL_PARAM_BLD_push_utf8_string(
                                         bld, OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, ctx->pss_mgf1, 0)) ||
        (ctx->pss_props[0] != '\0' &&
         !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_RSA_DIGEST_PROPS, ctx->pss_props,
                                          0)) ||
        (ctx->pss_saltlen_set &&
         !OSSL_PARAM_BLD_push_int(bld, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, ctx->pss_saltlen)) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto end;
    if ((pctx = EVP_PKEY_CTX_new_from_name(pico_prov_sw(ctx->prov), "RSA-PSS", PICO_SW_PROPQ)) ==
            NULL ||
        EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
        (slen = i2d_PUBKEY(pk, &spki)) <= 0 ||
        (q = spki, xp = d2i_X509_PUBKEY(NULL, &q, slen)) == NULL ||
        !X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, xp) ||
        (alen = i2d_X509_ALGOR(alg, &a)) <= 0 || (size_t)alen > sizeof(ctx->algid))
        goto end;
    memcpy(ctx->algid, a, (size_t)alen);
    *len = (size_t)alen;
    ok = 1;
end:
    if (!ok) {
        if (ctx->pss_saltlen_set)
            snprintf(salt, sizeof(salt), "%d", ctx->pss_saltlen);
        pico_prov_raise(ctx->prov, PICO_E_ARGS,
                        "rsa-pss restrictions refused (digest %s, mgf1 digest %s, salt length %s)",
                        ctx->pss_md[0] != '\0' ? ctx->pss_md : "default",
                        ctx->pss_mgf1[0] != '\0' ? ctx->pss_mgf1 : "default", salt);
    }
    OPENSSL_free(a);
    OPENSSL_free(spki);
    X509_PUBKEY_free(xp);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return ok;
}

static const OSSL_PARAM *rsa_keymgmt_types(int selection)
{
    static const OSSL_PARAM types[] = {
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)selection;
    return types;
}

/* RSA-PSS keys carry their restrictions (OpenSSL's names) */
#define RSA_PSS_PARAMS_LIST                                                                        \
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST, NULL, 0),                                   \
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST_PROPS, NULL, 0),                         \
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MASKGENFUNC, NULL, 0),                          \
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, NULL, 0),                          \
        OSSL_PARAM_int(OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, NULL)

static const OSSL_PARAM *rsapss_keymgmt_types(int selection)
{
    static const OSSL_PARAM types[] = {
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        RSA_PSS_PARAMS_LIST,
        OSSL_PARAM_END,
    };
    (void)selection;
    return types;
}

static const OSSL_PARAM *rsa_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

static const OSSL_PARAM *rsapss_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

/* A restricted key signs with its digest only: that is its default and mandatory digest,
 * as OpenSSL's RSA-PSS keys answer (from the description: no device access). */
static int rsapss_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    pico_pss_limits lim;
    OSSL_PARAM *p;
    EVP_MD *md = NULL;
    const char *name;
    int ok;

    if (!pico_keymgmt_get_params(keydata, params))
        return 0;
    if (key->hsm == NULL)
        return 1; /* an imported public key: the software key answered */
    if (!pico_rsa_pss_limits(key->prov, key->hsm, &lim))
        return 0;
    if (!lim.restricted)
        return 1;
    name = lim.md;
    /* by the digest's own first name ("SHA2-384", not "SHA384"), as the default provider */
    if ((md = EVP_MD_fetch(pico_prov_sw(key->prov), lim.md, PICO_SW_PROPQ)) != NULL)
        name = EVP_MD_get0_name(md);
    ok = ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) == NULL ||
          OSSL_PARAM_set_utf8_string(p, name)) &&
         ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST)) == NULL ||
          OSSL_PARAM_set_utf8_string(p, name));
    EVP_MD_free(md);
    return ok;
}

static const char *rsa_keymgmt_query_operation_name(int operation_id)
{
    (void)operation_id;
    return "RSA";
}

/* What the firmware makes (6.2): device keys only; a soft key takes what software takes. */
static int rsa_gen_check(pico_genctx *ctx)
{
    int bits = ctx->spec.bits;

    if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED,
                        "rsa_keygen_bits %d: the device makes 1024, 2048, 3072 or 4096", bits);
        return 0;
    }
    if (ctx->e_bad) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "the device uses e = 65537 only");
        return 0;
    }
    if (ctx->primes_bad) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "the device makes 2-prime keys");
        return 0;
    }
    return 1;
}

static int rsa_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const OSSL_PARAM *p;
    BIGNUM *e = NULL;
    size_t bits, primes;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_BITS)) != NULL) {
        if (!OSSL_PARAM_get_size_t(p, &bits) || bits > 16384)
            return 0;
        ctx->spec.bits = (int)bits;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E)) != NULL) {
        if (!OSSL_PARAM_get_BN(p, &e))
            return 0;
        ctx->e_bad = !BN_is_word(e, 65537);
        BN_free(e);
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_PRIMES)) != NULL) {
        if (!OSSL_PARAM_get_size_t(p, &primes))
            return 0;
        ctx->primes_bad = primes != 2;
    }
    return pico_keymgmt_gen_set_common(ctx, params);
}

static const OSSL_PARAM *rsa_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, NULL),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_PRIMES, NULL),
        PICO_GEN_SETTABLE_COMMON,
        OSSL_PARAM_END,
    };
    (void)genctx;
    (void)provctx;
    return settable;
}

static void *gen_init(void *provctx, const char *alg, int selection, const OSSL_PARAM params[])
{
    pico_genctx *ctx;

    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return NULL; /* RSA has no parameters to generate */
    if ((ctx = pico_keymgmt_gen_init(provctx, PICO_KEY_RSA, alg, selection)) == NULL)
        return NULL;
    ctx->check = rsa_gen_check;
    if (!rsa_keymgmt_gen_set_params(ctx, params)) {
        pico_keymgmt_gen_cleanup(ctx);
        return NULL;
    }
    return ctx;
}

static void *rsa_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return gen_init(provctx, "RSA", selection, params);
}

static int copy_name(pico_genctx *ctx, const OSSL_PARAM *p, char *out, size_t cap)
{
    const char *s;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || strlen(s) >= cap) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "%s: a name of at most %zu characters", p->key,
                        cap - 1);
        return 0;
    }
    strcpy(out, s);
    return 1;
}

/* The restrictions of OpenSSL's RSA-PSS key generation (rsa_pss_keygen_md, _mgf1_md,
 * _saltlen), checked now as OpenSSL checks them: a bad name fails here, not at generation. */
static int rsapss_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const OSSL_PARAM *p;
    const char *s;
    size_t len;

    if (!rsa_keymgmt_gen_set_params(ctx, params))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_DIGEST)) != NULL &&
        !copy_name(ctx, p, ctx->pss_md, sizeof(ctx->pss_md)))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_MGF1_DIGEST)) != NULL &&
        !copy_name(ctx, p, ctx->pss_mgf1, sizeof(ctx->pss_mgf1)))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_DIGEST_PROPS)) != NULL &&
        !copy_name(ctx, p, ctx->pss_props, sizeof(ctx->pss_props)))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_MASKGENFUNC)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || strcasecmp(s, SN_mgf1) != 0)) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "rsa-pss mask generation: mgf1 only");
        return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN)) != NULL) {
        if (!OSSL_PARAM_get_int(p, &ctx->pss_saltlen) || ctx->pss_saltlen < 0) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "rsa_pss_keygen_saltlen: a length in bytes");
            return 0;
        }
        ctx->pss_saltlen_set = 1;
    }
    return rsapss_algid(ctx, &len);
}

static const OSSL_PARAM *rsapss_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, NULL),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_PRIMES, NULL),
        RSA_PSS_PARAMS_LIST,
        PICO_GEN_SETTABLE_COMMON,
        OSSL_PARAM_END,
    };
    (void)genctx;
    (void)provctx;
    return settable;
}

static void *rsapss_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    pico_genctx *ctx;

    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return NULL;
    if ((ctx = pico_keymgmt_gen_init(provctx, PICO_KEY_RSA, "RSA-PSS", selection)) == NULL)
        return NULL;
    ctx->check = rsa_gen_check;
    if (!rsapss_keymgmt_gen_set_params(ctx, params)) {
        pico_keymgmt_gen_cleanup(ctx);
        return NULL;
    }
    return ctx;
}

/* The restrictions go into the key's PrKD, where every later process finds them (the
 * key file holds only the key's URI). */
static void *rsapss_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_genctx *ctx = genctx;
    pico_pkey *key;

    if (!rsapss_algid(ctx, &ctx->spec.algid_len))
        return NULL;
    ctx->spec.algid = ctx->algid;
    if ((key = pico_keymgmt_gen(genctx, cb, cbarg)) != NULL)
        key->rsa_pss = 1;
    return key;
}

#define RSA_KEYMGMT_COMMON                                                                         \
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))pico_keymgmt_free},                                   \
        {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))pico_keymgmt_dup},                                 \
        {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))pico_keymgmt_load},                               \
        {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))pico_keymgmt_has},                                 \
        {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))pico_keymgmt_match},                             \
        {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))pico_keymgmt_export},                           \
        {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,                                                   \
         (void (*)(void))rsa_keymgmt_query_operation_name},                                        \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))pico_keymgmt_gen_cleanup                    \
    }

const OSSL_DISPATCH pico_rsa_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))pico_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))pico_keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_keymgmt_gettable_params},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsa_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))rsa_keymgmt_gen_set_params},
    {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsa_keymgmt_gen_settable_params},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))pico_keymgmt_gen},
    RSA_KEYMGMT_COMMON,
    {0, NULL},
};

const OSSL_DISPATCH pico_rsapss_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsapss_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))pico_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsapss_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsapss_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))rsapss_keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsapss_keymgmt_gettable_params},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsapss_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))rsapss_keymgmt_gen_set_params},
    {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsapss_keymgmt_gen_settable_params},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))rsapss_keymgmt_gen},
    RSA_KEYMGMT_COMMON,
    {0, NULL},
};
