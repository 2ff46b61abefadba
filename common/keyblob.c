/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK key blob on the host (keyblob.h): built for key import, opened in tests and to
 * check a file before it goes to a device. The layout is the firmware's kek.c; the virtual
 * device has its own code for it (sim/crypto_wrap.c), so that one mistake cannot hide on
 * both sides of the wire.
 */
#include "keyblob.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "tlv.h"

static const uint8_t oid_rsa[12] = {0x00, 0x0A, 0x04, 0x00, 0x7F, 0x00,
                                    0x07, 0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t oid_ec[12] = {0x00, 0x0A, 0x04, 0x00, 0x7F, 0x00,
                                   0x07, 0x02, 0x02, 0x02, 0x02, 0x03};

/* A growing buffer; ok drops to 0 on the first failure. */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int ok;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (!b->ok)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        uint8_t *q = OPENSSL_secure_zalloc(cap);
        if (q == NULL) {
            b->ok = 0;
            return;
        }
        if (b->n > 0)
            memcpy(q, b->p, b->n);
        OPENSSL_secure_clear_free(b->p, b->cap);
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put16(buf *b, size_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    if (v > 0xFFFF)
        b->ok = 0;
    put(b, x, 2);
}

static void put_field(buf *b, const uint8_t *p, size_t n)
{
    put16(b, n);
    put(b, p, n);
}

/* As mbedtls_mpi_size / _write_binary: no leading zeros, zero is empty. */
static void put_bn(buf *b, const BIGNUM *bn)
{
    uint8_t tmp[1024];
    int n = bn != NULL ? BN_num_bytes(bn) : -1;

    if (n < 0 || (size_t)n > sizeof(tmp) || (n > 0 && BN_bn2bin(bn, tmp) != n)) {
        b->ok = 0;
        return;
    }
    put_field(b, tmp, (size_t)n);
    OPENSSL_cleanse(tmp, (size_t)n);
}

static void buf_free(buf *b)
{
    OPENSSL_secure_clear_free(b->p, b->cap);
    memset(b, 0, sizeof(*b));
}

/* ----------------------------------------------------------- DKEK keys */

/* SHA-256(DKEK) (counter 0) or SHA-256(DKEK || 00 00 00 counter). */
static pico_err dkek_hash(const uint8_t dkek[32], int counter, uint8_t out[32])
{
    uint8_t in[36];
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EVP_MD *md = EVP_MD_fetch(libctx, "SHA256", propq);
    unsigned n = 0;
    pico_err err = PICO_OK;

    memcpy(in, dkek, 32);
    in[32] = in[33] = in[34] = 0;
    in[35] = (uint8_t)counter;
    if (md == NULL || !EVP_Digest(in, counter ? 36 : 32, out, &n, md, NULL) || n != 32)
        err = pico_err_raise(PICO_E_INTERNAL, "sha-256");
    OPENSSL_cleanse(in, sizeof(in));
    EVP_MD_free(md);
    return err;
}

pico_err pico_keyblob_kcv(const uint8_t dkek[32], uint8_t kcv[8])
{
    uint8_t h[32];
    pico_err err = dkek_hash(dkek, 0, h);

    if (err == PICO_OK)
        memcpy(kcv, h, 8);
    return err;
}

static pico_err cmac(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t mac[16])
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EVP_MAC *m = EVP_MAC_fetch(libctx, "CMAC", propq);
    EVP_MAC_CTX *ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM p[2];
    size_t n = 0;
    pico_err err = PICO_OK;

    p[0] = OSSL_PARAM_construct_utf8_string("cipher", (char *)"AES-256-CBC", 0);
    p[1] = OSSL_PARAM_construct_end();
    if (ctx == NULL || !EVP_MAC_init(ctx, key, 32, p) || !EVP_MAC_update(ctx, in, len) ||
        !EVP_MAC_final(ctx, mac, &n, 16) || n != 16)
        err = pico_err_raise(PICO_E_INTERNAL, "aes-cmac");
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return err;
}

