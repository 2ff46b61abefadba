/* SPDX-License-Identifier: Apache-2.0 */
#include "cvc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "keytype.h"
#include "tlv.h"

/* id-TA-RSA-v1-5-SHA-256 and id-TA-ECDSA-SHA-256 (Appendix A): the only OIDs key
 * generation accepts (6.2). */
static const uint8_t oid_ta_rsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                            0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t oid_ta_ecdsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                              0x02, 0x02, 0x02, 0x02, 0x03};

/* 6.3: Weierstrass curves of the firmware (X25519/X448 are not offered here). */
const char *const pico_cvc_curves[] = {
    "prime256v1",      "secp384r1", "secp521r1",  "brainpoolP256r1", "brainpoolP384r1",
    "brainpoolP512r1", "secp256k1", "prime192v1", "secp192k1",       NULL,
};

/* Descends 67 -> 7F21 -> 7F4E; returns the body (content of 7F4E). */
static pico_err cvc_body(const uint8_t *cv, size_t len, const uint8_t **body, size_t *body_len)
{
    pico_tlv t;

    if (pico_tlv_next(&cv, &len, &t) != 1)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: malformed");
    if (t.tag == 0x67) {
        cv = t.val;
        len = t.len;
        if (pico_tlv_next(&cv, &len, &t) != 1)
            return pico_err_raise(PICO_E_BAD_RESPONSE, "cv request: malformed");
    }
    if (t.tag != 0x7F21)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: no certificate (7F21)");
    if (pico_tlv_find(t.val, t.len, 0x7F4E, &t) != 1)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: no body (7F4E)");
    *body = t.val;
    *body_len = t.len;
    return PICO_OK;
}

pico_err pico_cvc_chr(const uint8_t *cv, size_t len, const uint8_t **chr, size_t *chr_len)
{
    const uint8_t *body;
    size_t blen;
    pico_tlv t;
    pico_err err;

    if ((err = cvc_body(cv, len, &body, &blen)) != PICO_OK)
        return err;
    if (pico_tlv_find(body, blen, 0x5F20, &t) != 1 || t.len == 0)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: no holder reference (5F20)");
    *chr = t.val;
    *chr_len = t.len;
    return PICO_OK;
}

/*
 * Whether the big-endian number t holds bn's value. By value, not by bytes:
 * firmware 6.6 writes a = 0 (secp192k1, secp256k1) as one zero byte, libcvc as
 * field-length zeros, and both pad or strip the other parameters as they like.
 */
static int bn_equals(const BIGNUM *bn, const pico_tlv *t)
{
    BIGNUM *v = BN_bin2bn(t->val, (int)t->len, NULL);
    int eq = v != NULL && BN_cmp(v, bn) == 0;

    BN_free(v);
    return eq;
}

/* 6.3: the card knows a curve by its prime; compare p, a and the order like OpenSC does. */
static const char *curve_by_params(const pico_tlv *p, const pico_tlv *a, const pico_tlv *order,
                                   int *degree)
{
    const char *found = NULL;
    BIGNUM *bp = BN_new(), *ba = BN_new(), *bb = BN_new(), *bo = NULL;
    size_t i;

    if (bp == NULL || ba == NULL || bb == NULL)
        goto end;
    for (i = 0; pico_cvc_curves[i] != NULL && found == NULL; i++) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(pico_cvc_curves[i]));
        if (g == NULL)
            continue;
        if (EC_GROUP_get_curve(g, bp, ba, bb, NULL) && bn_equals(bp, p) &&
            (a == NULL || a->len == 0 || bn_equals(ba, a)) &&
            (order == NULL || (bo = (BIGNUM *)EC_GROUP_get0_order(g)) == NULL ||
             bn_equals(bo, order))) {
            found = pico_cvc_curves[i];
            *degree = EC_GROUP_get_degree(g);
        }
        EC_GROUP_free(g);
    }
