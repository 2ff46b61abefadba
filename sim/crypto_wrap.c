/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK key blob (crypto_wrap.h): the firmware's kek.c byte for byte, with the bounds
 * checks the firmware lacks (a blob it would read past its end is refused here).
 */
#include "crypto_wrap.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <string.h>

#include "crypto_int.h"

static const uint8_t oid_rsa[12] = {0x00, 0x0A, 0x04, 0x00, 0x7F, 0x00,
                                    0x07, 0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t oid_ec[12] = {0x00, 0x0A, 0x04, 0x00, 0x7F, 0x00,
                                   0x07, 0x02, 0x02, 0x02, 0x02, 0x03};

/* ------------------------------------------------------------- DKEK keys */

static int dkek_hash(const uint8_t dkek[32], int counter, uint8_t out[32])
{
    uint8_t buf[36];
    unsigned n = 0;
    int ok;

    memcpy(buf, dkek, 32);
    buf[32] = buf[33] = buf[34] = 0;
    buf[35] = (uint8_t)counter;
    ok = EVP_Digest(buf, counter ? 36 : 32, out, &n, EVP_sha256(), NULL) == 1;
    OPENSSL_cleanse(buf, sizeof(buf));
    return ok ? 0 : -1;
}

int sim_dkek_kcv(const uint8_t dkek[32], uint8_t kcv[8])
{
    uint8_t h[32];

    if (dkek_hash(dkek, 0, h) != 0)
        return -1;
    memcpy(kcv, h, 8);
    return 0;
}

static int cmac(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t mac[16])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM p[2];
    size_t n = 0;
    int ret = -1;

    p[0] = OSSL_PARAM_construct_utf8_string("cipher", (char *)"AES-256-CBC", 0);
    p[1] = OSSL_PARAM_construct_end();
    if (ctx != NULL && EVP_MAC_init(ctx, key, 32, p) && EVP_MAC_update(ctx, in, len) &&
        EVP_MAC_final(ctx, mac, &n, 16) && n == 16)
        ret = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return ret;
}

/* AES-256-CBC, IV 0, no padding, in place; len a multiple of 16. */
static int cbc(const uint8_t key[32], uint8_t *buf, size_t len, int enc)
{
    static const uint8_t iv[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0, ret = -1;

    if (ctx != NULL && len <= INT_MAX &&
        EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
        EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) == 1 &&
        EVP_CipherFinal_ex(ctx, buf + n, &f) == 1 && (size_t)(n + f) == len)
        ret = 0;
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

/* ---------------------------------------------------------------- encode */

static int put16(sim_bytes *b, size_t v)
{
    return sim_bytes_append_byte(b, (uint8_t)(v >> 8)) | sim_bytes_append_byte(b, (uint8_t)v);
}

static int put_field(sim_bytes *b, const uint8_t *p, size_t n)
{
    return n > 0xFFFF || put16(b, n) != 0 || sim_bytes_append(b, p, n) != 0 ? -1 : 0;
}

/* mbedtls_mpi_size and mbedtls_mpi_write_binary: no leading zeros, 0 is empty. */
static int put_bn(sim_bytes *b, const BIGNUM *bn)
{
    size_t n = (size_t)BN_num_bytes(bn);

    if (put16(b, n) != 0 || sim_bytes_reserve(b, n) != 0)
        return -1;
    if (n > 0 && BN_bn2binpad(bn, b->data + b->len, (int)n) != (int)n)
        return -1;
    b->len += n;
    return 0;
}

static int rsa_parts(EVP_PKEY *key, sim_bytes *kb)
{
    BIGNUM *n = NULL, *e = NULL, *d = NULL;
    int ret = -1;

    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_D, &d))
        goto end;
    /* mbedtls_rsa_get_len * 8: the modulus in whole bytes */
    if (put16(kb, (size_t)BN_num_bytes(n) * 8) != 0 || put_bn(kb, d) != 0 || put_bn(kb, n) != 0 ||
        put_bn(kb, e) != 0)
        goto end;
    ret = 0;