/* AES-256-CBC with a zero IV and no padding, in place. */
static pico_err cbc(const uint8_t key[32], uint8_t *p, size_t len, int enc)
{
    static const uint8_t iv[16];
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EVP_CIPHER *c = EVP_CIPHER_fetch(libctx, "AES-256-CBC", propq);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    pico_err err = PICO_OK;

    if (c == NULL || ctx == NULL || len % 16 != 0 || len > INT_MAX ||
        !EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) || !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
        !EVP_CipherUpdate(ctx, p, &n, p, (int)len) || !EVP_CipherFinal_ex(ctx, p + n, &f) ||
        (size_t)(n + f) != len)
        err = pico_err_raise(PICO_E_INTERNAL, "aes-256-cbc");
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return err;
}

/* ------------------------------------------------------------ the key */

/* The firmware curve of an EC key (pico_cvc_curves), NULL when it has none. */
static const char *key_curve(EVP_PKEY *key)
{
    char name[64];
    size_t i;

    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL))
        return NULL;
    for (i = 0; pico_cvc_curves[i] != NULL; i++)
        if (strcmp(pico_cvc_curves[i], name) == 0 ||
            OBJ_sn2nid(pico_cvc_curves[i]) == EC_curve_nist2nid(name))
            return pico_cvc_curves[i];
    return NULL;
}

pico_err pico_keyblob_check_key(EVP_PKEY *key)
{
    BIGNUM *e = NULL;
    pico_err err = PICO_OK;
    int bits;

    if (key == NULL)
        return pico_err_raise(PICO_E_ARGS, "no key");
    if (EVP_PKEY_is_a(key, "RSA")) {
        bits = EVP_PKEY_get_bits(key);
        if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
            err = pico_err_raise(PICO_E_ARGS, "rsa key without a public exponent");
        else if (!BN_is_word(e, 65537))
            /* 6.2: the device keeps p and q and loads the key with e = 65537 */
            err = pico_err_raise(PICO_E_UNSUPPORTED,
                                 "rsa public exponent is not 65537: the device keeps only p and "
                                 "q and would use the key with e = 65537, another key");
        else if (bits < 1024 || bits > 4096)
            err = pico_err_raise(PICO_E_UNSUPPORTED, "rsa-%d: the device takes 1024 to 4096 bits",
                                 bits);
    } else if (EVP_PKEY_is_a(key, "EC")) {
        if (key_curve(key) == NULL)
            err = pico_err_raise(PICO_E_UNSUPPORTED, "the device has no such ec curve");
    } else {
        err = pico_err_raise(PICO_E_UNSUPPORTED, "%s keys cannot be imported (rsa and ec only)",
                             EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "such");
    }
    BN_free(e);
    return err;
}

static pico_err rsa_parts(EVP_PKEY *key, buf *kb)
{
    BIGNUM *n = NULL, *e = NULL, *d = NULL;
    pico_err err = PICO_OK;

    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_D, &d)) {
        err = pico_err_raise(PICO_E_ARGS, "not an rsa private key");
        goto end;
    }
    put16(kb, (size_t)BN_num_bytes(n) * 8); /* mbedtls_rsa_get_len * 8 */
    put_bn(kb, d);
    put_bn(kb, n);
    put_bn(kb, e);
end:
    BN_clear_free(d);
    BN_free(n);
    BN_free(e);
    return err;
}