end:
    BN_free(bp);
    BN_free(ba);
    BN_free(bb);
    return found;
}

static pthread_mutex_t libctx_lock = PTHREAD_MUTEX_INITIALIZER;
static OSSL_LIB_CTX *own_libctx;
static OSSL_PROVIDER *own_default;

OSSL_LIB_CTX *pico_cvc_libctx(const char **propq)
{
    OSSL_LIB_CTX *libctx;

    *propq = "provider=default";
    pthread_mutex_lock(&libctx_lock);
    if (own_libctx == NULL && (own_libctx = OSSL_LIB_CTX_new()) != NULL &&
        (own_default = OSSL_PROVIDER_load(own_libctx, "default")) == NULL) {
        OSSL_LIB_CTX_free(own_libctx);
        own_libctx = NULL;
    }
    libctx = own_libctx;
    pthread_mutex_unlock(&libctx_lock);
    return libctx;
}

void pico_cvc_libctx_free(void)
{
    pthread_mutex_lock(&libctx_lock);
    OSSL_PROVIDER_unload(own_default);
    OSSL_LIB_CTX_free(own_libctx);
    own_default = NULL;
    own_libctx = NULL;
    pthread_mutex_unlock(&libctx_lock);
}

/* 6.2: 81 p, 82 a, 83 b, 84 G, 85 order, 86 Q (04 || x || y); the curve by its parameters. */
static pico_err pub_ec(const pico_tlv *f, int have, OSSL_PARAM_BLD *bld, char *curve, size_t cap,
                       int *bits)
{
    const char *name;
    const pico_tlv *q = &f[6];

    if (!(have & (1 << 1)) || !(have & (1 << 6)) || q->len < 3 || q->val[0] != 0x04)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: incomplete EC public key");
    name = curve_by_params(&f[1], (have & (1 << 2)) ? &f[2] : NULL,
                           (have & (1 << 5)) ? &f[5] : NULL, bits);
    if (name == NULL)
        return pico_err_raise(PICO_E_UNSUPPORTED, "cv object: EC curve not recognised");
    if (curve != NULL)
        snprintf(curve, cap, "%s", name);
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q->val, q->len))
        return pico_err_raise(PICO_E_NOMEM, "public key");
    return PICO_OK;
}

/* RSA: 81 n, 82 e. The builder keeps pointers to *bn_n and *bn_e: the caller frees them once
 * the parameters are made. */
static pico_err pub_rsa(const pico_tlv *f, int have, OSSL_PARAM_BLD *bld, BIGNUM **bn_n,
                        BIGNUM **bn_e, int *bits)
{
    if (!(have & (1 << 1)) || !(have & (1 << 2)))
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: incomplete RSA public key");
    *bn_n = BN_bin2bn(f[1].val, (int)f[1].len, NULL);
    *bn_e = BN_bin2bn(f[2].val, (int)f[2].len, NULL);
    if (*bn_n == NULL || *bn_e == NULL)
        return pico_err_raise(PICO_E_NOMEM, "public key");
    /* OpenSSL takes any n and e here, even 0: a key of 0 bits whose sizes every caller
     * would trust. No RSA key is shorter than 512 bits or has an even n or e. */
    if (BN_num_bits(*bn_n) < 512 || !BN_is_odd(*bn_n) || !BN_is_odd(*bn_e) || BN_is_one(*bn_e))
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: not an RSA public key (%d bits)",
                              BN_num_bits(*bn_n));
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *bn_e))
        return pico_err_raise(PICO_E_NOMEM, "public key");
    *bits = BN_num_bits(*bn_n);
    return PICO_OK;
}

/*
 * id-RI-ECDH-SHA-256 (6.2, libcvc's template for Montgomery and Edwards keys): 81 p, 82 order,
 * 83 G, 84 the raw public key. The prime tells the curve, G X from Ed (keytype.h).
 */