end:
    BN_clear_free(d);
    BN_free(n);
    BN_free(e);
    return ret;
}

static int ec_parts(EVP_PKEY *key, sim_bytes *kb)
{
    const sim_curve *c = sim_curve_of_key(key);
    EC_GROUP *g = c ? EC_GROUP_new_by_curve_name(c->nid) : NULL;
    BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *d = NULL;
    sim_ec_domain dom = {0};
    sim_bytes q = {0};
    int ret = -1;

    if (g == NULL || p == NULL || a == NULL || b == NULL ||
        EC_GROUP_get_curve(g, p, a, b, NULL) != 1 || sim_ec_domain_get(c, &dom) != 0 ||
        sim_ec_public_point(key, &q) != 0 ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d))
        goto end;
    /* mbedtls keeps no A for the a = -3 curves (A.p == NULL, size 0) */
    if (!BN_add_word(a, 3))
        goto end;
    if (BN_cmp(a, p) == 0)
        BN_zero(a);
    else if (!BN_sub_word(a, 3))
        goto end;
    if (put16(kb, (size_t)BN_num_bytes(p) * 8) != 0 || put_bn(kb, a) != 0 || put_bn(kb, b) != 0 ||
        put_bn(kb, p) != 0 || put_bn(kb, EC_GROUP_get0_order(g)) != 0 ||
        put_field(kb, dom.g.data, dom.g.len) != 0 || put_bn(kb, d) != 0 ||
        put_field(kb, q.data, q.len) != 0)
        goto end;
    ret = 0;
end:
    sim_ec_domain_free(&dom);
    sim_bytes_free(&q);
    EC_GROUP_free(g);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    BN_clear_free(d);
    return ret;
}

int sim_dkek_blob_encode(const uint8_t dkek[32], EVP_PKEY *key, const uint8_t *algs,
                         size_t algs_len, sim_bytes *out)
{
    static const uint8_t empty[4];
    uint8_t kenc[32], kmac[32], kcv[8], mac[16], type;
    sim_bytes kb = {0};
    int ret = -1, rsa = EVP_PKEY_is_a(key, "RSA");

    sim_bytes_clear(out);
    type = rsa ? SIM_BLOB_RSA : SIM_BLOB_EC;
    if (sim_bytes_reserve(&kb, 8) != 0 || RAND_bytes(kb.data, 8) != 1)
        goto end;
    kb.len = 8;
    if ((rsa ? rsa_parts(key, &kb) : ec_parts(key, &kb)) != 0)
        goto end;
    /* 80 then zeros up to a whole block; nothing when already whole */
    if (kb.len % 16 != 0 && sim_bytes_append_byte(&kb, 0x80) != 0)
        goto end;
    while (kb.len % 16 != 0)
        if (sim_bytes_append_byte(&kb, 0) != 0)
            goto end;
    if (sim_dkek_kcv(dkek, kcv) != 0 || dkek_hash(dkek, 1, kenc) != 0 ||
        dkek_hash(dkek, 2, kmac) != 0 || cbc(kenc, kb.data, kb.len, 1) != 0)
        goto end;
    if (sim_bytes_append(out, kcv, 8) != 0 || sim_bytes_append_byte(out, type) != 0 ||
        sim_bytes_append(out, rsa ? oid_rsa : oid_ec, 12) != 0 ||
        put_field(out, algs, algs ? algs_len : 0) != 0 || sim_bytes_append(out, empty, 4) != 0 ||
        sim_bytes_append(out, kb.data, kb.len) != 0 || cmac(kmac, out->data, out->len, mac) != 0 ||
        sim_bytes_append(out, mac, 16) != 0)
        goto end;
    ret = 0;
end:
    if (ret != 0)
        sim_bytes_clear(out);
    OPENSSL_cleanse(kenc, sizeof(kenc));
    OPENSSL_cleanse(kmac, sizeof(kmac));
    sim_bytes_free(&kb);
    return ret;
}