static pico_err ec_parts(EVP_PKEY *key, buf *kb)
{
    const char *propq, *curve = key_curve(key);
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EC_GROUP *g = curve ? EC_GROUP_new_by_curve_name_ex(libctx, propq, OBJ_sn2nid(curve)) : NULL;
    EC_POINT *q = g != NULL ? EC_POINT_new(g) : NULL;
    BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *d = NULL;
    uint8_t pt[1 + 2 * 66], gpt[1 + 2 * 66];
    size_t ptlen = 0, glen;
    pico_err err = PICO_OK;

    if (q == NULL || p == NULL || a == NULL || b == NULL || !EC_GROUP_get_curve(g, p, a, b, NULL) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen) ||
        !EC_POINT_oct2point(g, q, pt, ptlen, NULL) ||
        (ptlen = EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), NULL)) ==
            0 ||
        (glen = EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED,
                                   gpt, sizeof(gpt), NULL)) == 0 ||
        !BN_add_word(a, 3)) {
        err = pico_err_raise(PICO_E_ARGS, "not an ec private key on a device curve");
        goto end;
    }
    /* mbedtls keeps no A for the a = -3 curves: the device writes it empty */
    if (BN_cmp(a, p) == 0)
        BN_zero(a);
    else
        BN_sub_word(a, 3);
    put16(kb, (size_t)BN_num_bytes(p) * 8);
    put_bn(kb, a);
    put_bn(kb, b);
    put_bn(kb, p);
    put_bn(kb, EC_GROUP_get0_order(g));
    put_field(kb, gpt, glen);
    put_bn(kb, d);
    put_field(kb, pt, ptlen);
end:
    EC_POINT_free(q);
    EC_GROUP_free(g);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    BN_clear_free(d);
    return err;
}

pico_err pico_keyblob_build(const uint8_t dkek[32], EVP_PKEY *key, const uint8_t *algs,
                            size_t algs_len, uint8_t **blob, size_t *len)
{
    static const uint8_t zeros[16];
    uint8_t kenc[32], kmac[32], kcv[8], mac[16], rnd[8], type;
    buf kb = {NULL, 0, 0, 1}, out = {NULL, 0, 0, 1};
    pico_err err;

    *blob = NULL;
    *len = 0;
    if ((err = pico_keyblob_check_key(key)) != PICO_OK)
        return err;
    type = EVP_PKEY_is_a(key, "RSA") ? PICO_KEYBLOB_RSA : PICO_KEYBLOB_EC;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        err = pico_err_raise(PICO_E_INTERNAL, "random bytes");
        goto end;
    }
    put(&kb, rnd, sizeof(rnd));
    if ((err = type == PICO_KEYBLOB_RSA ? rsa_parts(key, &kb) : ec_parts(key, &kb)) != PICO_OK)
        goto end;
    if (kb.n % 16 != 0) /* 80 00..; nothing when the parts fill whole blocks */
        put(&kb, "\x80", 1);
    put(&kb, zeros, (16 - kb.n % 16) % 16);
    if (!kb.ok) {
        err = pico_err_raise(PICO_E_NOMEM, "key blob");
        goto end;
    }
    if ((err = pico_keyblob_kcv(dkek, kcv)) != PICO_OK || (err = dkek_hash(dkek, 1, kenc)) ||
        (err = dkek_hash(dkek, 2, kmac)) || (err = cbc(kenc, kb.p, kb.n, 1)) != PICO_OK)
        goto end;
    put(&out, kcv, 8);
    put(&out, &type, 1);
    put(&out, type == PICO_KEYBLOB_RSA ? oid_rsa : oid_ec, sizeof(oid_rsa));
    put_field(&out, algs, algs != NULL ? algs_len : 0);
    put(&out, zeros, 4); /* access conditions, key OID: empty */
    put(&out, kb.p, kb.n);
    if (!out.ok) {
        err = pico_err_raise(PICO_E_NOMEM, "key blob");
        goto end;
    }
    if ((err = cmac(kmac, out.p, out.n, mac)) != PICO_OK)
        goto end;
    put(&out, mac, 16);
    if (!out.ok || (*blob = malloc(out.n)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key blob");
        goto end;
    }
    memcpy(*blob, out.p, out.n);
    *len = out.n;
end:
    OPENSSL_cleanse(kenc, sizeof(kenc));
    OPENSSL_cleanse(kmac, sizeof(kmac));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    buf_free(&kb);
    buf_free(&out);
    return err;
}

/* ------------------------------------------------------------ parsing */

typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd;