static pico_err pub_raw(const pico_tlv *f, int have, EVP_PKEY **pub, int *bits)
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    const pico_key_type_info *t;

    if (!(have & (1 << 1)) || !(have & (1 << 3)) || !(have & (1 << 4)))
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: incomplete ECDH public key");
    t = pico_key_type_by_curve(f[1].val, f[1].len, f[3].val, f[3].len);
    if (t == NULL)
        return pico_err_raise(PICO_E_UNSUPPORTED, "cv object: ECDH curve not recognised");
    if (f[4].len != t->raw_len)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: %s public key of %zu bytes", t->name,
                              f[4].len);
    *pub = EVP_PKEY_new_raw_public_key_ex(libctx, t->name, propq, f[4].val, f[4].len);
    if (*pub == NULL)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: %s key rejected by OpenSSL",
                              t->name);
    *bits = t->bits;
    return PICO_OK;
}

/* The table's template shape for the 7F49 OID: by its first 9 bytes (the algorithm; the last
 * is the hash). Any other OID (the RSA-PSS ones among them) reads as RSA, as it always has. */
static pico_cvc_shape shape_of_oid(const pico_tlv *oid)
{
    const pico_key_type_info *t;

    for (t = pico_key_types; oid != NULL && t->type != 0; t++)
        if (oid->len == t->answer_oid_len && memcmp(oid->val, t->answer_oid, 9) == 0)
            return t->shape;
    return PICO_CVC_RSA;
}

pico_err pico_cvc_public_key(const uint8_t *cv, size_t len, EVP_PKEY **pub, char *curve, size_t cap,
                             int *bits)
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    const uint8_t *body, *p;
    size_t blen, n;
    pico_tlv key, t, f[8] = {{0}}, oid = {0};
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    pico_cvc_shape shape;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    int have = 0;
    pico_err err;

    *pub = NULL;
    if (curve != NULL && cap > 0)
        curve[0] = '\0';
    if ((err = cvc_body(cv, len, &body, &blen)) != PICO_OK)
        return err;
    if (pico_tlv_find(body, blen, 0x7F49, &key) != 1)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: no public key (7F49)");
    p = key.val;
    n = key.len;
    while (pico_tlv_next(&p, &n, &t) == 1) {
        if (t.tag == 0x06)
            oid = t;
        else if (t.tag >= 0x81 && t.tag <= 0x87)
            f[t.tag - 0x80] = t, have |= 1 << (t.tag - 0x80);
    }
    shape = shape_of_oid(oid.tag == 0x06 ? &oid : NULL);
    if (shape == PICO_CVC_RAW)
        return pub_raw(f, have, pub, bits);
    if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "public key");
        goto end;
    }
    err = shape == PICO_CVC_EC ? pub_ec(f, have, bld, curve, cap, bits)
                               : pub_rsa(f, have, bld, &bn_n, &bn_e, bits);
    if (err != PICO_OK)
        goto end;
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(libctx, shape == PICO_CVC_EC ? "EC" : "RSA", propq)) ==
            NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, pub, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        err = pico_err_raise(PICO_E_BAD_RESPONSE, "cv object: public key rejected by OpenSSL");
        goto end;
    }
    err = PICO_OK;
end:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return err;
}

/* Appends tag + value to a growing buffer. */
static int add(uint8_t *buf, size_t *pos, size_t cap, unsigned tag, const uint8_t *v, size_t l)
{
    size_t h = pico_tlv_header(NULL, tag, l);

    if (*pos + h + l > cap)
        return 0;
    pico_tlv_header(buf + *pos, tag, l);
    memcpy(buf + *pos + h, v, l);
    *pos += h + l;
    return 1;
}

static int add_bn(uint8_t *buf, size_t *pos, size_t cap, unsigned tag, const BIGNUM *bn,
                  size_t width)
{
    uint8_t tmp[520];

    if (width > sizeof(tmp) || BN_bn2binpad(bn, tmp, (int)width) < 0)
        return 0;
    return add(buf, pos, cap, tag, tmp, width);
}