/* ---------------------------------------------------------------- decode */

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

/* One 2-byte length-prefixed field; -1 past the end. */
static int get_field(reader *r, const uint8_t **v, size_t *n)
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

static BIGNUM *get_bn(reader *r)
{
    const uint8_t *v;
    size_t n;

    if (get_field(r, &v, &n) != 0)
        return NULL;
    return BN_bin2bn(v, (int)n, NULL);
}

void sim_blob_key_free(sim_blob_key *k)
{
    EVP_PKEY_free(k->stored);
    EVP_PKEY_free(k->cvkey);
    memset(k, 0, sizeof(*k));
}

/* p from n, e, d (the firmware's mbedtls_rsa_complete does the same): with k = e d - 1 =
 * 2^s t, some g^(2^i t) is a square root of 1 other than +-1, and gcd(it - 1, n) is a factor. */
static BIGNUM *rsa_factor(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d, BN_CTX *ctx)
{
    BIGNUM *t = BN_new(), *x = BN_new(), *y = BN_new(), *n1 = BN_new(), *p = NULL;
    unsigned g;
    int s = 0, i;

    if (t == NULL || x == NULL || y == NULL || n1 == NULL || !BN_mul(t, e, d, ctx) ||
        !BN_sub_word(t, 1) || BN_is_zero(t) || !BN_sub(n1, n, BN_value_one()))
        goto end;
    while (!BN_is_bit_set(t, 0) && s < 8192) {
        if (!BN_rshift1(t, t))
            goto end;
        s++;
    }
    for (g = 2; g < 200 && p == NULL; g++) {
        if (!BN_set_word(y, g) || !BN_mod_exp(x, y, t, n, ctx))
            goto end;
        for (i = 0; i < s && p == NULL; i++) {
            if (BN_is_one(x) || BN_cmp(x, n1) == 0)
                break;
            if (!BN_mod_sqr(y, x, n, ctx))
                goto end;
            if (BN_is_one(y)) {
                if ((p = BN_new()) == NULL || !BN_sub_word(x, 1) || !BN_gcd(p, x, n, ctx)) {
                    BN_free(p);
                    p = NULL;
                    goto end;
                }
                break;
            }
            if (!BN_copy(x, y))
                goto end;
        }
    }
end:
    BN_clear_free(t);
    BN_clear_free(x);
    BN_clear_free(y);
    BN_free(n1);
    return p;
}