static int get_field(rd *r, const uint8_t **v, size_t *n)
{
    if (r->left < 2)
        return -1;
    *n = (size_t)r->p[0] << 8 | r->p[1];
    if (r->left - 2 < *n)
        return -1;
    *v = r->p + 2;
    r->p += 2 + *n;
    r->left -= 2 + *n;
    return 0;
}

/* The header up to the encrypted part, which *enc then holds. */
static pico_err header(const uint8_t *blob, size_t len, pico_keyblob_info *info, rd *enc)
{
    const uint8_t *v;
    size_t n;
    rd r;

    memset(info, 0, sizeof(*info));
    if (blob == NULL || len < 9 + 8 + 16)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "key blob: too short");
    memcpy(info->kcv, blob, 8);
    info->type = blob[8];
    r.p = blob + 9;
    r.left = len - 9 - 16;
    if (get_field(&r, &v, &n) != 0 || get_field(&r, &info->algs, &info->algs_len) != 0 ||
        get_field(&r, &v, &n) != 0 || get_field(&r, &v, &n) != 0 || r.left == 0 || r.left % 16 != 0)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "key blob: malformed");
    *enc = r;
    return PICO_OK;
}

pico_err pico_keyblob_info_get(const uint8_t *blob, size_t len, pico_keyblob_info *info)
{
    rd enc;

    return header(blob, len, info, &enc);
}

static BIGNUM *get_bn(rd *r)
{
    const uint8_t *v;
    size_t n;

    return get_field(r, &v, &n) == 0 ? BN_bin2bn(v, (int)n, NULL) : NULL;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, type, propq);
    EVP_PKEY *pk = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

/* d, n, e (type 5) or, after the size, a, b, p, order, G, d, Q (type 12). */
static EVP_PKEY *open_key(uint8_t type, rd *r)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = NULL, *n = NULL, *e = NULL;
    const uint8_t *v, *pv, *q = NULL;
    size_t vl, pl, ql = 0, i;
    const char *curve = NULL;
    EVP_PKEY *pk = NULL;

    if (bld == NULL)
        goto end;
    if (type == PICO_KEYBLOB_RSA) {
        if ((d = get_bn(r)) == NULL || (n = get_bn(r)) == NULL || (e = get_bn(r)) == NULL ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d))
            goto end;
        pk = from_params("RSA", bld);
        goto end;
    }
    if (type != PICO_KEYBLOB_EC || get_field(r, &v, &vl) || get_field(r, &v, &vl) ||
        get_field(r, &pv, &pl) || get_field(r, &v, &vl) || get_field(r, &v, &vl) ||
        (d = get_bn(r)) == NULL || get_field(r, &q, &ql))
        goto end;
    /* 6.3: the prime alone, at its exact length, names the curve */
    if ((n = BN_bin2bn(pv, (int)pl, NULL)) == NULL)
        goto end;
    for (i = 0; pico_cvc_curves[i] != NULL && curve == NULL; i++) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(pico_cvc_curves[i]));
        BIGNUM *p = BN_new();
        if (g != NULL && p != NULL && EC_GROUP_get_curve(g, p, NULL, NULL, NULL) &&
            (size_t)BN_num_bytes(p) == pl && BN_cmp(p, n) == 0)
            curve = pico_cvc_curves[i];
        BN_free(p);
        EC_GROUP_free(g);
    }
    if (curve != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, ql))
        pk = from_params("EC", bld);
end:
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    BN_free(n);
    BN_free(e);
    return pk;
}