/*
 * The EC part of a 7F49 template (6.2, 5.2): id-TA-ECDSA-SHA-256, the domain
 * parameters 81 p, 82 a, 83 b, 84 G, 85 n, then 86 Q when Q is given, and 87
 * the cofactor. The firmware picks the curve by its prime.
 */
static int add_ec_template(uint8_t *key, size_t *nkey, size_t cap, const EC_GROUP *g,
                           const uint8_t *Q, size_t qlen)
{
    static const uint8_t cof[1] = {1};
    BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new();
    uint8_t G[1 + 2 * 66];
    size_t w = 0;
    int ok;

    ok = p != NULL && a != NULL && b != NULL && EC_GROUP_get_curve(g, p, a, b, NULL);
    if (ok)
        w = (size_t)BN_num_bytes(p);
    ok = ok &&
         EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED, G,
                            sizeof(G), NULL) == 1 + 2 * w &&
         add(key, nkey, cap, 0x06, oid_ta_ecdsa_sha256, sizeof(oid_ta_ecdsa_sha256)) &&
         add_bn(key, nkey, cap, 0x81, p, w) && add_bn(key, nkey, cap, 0x82, a, w) &&
         add_bn(key, nkey, cap, 0x83, b, w) && add(key, nkey, cap, 0x84, G, 1 + 2 * w) &&
         add_bn(key, nkey, cap, 0x85, EC_GROUP_get0_order(g),
                (size_t)BN_num_bytes(EC_GROUP_get0_order(g))) &&
         (Q == NULL || add(key, nkey, cap, 0x86, Q, qlen)) && add(key, nkey, cap, 0x87, cof, 1);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    return ok;
}

/* 6.2: only e = 65537 is usable; 02 = modulus size in bits */
static pico_err req_rsa(const pico_key_type_info *t, int bits, uint8_t *key, size_t cap,
                        size_t *nkey)
{
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    const uint8_t size[2] = {(uint8_t)(bits >> 8), (uint8_t)bits};

    if (bits < 1024 || bits > 4096 || bits % 8 != 0)
        return pico_err_raise(PICO_E_UNSUPPORTED,
                              "RSA key size %d: the device makes 1024 to 4096 bits", bits);
    if (!add(key, nkey, cap, 0x06, t->oid, t->oid_len) ||
        !add(key, nkey, cap, 0x82, e, sizeof(e)) || !add(key, nkey, cap, 0x02, size, sizeof(size)))
        return pico_err_raise(PICO_E_INTERNAL, "key generation request");
    return PICO_OK;
}

/* 6.2, 6.3: the device picks the curve from the prime; the other parameters as OpenSC sends
 * them */
static pico_err req_ec(const char *curve, uint8_t *key, size_t cap, size_t *nkey)
{
    EC_GROUP *g = NULL;
    int i, known = 0;
    pico_err err = PICO_OK;

    for (i = 0; curve != NULL && pico_cvc_curves[i] != NULL; i++)
        known |= strcmp(pico_cvc_curves[i], curve) == 0;
    if (!known || (g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(curve))) == NULL)
        return pico_err_raise(PICO_E_UNSUPPORTED, "curve %s is not supported by the device",
                              curve != NULL ? curve : "(none)");
    if (!add_ec_template(key, nkey, cap, g, NULL, 0))
        err = pico_err_raise(PICO_E_INTERNAL, "key generation request");
    EC_GROUP_free(g);
    return err;
}

/* curve25519/448 keys (cmd_keypair_gen.c): 81 the curve's prime, 83 the base point that
 * tells the Montgomery from the Edwards key. */