/* The RSA key of p, q and e with its CRT parts; NULL when they make none. */
static EVP_PKEY *rsa_from_pq(const BIGNUM *p, const BIGNUM *q, const BIGNUM *e, BN_CTX *ctx)
{
    BIGNUM *n = BN_new(), *d = BN_new(), *p1 = BN_new(), *q1 = BN_new(), *l = BN_new();
    BIGNUM *dp = BN_new(), *dq = BN_new(), *qi = BN_new(), *gcd = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    EVP_PKEY *pk = NULL;

    if (n == NULL || d == NULL || p1 == NULL || q1 == NULL || l == NULL || dp == NULL ||
        dq == NULL || qi == NULL || gcd == NULL || bld == NULL || !BN_mul(n, p, q, ctx) ||
        !BN_sub(p1, p, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) ||
        !BN_gcd(gcd, p1, q1, ctx) || !BN_mul(l, p1, q1, ctx) || !BN_div(l, NULL, l, gcd, ctx) ||
        BN_mod_inverse(d, e, l, ctx) == NULL || !BN_mod(dp, d, p1, ctx) ||
        !BN_mod(dq, d, q1, ctx) || BN_mod_inverse(qi, q, p, ctx) == NULL)
        goto end;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto end;
    pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (pc == NULL || EVP_PKEY_fromdata_init(pc) <= 0 ||
        EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
        pk = NULL;
end:
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_clear_free(d);
    BN_clear_free(p1);
    BN_clear_free(q1);
    BN_clear_free(l);
    BN_clear_free(dp);
    BN_clear_free(dq);
    BN_clear_free(qi);
    BN_free(gcd);
    return pk;
}

/* Type 5 (d, n, e) or 6 (dp1, dq1, p, pq, q, n, e) after the key size. */
static int rsa_decode(uint8_t type, reader *r, sim_blob_key *out)
{
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    BIGNUM *d = NULL, *n = NULL, *e = NULL, *p = NULL, *q = NULL, *skip = NULL;
    BIGNUM *e65537 = BN_bin2bn(f4, 3, NULL);
    BN_CTX *ctx = BN_CTX_secure_new();
    int ret = -1;

    if (ctx == NULL || e65537 == NULL)
        goto end;
    if (type == SIM_BLOB_RSA) {
        if ((d = get_bn(r)) == NULL || (n = get_bn(r)) == NULL || (e = get_bn(r)) == NULL ||
            BN_is_zero(n) || (p = rsa_factor(n, e, d, ctx)) == NULL || (q = BN_new()) == NULL ||
            !BN_div(q, skip = BN_new(), n, p, ctx) || skip == NULL || !BN_is_zero(skip))
            goto end;
    } else {
        BN_free(get_bn(r)); /* dp1, dq1: recomputed, as the firmware does */
        BN_free(get_bn(r));
        if ((p = get_bn(r)) == NULL)
            goto end;
        BN_free(get_bn(r)); /* pq */
        if ((q = get_bn(r)) == NULL)
            goto end;
        BN_free(get_bn(r)); /* n */
        if ((e = get_bn(r)) == NULL)
            goto end;
    }
    if (BN_is_zero(p) || BN_is_zero(q) || BN_is_one(p) || BN_is_one(q) || BN_is_zero(e))
        goto end;
    /* The firmware keeps p and q only and loads the key with e = 65537 (6.2); its request
     * in CExx is made from the key as decoded. */
    out->cvkey = rsa_from_pq(p, q, e, ctx);
    out->stored = rsa_from_pq(p, q, e65537, ctx);
    if (out->cvkey != NULL && out->stored != NULL)
        ret = 0;
end:
    BN_clear_free(d);
    BN_free(n);
    BN_free(e);
    BN_clear_free(p);
    BN_clear_free(q);
    BN_clear_free(skip);
    BN_free(e65537);
    BN_CTX_free(ctx);
    return ret;
}

static EVP_PKEY *ec_key_new(const sim_curve *c, const BIGNUM *d, const uint8_t *pt, size_t len)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    EVP_PKEY *pk = NULL;

    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->name, 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, len) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto end;
    pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pc == NULL || EVP_PKEY_fromdata_init(pc) <= 0 ||
        EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
        pk = NULL;
end:
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* a, b, p, order, G, d, Q: the curve from p alone (exact length), Q computed when it is not
 * a point, then Q = dG checked (mbedtls_ecp_check_pub_priv). */
static int ec_decode(reader *r, sim_blob_key *out)
{
    const uint8_t *v, *pv;
    size_t n, pn;
    const sim_curve *c;
    EC_GROUP *g = NULL;
    EC_POINT *q = NULL, *dg = NULL;
    BIGNUM *d = NULL;
    uint8_t pt[1 + 2 * 66];
    size_t ptlen;
    int ret = -1;

    if (get_field(r, &v, &n) != 0 || get_field(r, &v, &n) != 0 || get_field(r, &pv, &pn) != 0 ||
        (c = sim_curve_by_prime(pv, pn)) == NULL || pn != c->field_len ||
        get_field(r, &v, &n) != 0 || get_field(r, &v, &n) != 0 || (d = get_bn(r)) == NULL ||
        get_field(r, &v, &n) != 0)
        goto end;
    g = EC_GROUP_new_by_curve_name(c->nid);
    q = g ? EC_POINT_new(g) : NULL;
    dg = g ? EC_POINT_new(g) : NULL;
    if (dg == NULL || q == NULL || BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0 ||
        !EC_POINT_mul(g, dg, d, NULL, NULL, NULL))
        goto end;
    if (EC_POINT_oct2point(g, q, v, n, NULL) != 1 && !EC_POINT_copy(q, dg))
        goto end;
    if (EC_POINT_cmp(g, q, dg, NULL) != 0)
        goto end;
    ptlen = EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), NULL);
    if (ptlen == 0 || (out->stored = ec_key_new(c, d, pt, ptlen)) == NULL ||
        (out->cvkey = ec_key_new(c, d, pt, ptlen)) == NULL)
        goto end;
    ret = 0;