pico_err pico_keyblob_open(const uint8_t dkek[32], const uint8_t *blob, size_t len, EVP_PKEY **key)
{
    uint8_t kcv[8], kenc[32], kmac[32], mac[16], *plain = NULL;
    pico_keyblob_info info;
    rd enc, r;
    pico_err err;

    *key = NULL;
    if ((err = header(blob, len, &info, &enc)) != PICO_OK ||
        (err = pico_keyblob_kcv(dkek, kcv)) != PICO_OK)
        return err;
    if (memcmp(kcv, info.kcv, 8) != 0)
        return pico_err_raise(PICO_E_ARGS, "key blob made under another dkek (kcv differs)");
    if ((err = dkek_hash(dkek, 2, kmac)) != PICO_OK || (err = cmac(kmac, blob, len - 16, mac)))
        goto end;
    if (CRYPTO_memcmp(mac, blob + len - 16, 16) != 0) {
        err = pico_err_raise(PICO_E_ARGS, "key blob: wrong mac (changed or damaged)");
        goto end;
    }
    if ((plain = OPENSSL_secure_malloc(enc.left)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key blob");
        goto end;
    }
    memcpy(plain, enc.p, enc.left);
    if ((err = dkek_hash(dkek, 1, kenc)) != PICO_OK ||
        (err = cbc(kenc, plain, enc.left, 0)) != PICO_OK)
        goto end;
    r.p = plain + 10; /* 8 random bytes, the key size */
    r.left = enc.left - 10;
    if ((*key = open_key(info.type, &r)) == NULL)
        err = pico_err_raise(PICO_E_BAD_RESPONSE, "key blob: no key of type %02x in it", info.type);
end:
    OPENSSL_cleanse(kenc, sizeof(kenc));
    OPENSSL_cleanse(kmac, sizeof(kmac));
    OPENSSL_secure_clear_free(plain, enc.left);
    return err;
}

/* --------------------------------------------------- sc-hsm-tool's files */

pico_err pico_wrapfile_encode(const uint8_t *blob, size_t blob_len, const uint8_t *prkd,
                              size_t prkd_len, const uint8_t *cert, size_t cert_len, uint8_t **out,
                              size_t *out_len)
{
    size_t inner, hl, bl, n;
    uint8_t *o;

    *out = NULL;
    *out_len = 0;
    if (cert == NULL)
        cert_len = 0;
    bl = pico_tlv_header(NULL, 0x04, blob_len);
    inner = bl + blob_len + prkd_len + cert_len;
    hl = pico_tlv_header(NULL, 0x30, inner);
    if ((o = malloc(hl + inner)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "wrapped key file");
    n = pico_tlv_header(o, 0x30, inner);
    n += pico_tlv_header(o + n, 0x04, blob_len);
    memcpy(o + n, blob, blob_len);
    n += blob_len;
    memcpy(o + n, prkd, prkd_len);
    n += prkd_len;
    if (cert_len > 0)
        memcpy(o + n, cert, cert_len);
    n += cert_len;
    *out = o;
    *out_len = n;
    return PICO_OK;
}

pico_err pico_wrapfile_decode(const uint8_t *in, size_t len, const uint8_t **blob, size_t *blob_len,
                              const uint8_t **prkd, size_t *prkd_len, const uint8_t **cert,
                              size_t *cert_len)
{
    const uint8_t *p = in, *start;
    size_t left = len;
    pico_tlv t;

    *cert = NULL;
    *cert_len = 0;
    if (pico_tlv_next(&p, &left, &t) != 1 || t.tag != 0x30)
        return pico_err_raise(PICO_E_FILE, "not a wrapped key file (no sequence)");
    p = t.val;
    left = t.len;
    if (pico_tlv_next(&p, &left, &t) != 1 || t.tag != 0x04 || t.len == 0)
        return pico_err_raise(PICO_E_FILE, "wrapped key file: no key blob");
    *blob = t.val;
    *blob_len = t.len;
    start = p;
    if (pico_tlv_next(&p, &left, &t) != 1 || (t.tag != 0x30 && t.tag != 0xA0))
        return pico_err_raise(PICO_E_FILE, "wrapped key file: no private key description");
    *prkd = start;
    *prkd_len = (size_t)(p - start);
    if (left > 0) {
        start = p;
        if (pico_tlv_next(&p, &left, &t) != 1)
            return pico_err_raise(PICO_E_FILE, "wrapped key file: damaged certificate");
        *cert = start;
        *cert_len = (size_t)(p - start);
    }
    return PICO_OK;
}