static pico_err req_raw(const pico_key_type_info *t, uint8_t *key, size_t cap, size_t *nkey)
{
    if (!add(key, nkey, cap, 0x06, t->oid, t->oid_len) ||
        !add(key, nkey, cap, 0x81, t->prime, t->prime_len) ||
        !add(key, nkey, cap, 0x83, t->base, t->base_len))
        return pico_err_raise(PICO_E_INTERNAL, "key generation request");
    return PICO_OK;
}

pico_err pico_cvc_keygen_request(pico_key_type type, int bits, const char *curve, uint8_t **out,
                                 size_t *out_len)
{
    return pico_cvc_keygen_request_policy(type, bits, curve, NULL, out, out_len);
}

pico_err pico_cvc_keygen_request_policy(pico_key_type type, int bits, const char *curve,
                                        const pico_key_policy *policy, uint8_t **out,
                                        size_t *out_len)
{
    static const uint8_t profile[] = {0x00};
    const pico_key_type_info *t = pico_key_type_info_of(type);
    uint8_t key[600], *req = NULL;
    size_t nkey = 0, nreq = 0, cap;
    pico_err err;

    *out = NULL;
    if (t == NULL)
        return pico_err_raise(PICO_E_UNSUPPORTED, "key type %d", (int)type);
    if (t->shape == PICO_CVC_RSA)
        err = req_rsa(t, bits, key, sizeof(key), &nkey);
    else if (t->shape == PICO_CVC_EC)
        err = req_ec(curve, key, sizeof(key), &nkey);
    else
        err = req_raw(t, key, sizeof(key), &nkey);
    if (err != PICO_OK)
        return err;
    cap = nkey + 32 + 8 + PICO_POLICY_MAX_ALGS;
    if ((req = malloc(cap)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "key generation request");
    /* 6.2: the policy tags 90/91/92 after the template (the firmware finds them by tag) */
    if (!add(req, &nreq, cap, 0x5F29, profile, 1) || !add(req, &nreq, cap, 0x7F49, key, nkey) ||
        (policy != NULL && !pico_key_policy_encode(policy, req, cap, &nreq))) {
        free(req);
        return pico_err_raise(PICO_E_INTERNAL, "key generation request");
    }
    *out = req;
    *out_len = nreq;
    return PICO_OK;
}

/* 7F49 of a PKA request (5.2): the OID, the key, and for EC every domain parameter
 * (the firmware takes the curve from the prime of the request whose CAR = CHR). */
static pico_err pka_key_template(EVP_PKEY *pub, uint8_t *key, size_t cap, size_t *nkey)
{
    BIGNUM *n = NULL, *e = NULL;
    EC_GROUP *g = NULL;
    EC_POINT *pt = NULL;
    uint8_t Q[1 + 2 * 66], raw[1 + 2 * 66];
    char group[64];
    size_t qlen = 0, rawlen = 0;
    pico_err err = PICO_OK;

    *nkey = 0;
    if (EVP_PKEY_is_a(pub, "RSA")) {
        if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) ||
            !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) ||
            !add(key, nkey, cap, 0x06, oid_ta_rsa_sha256, sizeof(oid_ta_rsa_sha256)) ||
            !add_bn(key, nkey, cap, 0x81, n, (size_t)BN_num_bytes(n)) ||
            !add_bn(key, nkey, cap, 0x82, e, (size_t)BN_num_bytes(e)))
            err = pico_err_raise(PICO_E_ARGS, "pka key: rsa modulus of at most 4096 bits");
        goto end;
    }
    if (!EVP_PKEY_is_a(pub, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        NULL) ||
        (g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(group))) == NULL) {
        err = pico_err_raise(PICO_E_UNSUPPORTED, "pka key: an ec key on a named curve, or rsa");
        goto end;
    }
    /* Q uncompressed (86), whatever encoding the key carries */
    if ((pt = EC_POINT_new(g)) == NULL ||
        !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw), &rawlen) ||
        !EC_POINT_oct2point(g, pt, raw, rawlen, NULL) ||
        (qlen = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, Q, sizeof(Q), NULL)) ==
            0) {
        err = pico_err_raise(PICO_E_ARGS, "pka key: no usable public point");
        goto end;
    }
    /* 5.2: the full domain parameters, so that the firmware finds the curve */
    if (!add_ec_template(key, nkey, cap, g, Q, qlen))
        err = pico_err_raise(PICO_E_INTERNAL, "pka key template");