end:
    EC_POINT_free(q);
    EC_POINT_clear_free(dg);
    EC_GROUP_free(g);
    BN_clear_free(d);
    return ret;
}

/* The header up to the encrypted part; r then holds the ciphertext. */
static int blob_header(const uint8_t *in, size_t len, uint8_t *type, reader *r, sim_blob_key *out)
{
    const uint8_t *v;
    size_t n;

    *type = in[8];
    if (*type != SIM_BLOB_RSA && *type != SIM_BLOB_RSA_CRT && *type != SIM_BLOB_EC)
        return -1; /* AES keys (15) are not kept by the virtual device */
    if (len < 9 + 12 + 16 ||
        memcmp(in + 9, *type == SIM_BLOB_EC ? oid_ec : oid_rsa, sizeof(oid_rsa)) != 0)
        return -1;
    r->p = in + 9 + 12;
    r->left = len - 16 - 9 - 12;
    if (get_field(r, &out->algs, &out->algs_len) != 0 || get_field(r, &v, &n) != 0 ||
        get_field(r, &v, &n) != 0)
        return -1;
    return r->left % 16 == 0 && r->left > 0 ? 0 : -1;
}

int sim_dkek_blob_decode(const uint8_t dkek[32], const uint8_t *in, size_t len, sim_blob_key *out)
{
    uint8_t kcv[8], kenc[32], kmac[32], mac[16], type;
    sim_bytes kb = {0};
    reader r;
    int ret = SIM_BLOB_BAD;

    memset(out, 0, sizeof(*out));
    if (in == NULL || len <= 8 || sim_dkek_kcv(dkek, kcv) != 0)
        goto end;
    if (memcmp(kcv, in, 8) != 0) {
        ret = SIM_BLOB_WRONG_DKEK;
        goto end;
    }
    if (len < 16 + 9 || dkek_hash(dkek, 2, kmac) != 0 || cmac(kmac, in, len - 16, mac) != 0 ||
        CRYPTO_memcmp(mac, in + len - 16, 16) != 0)
        goto end;
    if (blob_header(in, len, &type, &r, out) != 0 || dkek_hash(dkek, 1, kenc) != 0 ||
        sim_bytes_set(&kb, r.p, r.left) != 0 || cbc(kenc, kb.data, kb.len, 0) != 0 || kb.len < 10)
        goto end;
    r.p = kb.data + 10; /* 8 random bytes, the key size */
    r.left = kb.len - 10;
    if ((type == SIM_BLOB_EC ? ec_decode(&r, out) : rsa_decode(type, &r, out)) != 0)
        goto end;
    ret = SIM_BLOB_OK;
end:
    if (ret != SIM_BLOB_OK) {
        const uint8_t *a = out->algs;
        size_t al = out->algs_len;
        sim_blob_key_free(out);
        out->algs = ret == SIM_BLOB_WRONG_DKEK ? NULL : a;
        out->algs_len = ret == SIM_BLOB_WRONG_DKEK ? 0 : al;
    }
    OPENSSL_cleanse(kenc, sizeof(kenc));
    OPENSSL_cleanse(kmac, sizeof(kmac));
    sim_bytes_free(&kb);
    return ret;
}

int sim_blob_key_der(EVP_PKEY *key, sim_bytes *out)
{
    return sim_key_to_der(key, out);
}