end:
    BN_free(n);
    BN_free(e);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return err;
}

pico_err pico_cvc_pka_request(EVP_PKEY *pub, const char *chr, pico_cvc_sign_fn sign, void *arg,
                              uint8_t **out, size_t *out_len)
{
    static const uint8_t profile[] = {0x00};
    enum { CAP = 2048 };
    uint8_t *key = NULL, *body = NULL, *b7f4e = NULL, *inner = NULL, *outer = NULL, *req = NULL;
    uint8_t sig[1024];
    size_t nkey, nbody = 0, n7f4e = 0, ninner = 0, nouter = 0, nreq = 0, siglen, chr_len;
    pico_err err;

    *out = NULL;
    chr_len = chr != NULL ? strlen(chr) : 0;
    if (chr_len == 0 || chr_len > 64)
        return pico_err_raise(PICO_E_ARGS, "pka request: a chr of 1 to 64 characters");
    if ((key = malloc(CAP)) == NULL || (body = malloc(CAP)) == NULL ||
        (b7f4e = malloc(CAP)) == NULL || (inner = malloc(CAP)) == NULL ||
        (outer = malloc(CAP)) == NULL || (req = malloc(CAP)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "pka request");
        goto end;
    }
    if ((err = pka_key_template(pub, key, CAP, &nkey)) != PICO_OK)
        goto end;
    /* 7F4E { 5F29 profile, 42 CAR = CHR, 7F49 key, 5F20 CHR } */
    if (!add(body, &nbody, CAP, 0x5F29, profile, 1) ||
        !add(body, &nbody, CAP, 0x42, (const uint8_t *)chr, chr_len) ||
        !add(body, &nbody, CAP, 0x7F49, key, nkey) ||
        !add(body, &nbody, CAP, 0x5F20, (const uint8_t *)chr, chr_len) ||
        !add(b7f4e, &n7f4e, CAP, 0x7F4E, body, nbody)) {
        err = pico_err_raise(PICO_E_INTERNAL, "pka request body");
        goto end;
    }
    /* inner signature over the encoded 7F4E, by the key itself (never checked by Pico,
     * checked by a genuine SC-HSM flow) */
    siglen = sizeof(sig);
    if ((err = sign(arg, b7f4e, n7f4e, sig, &siglen)) != PICO_OK)
        goto end;
    memcpy(inner, b7f4e, n7f4e);
    ninner = n7f4e;
    if (!add(inner, &ninner, CAP, 0x5F37, sig, siglen) ||
        !add(outer, &nouter, CAP, 0x7F21, inner, ninner) ||
        !add(outer, &nouter, CAP, 0x42, (const uint8_t *)chr, chr_len)) {
        err = pico_err_raise(PICO_E_INTERNAL, "pka request");
        goto end;
    }
    /* outer (authentication) signature over 7F21 || 42 */
    siglen = sizeof(sig);
    if ((err = sign(arg, outer, nouter, sig, &siglen)) != PICO_OK)
        goto end;
    if (!add(outer, &nouter, CAP, 0x5F37, sig, siglen) ||
        !add(req, &nreq, CAP, 0x67, outer, nouter)) {
        err = pico_err_raise(PICO_E_INTERNAL, "pka request");
        goto end;
    }
    *out = req;
    *out_len = nreq;
    req = NULL;
end:
    free(key);
    free(body);
    free(b7f4e);
    free(inner);
    free(outer);
    free(req);
    return err;
}
