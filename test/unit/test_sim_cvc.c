/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sim's cryptography (sim/crypto.c, sim/cvc.c): CV request parsing, the
 * GAKP answer layout OpenSC decodes (sc-hsm-protocol.md 6.2), SIGN (7.1),
 * DECIPHER (7.2), the device certificate (2.5), PKA checks (5.2, 5.6), the
 * default PrKD (6.4) and MKEK sealing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto.h"
#include "util.h"

static const uint8_t OID_ECDSA_SHA256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                           0x02, 0x02, 0x02, 0x02, 0x03};
static const uint8_t OID_ECDSA_SHA1[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                         0x02, 0x02, 0x02, 0x02, 0x01};
static const uint8_t OID_RSA_V15_SHA256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                             0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t OID_RSA_PSS_SHA256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                             0x02, 0x02, 0x02, 0x01, 0x04};

/* secp256r1 domain parameters (SEC 2), what OpenSC puts in its GAKP request. */
static const uint8_t P256_P[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const uint8_t P256_A[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC};
static const uint8_t P256_B[] = {0x5A, 0xC6, 0x35, 0xD8, 0xAA, 0x3A, 0x93, 0xE7, 0xB3, 0xEB, 0xBD,
                                 0x55, 0x76, 0x98, 0x86, 0xBC, 0x65, 0x1D, 0x06, 0xB0, 0xCC, 0x53,
                                 0xB0, 0xF6, 0x3B, 0xCE, 0x3C, 0x3E, 0x27, 0xD2, 0x60, 0x4B};
static const uint8_t P256_G[] = {0x04, 0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC,
                                 0xE6, 0xE5, 0x63, 0xA4, 0x40, 0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D,
                                 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98, 0xC2, 0x96,
                                 0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB,
                                 0x4A, 0x7C, 0x0F, 0x9E, 0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31,
                                 0x5E, 0xCE, 0xCB, 0xB6, 0x40, 0x68, 0x37, 0xBF, 0x51, 0xF5};
static const uint8_t P256_N[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
/* secp224r1: a curve OpenSC offers and the firmware does not know (6A81). */
static const uint8_t P224_P[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};

#define DEV_NAME "ESPICOHSMTR00001"
#define KEY_CHR "DEPKA0000100001"

/* -------------------------------------------------------------- helpers */

/* A device key and its certificate, shared by the tests (created once). */
static EVP_PKEY *devkey;
static sim_bytes devcert;

static int group_setup(void **state)
{
    sim_bytes priv = {0};

    (void)state;
    if (sim_devkey_create((const uint8_t *)DEV_NAME, strlen(DEV_NAME), &priv, &devcert) != 0)
        return -1;
    devkey = sim_key_load(priv.data, priv.len);
    sim_bytes_free(&priv);
    return devkey != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(devkey);
    sim_bytes_free(&devcert);
    return 0;
}

/* Reads the TLVs of (p, len) and asserts they carry exactly these tags, in order. */
static void expect_tags(const uint8_t *p, size_t len, const unsigned *tags, size_t n,
                        const uint8_t **vals, size_t *lens)
{
    const uint8_t *v;
    size_t vl, i = 0;
    unsigned tag;
    int rc;

    while ((rc = sim_tlv_next(&p, &len, &tag, &v, &vl)) == 1) {
        assert_true(i < n);
        assert_int_equal(tag, tags[i]);
        if (vals != NULL) {
            vals[i] = v;
            lens[i] = vl;
        }
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, n);
}

/* Total size of a TLV (header included) with this tag and value length. */
static size_t tlv_total(unsigned tag, size_t vlen)
{
    return (tag > 0xff ? 2 : 1) + sim_tlv_len_size(vlen) + vlen;
}

/* Verifies a plain r||s signature over SHA-256(msg). */
static int verify_rs(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *rs, size_t rslen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)(rslen / 2), NULL);
    BIGNUM *s = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int derlen, ok;

    assert_non_null(sig);
    assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
    derlen = i2d_ECDSA_SIG(sig, &der);
    assert_true(derlen > 0);
    assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL), 1);
    ok = EVP_DigestVerify(md, der, (size_t)derlen, msg, len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok;
}

/* A plain r||s signature (each half padded to n bytes) over SHA-256(msg). */
static void sign_rs(EVP_PKEY *key, const uint8_t *msg, size_t len, size_t n, uint8_t *rs)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[160];
    const unsigned char *p = der;
    size_t derlen = sizeof(der);
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;

    assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL), 1);
    assert_int_equal(EVP_DigestSign(md, der, &derlen, msg, len), 1);
    sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, rs, (int)n), (int)n);
    assert_int_equal(BN_bn2binpad(s, rs + n, (int)n), (int)n);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
}

/* OpenSC's EC GAKP request (pkcs15init/pkcs15-sc-hsm.c): 5F29, 42, 7F49 without 86, 5F20. */
static void build_ec_request(sim_bytes *req, const char *car, const char *chr, const uint8_t *oid,
                             const uint8_t *prime, size_t prime_len, int with_domain)
{
    static const uint8_t cpi = 0x00, cofactor = 0x01;
    sim_bytes tmpl = {0};

    assert_int_equal(sim_tlv_put(&tmpl, 0x06, oid, 10), 0);
    if (prime != NULL)
        assert_int_equal(sim_tlv_put(&tmpl, 0x81, prime, prime_len), 0);
    if (with_domain) {
        assert_int_equal(sim_tlv_put(&tmpl, 0x82, P256_A, sizeof(P256_A)), 0);
        assert_int_equal(sim_tlv_put(&tmpl, 0x83, P256_B, sizeof(P256_B)), 0);
        assert_int_equal(sim_tlv_put(&tmpl, 0x84, P256_G, sizeof(P256_G)), 0);
        assert_int_equal(sim_tlv_put(&tmpl, 0x85, P256_N, sizeof(P256_N)), 0);
        assert_int_equal(sim_tlv_put(&tmpl, 0x87, &cofactor, 1), 0);
    }
    sim_bytes_clear(req);
    assert_int_equal(sim_tlv_put(req, 0x5F29, &cpi, 1), 0);
    if (car != NULL)
        assert_int_equal(sim_tlv_put(req, 0x42, (const uint8_t *)car, strlen(car)), 0);
    assert_int_equal(sim_tlv_put(req, 0x7F49, tmpl.data, tmpl.len), 0);
    if (chr != NULL)
        assert_int_equal(sim_tlv_put(req, 0x5F20, (const uint8_t *)chr, strlen(chr)), 0);
    sim_bytes_free(&tmpl);
}

/* OpenSC's RSA GAKP request: 06, 82 exponent, 02 modulus size. */
static void build_rsa_request(sim_bytes *req, const char *car, const char *chr, unsigned bits)
{
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    uint8_t size[2] = {(uint8_t)(bits >> 8), (uint8_t)bits};
    sim_bytes tmpl = {0};

    assert_int_equal(sim_tlv_put(&tmpl, 0x06, OID_RSA_V15_SHA256, 10), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x82, e, sizeof(e)), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x02, size, sizeof(size)), 0);
    sim_bytes_clear(req);
    assert_int_equal(sim_tlv_put(req, 0x42, (const uint8_t *)car, strlen(car)), 0);
    assert_int_equal(sim_tlv_put(req, 0x7F49, tmpl.data, tmpl.len), 0);
    assert_int_equal(sim_tlv_put(req, 0x5F20, (const uint8_t *)chr, strlen(chr)), 0);
    sim_bytes_free(&tmpl);
}

/* Runs GAKP and loads the new key; asserts success. */
static EVP_PKEY *generate(const sim_bytes *req, sim_bytes *cvreq, int *type, int *bits)
{
    sim_bytes priv = {0};
    EVP_PKEY *key;

    assert_int_equal(sim_key_generate(req->data, req->len, devkey, (const uint8_t *)DEV_NAME,
                                      strlen(DEV_NAME), type, bits, &priv, cvreq),
                     0x9000);
    assert_true(priv.len > 0);
    key = sim_key_load(priv.data, priv.len);
    assert_non_null(key);
    sim_bytes_free(&priv);
    return key;
}

/* ------------------------------------------------------------ CVC parse */

/* The P-256 registration of 5.2: 67 { 7F21 { 7F4E { .. }, 5F37 }, 42, 5F37 }. */
static void build_registration(sim_bytes *out)
{
    static const uint8_t cpi = 0x00, cofactor = 0x01;
    uint8_t q[65], sig[64];
    sim_bytes tmpl = {0}, body = {0}, cert = {0}, inner = {0};

    memset(q, 0x11, sizeof(q));
    q[0] = 0x04;
    memset(sig, 0x22, sizeof(sig));
    assert_int_equal(sim_tlv_put(&tmpl, 0x06, OID_ECDSA_SHA256, 10), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x81, P256_P, 32), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x82, P256_A, 32), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x83, P256_B, 32), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x84, P256_G, 65), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x85, P256_N, 32), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x86, q, 65), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x87, &cofactor, 1), 0);
    assert_int_equal(sim_tlv_put(&body, 0x5F29, &cpi, 1), 0);
    assert_int_equal(sim_tlv_put(&body, 0x42, (const uint8_t *)KEY_CHR, 15), 0);
    assert_int_equal(sim_tlv_put(&body, 0x7F49, tmpl.data, tmpl.len), 0);
    assert_int_equal(sim_tlv_put(&body, 0x5F20, (const uint8_t *)KEY_CHR, 15), 0);
    assert_int_equal(sim_tlv_put(&cert, 0x7F4E, body.data, body.len), 0);
    assert_int_equal(sim_tlv_put(&cert, 0x5F37, sig, 64), 0);
    assert_int_equal(sim_tlv_put(&inner, 0x7F21, cert.data, cert.len), 0);
    assert_int_equal(sim_tlv_put(&inner, 0x42, (const uint8_t *)"OUTERCAR00001", 13), 0);
    assert_int_equal(sim_tlv_put(&inner, 0x5F37, sig, 64), 0);
    sim_bytes_clear(out);
    assert_int_equal(sim_tlv_put(out, 0x67, inner.data, inner.len), 0);
    sim_bytes_free(&tmpl);
    sim_bytes_free(&body);
    sim_bytes_free(&cert);
    sim_bytes_free(&inner);
}

static void test_cvc_parse_registration(void **state)
{
    sim_bytes reg = {0};
    sim_cvc c;
    uint8_t bad[600];
    const uint8_t *inner;
    size_t inner_len;

    (void)state;
    build_registration(&reg);
    /* 67 82 01 E8 as in 5.2 */
    assert_int_equal(reg.len, 4 + 0x1E8);
    assert_memory_equal(reg.data, "\x67\x82\x01\xE8\x7F\x21\x82\x01\x91\x7F\x4E\x82\x01\x49", 14);
    assert_int_equal(sim_cvc_parse(reg.data, reg.len, &c), 0);
    assert_int_equal(c.chr_len, 15);
    assert_memory_equal(c.chr, KEY_CHR, 15);
    assert_int_equal(c.car_len, 15);
    assert_memory_equal(c.car, KEY_CHR, 15);
    assert_int_equal(c.oid_len, 10);
    assert_memory_equal(c.oid, OID_ECDSA_SHA256, 10);
    assert_ptr_equal(c.body, reg.data + 14);
    assert_int_equal(c.body_len, 0x149);
    assert_int_equal(c.pubkey_len, 0x11D);
    assert_int_equal(c.outer_car_len, 13);
    assert_memory_equal(c.outer_car, "OUTERCAR00001", 13);

    /* Without the 67 wrapper the same certificate parses (5.2: both forms work). */
    assert_int_equal(sim_tlv_find(reg.data, reg.len, 0x67, &inner, &inner_len), 1);
    assert_int_equal(sim_cvc_parse(inner, inner_len, &c), 0);
    assert_memory_equal(c.chr, KEY_CHR, 15);
    assert_null(c.outer_car);

    /* Truncated copies fail. */
    assert_int_equal(sim_cvc_parse(reg.data, reg.len - 1, &c), -1);
    assert_null(c.chr);
    assert_int_equal(sim_cvc_parse(reg.data, 20, &c), -1);
    /* A wrong outer length: longer than the data, or cutting into the 7F21. */
    memcpy(bad, reg.data, reg.len);
    bad[3] = 0xE9;
    assert_int_equal(sim_cvc_parse(bad, reg.len, &c), -1);
    bad[3] = 0xE7;
    assert_int_equal(sim_cvc_parse(bad, reg.len, &c), -1);
    /* A wrong inner length (7F49 one byte too short) breaks the body. */
    memcpy(bad, reg.data, reg.len);
    assert_int_equal(bad[14 + 4 + 2 + 15 + 2], 0x82);
    bad[14 + 4 + 2 + 15 + 4] = 0x1C;
    assert_int_equal(sim_cvc_parse(bad, reg.len, &c), -1);
    /* Something else altogether. */
    assert_int_equal(sim_cvc_parse((const uint8_t *)"\x30\x00", 2, &c), -1);
    sim_bytes_free(&reg);
}

/* ----------------------------------------------------------------- GAKP */

static void test_gakp_ec_p256_layout(void **state)
{
    static const unsigned t67[] = {0x7F21, 0x42, 0x5F37};
    static const unsigned t7f21[] = {0x7F4E, 0x5F37};
    static const unsigned tbody[] = {0x5F29, 0x42, 0x7F49, 0x5F20};
    static const unsigned tkey[] = {0x06, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87};
    sim_bytes req = {0}, cvreq = {0}, signed_outer = {0};
    const uint8_t *v67[3], *vc[2], *vb[4], *vk[8], *top;
    size_t l67[3], lc[2], lb[4], lk[8], toplen, pl = 0;
    uint8_t pt[65];
    EVP_PKEY *key;
    int type, bits;
    sim_cvc c;

    (void)state;
    build_ec_request(&req, "UTCA00001", "DESRT0000100001", OID_ECDSA_SHA256, P256_P, 32, 1);
    key = generate(&req, &cvreq, &type, &bits);
    assert_int_equal(type, SIM_KEY_EC);
    assert_int_equal(bits, 256);

    expect_tags(cvreq.data, cvreq.len, (const unsigned[]){0x67}, 1, &top, &toplen);
    assert_int_equal(tlv_total(0x67, toplen), cvreq.len);
    expect_tags(top, toplen, t67, 3, v67, l67);
    expect_tags(v67[0], l67[0], t7f21, 2, vc, lc);
    expect_tags(vc[0], lc[0], tbody, 4, vb, lb);
    expect_tags(vb[2], lb[2], tkey, 8, vk, lk);

    assert_int_equal(lb[0], 1);
    assert_int_equal(vb[0][0], 0x00);
    assert_int_equal(lb[1], 9);
    assert_memory_equal(vb[1], "UTCA00001", 9);
    assert_int_equal(lb[3], 15);
    assert_memory_equal(vb[3], "DESRT0000100001", 15);
    assert_int_equal(l67[1], strlen(DEV_NAME));
    assert_memory_equal(v67[1], DEV_NAME, strlen(DEV_NAME));

    assert_int_equal(lk[0], 10);
    assert_memory_equal(vk[0], OID_ECDSA_SHA256, 10);
    assert_int_equal(lk[1], 32);
    assert_memory_equal(vk[1], P256_P, 32);
    assert_int_equal(lk[2], 32);
    assert_memory_equal(vk[2], P256_A, 32);
    assert_int_equal(lk[3], 32);
    assert_memory_equal(vk[3], P256_B, 32);
    assert_int_equal(lk[4], 65);
    assert_memory_equal(vk[4], P256_G, 65);
    assert_int_equal(lk[5], 32);
    assert_memory_equal(vk[5], P256_N, 32);
    assert_int_equal(lk[7], 1);
    assert_int_equal(vk[7][0], 0x01);

    /* 86 is the new key's point. */
    assert_int_equal(lk[6], 65);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &pl), 1);
    assert_int_equal(pl, 65);
    assert_memory_equal(vk[6], pt, 65);

    /* Inner 5F37: r||s by the new key over the whole 7F4E TLV. */
    assert_int_equal(lc[1], 64);
    assert_true(verify_rs(key, v67[0], tlv_total(0x7F4E, lc[0]), vc[1], lc[1]));
    /* Outer 5F37: r||s by the device key over 7F21 TLV || 42 TLV (libcvc). */
    assert_int_equal(l67[2], 64);
    assert_int_equal(
        sim_bytes_append(&signed_outer, top, tlv_total(0x7F21, l67[0]) + tlv_total(0x42, l67[1])),
        0);
    assert_true(verify_rs(devkey, signed_outer.data, signed_outer.len, v67[2], l67[2]));
    assert_false(verify_rs(key, signed_outer.data, signed_outer.len, v67[2], l67[2]));

    /* The answer parses back with the request's references. */
    assert_int_equal(sim_cvc_parse(cvreq.data, cvreq.len, &c), 0);
    assert_memory_equal(c.chr, "DESRT0000100001", 15);
    assert_memory_equal(c.outer_car, DEV_NAME, 16);

    sim_bytes_free(&req);
    sim_bytes_free(&cvreq);
    sim_bytes_free(&signed_outer);
    EVP_PKEY_free(key);
}

/* The prime alone is enough (6.2, verified); no CAR/CHR means dev_name for both. */
static void test_gakp_ec_p384_prime_only_defaults(void **state)
{
    sim_bytes req = {0}, cvreq = {0};
    EVP_PKEY *key, *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
    BIGNUM *p = NULL;
    uint8_t prime[48];
    int type, bits;
    sim_cvc c;
    const uint8_t *sig, *n85;
    size_t siglen, n85len;

    (void)state;
    assert_non_null(p384);
    assert_int_equal(EVP_PKEY_get_bn_param(p384, OSSL_PKEY_PARAM_EC_P, &p), 1);
    assert_int_equal(BN_bn2binpad(p, prime, 48), 48);
    build_ec_request(&req, NULL, NULL, OID_ECDSA_SHA256, prime, 48, 0);
    key = generate(&req, &cvreq, &type, &bits);
    assert_int_equal(bits, 384);
    assert_int_equal(sim_cvc_parse(cvreq.data, cvreq.len, &c), 0);
    assert_int_equal(c.car_len, 16);
    assert_memory_equal(c.car, DEV_NAME, 16);
    assert_int_equal(c.chr_len, 16);
    assert_memory_equal(c.chr, DEV_NAME, 16);
    assert_int_equal(sim_tlv_find(c.pubkey, c.pubkey_len, 0x85, &n85, &n85len), 1);
    assert_int_equal(n85len, 48);
    /* The inner signature is 2 x 48 bytes. */
    assert_int_equal(sim_tlv_find(c.body + c.body_len, 200, 0x5F37, &sig, &siglen), 1);
    assert_int_equal(siglen, 96);
    BN_free(p);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(key);
    sim_bytes_free(&req);
    sim_bytes_free(&cvreq);
}

static void test_gakp_errors(void **state)
{
    sim_bytes req = {0}, priv = {0}, cvreq = {0};
    int type = -1, bits = -1;
    static const uint8_t no_key[] = {0x5F, 0x29, 0x01, 0x00};

#define GAKP(r)                                                                                    \
    sim_key_generate((r)->data, (r)->len, devkey, (const uint8_t *)DEV_NAME, strlen(DEV_NAME),     \
                     &type, &bits, &priv, &cvreq)
    (void)state;
    build_ec_request(&req, NULL, NULL, OID_ECDSA_SHA256, P224_P, sizeof(P224_P), 0);
    assert_int_equal(GAKP(&req), 0x6A81);
    build_ec_request(&req, NULL, NULL, OID_ECDSA_SHA256, NULL, 0, 0);
    assert_int_equal(GAKP(&req), 0x6700);
    /* Another ECDSA OID: 9000, nothing created (field-notes.md). */
    build_ec_request(&req, NULL, NULL, OID_ECDSA_SHA1, P256_P, 32, 1);
    assert_int_equal(GAKP(&req), 0x9000);
    assert_int_equal(cvreq.len, 0);
    assert_int_equal(priv.len, 0);
    assert_int_equal(type, 0);
    assert_int_equal(sim_key_generate(no_key, sizeof(no_key), devkey, (const uint8_t *)DEV_NAME,
                                      strlen(DEV_NAME), &type, &bits, &priv, &cvreq),
                     0x6700);
    build_rsa_request(&req, "UTCA00001", "DESRT0000100001", 1025);
    assert_int_equal(GAKP(&req), 0x6400);
    assert_int_equal(priv.len, 0);
#undef GAKP
    sim_bytes_free(&req);
    sim_bytes_free(&priv);
    sim_bytes_free(&cvreq);
}

static void test_gakp_rsa_1024(void **state)
{
    static const unsigned tkey[] = {0x06, 0x81, 0x82};
    sim_bytes req = {0}, cvreq = {0};
    const uint8_t *vk[3], *sig;
    size_t lk[3], siglen;
    EVP_PKEY *key;
    BIGNUM *n = NULL;
    uint8_t nb[128];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int type, bits;
    sim_cvc c;

    (void)state;
    build_rsa_request(&req, "UTCA00001", "DESRT0000100001", 1024);
    key = generate(&req, &cvreq, &type, &bits);
    assert_int_equal(type, SIM_KEY_RSA);
    assert_int_equal(bits, 1024);
    assert_int_equal(sim_cvc_parse(cvreq.data, cvreq.len, &c), 0);
    expect_tags(c.pubkey, c.pubkey_len, tkey, 3, vk, lk);
    assert_memory_equal(vk[0], OID_RSA_V15_SHA256, 10);
    assert_int_equal(lk[1], 128);
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(BN_bn2binpad(n, nb, 128), 128);
    assert_memory_equal(vk[1], nb, 128);
    assert_int_equal(lk[2], 3);
    assert_memory_equal(vk[2], "\x01\x00\x01", 3);
    /* Inner signature: PKCS#1 v1.5 SHA-256 over the 7F4E TLV. */
    assert_int_equal(sim_tlv_find(c.body + c.body_len, 200, 0x5F37, &sig, &siglen), 1);
    assert_int_equal(siglen, 128);
    assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL), 1);
    assert_int_equal(EVP_DigestVerify(md, sig, siglen, c.body - 4, c.body_len + 4), 1);
    EVP_MD_CTX_free(md);
    BN_free(n);
    EVP_PKEY_free(key);
    sim_bytes_free(&req);
    sim_bytes_free(&cvreq);
}

/* ----------------------------------------------------------------- SIGN */

static EVP_PKEY *ec_key;
static EVP_PKEY *rsa_key;

static int keys_setup(void **state)
{
    (void)state;
    ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    return ec_key != NULL && rsa_key != NULL ? 0 : -1;
}

static int keys_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_key);
    return 0;
}

static int pkey_verify(EVP_PKEY *key, int pad, const char *md, int salt, const uint8_t *sig,
                       size_t siglen, const uint8_t *tbs, size_t tbslen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok;

    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    if (pad != 0)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (md != NULL)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(md)), 1);
    if (pad == RSA_PKCS1_PSS_PADDING) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(md)), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt), 1);
    }
    ok = EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static void test_sign_ec(void **state)
{
    sim_bytes out = {0};
    uint8_t h[32], h48[48];
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    (void)state;
    memset(h, 0x5A, sizeof(h));
    assert_int_equal(sim_key_sign(ec_key, 0x70, h, sizeof(h), &out), 0x9000);
    assert_int_equal(out.data[0], 0x30); /* DER (7.1) */
    assert_true(pkey_verify(ec_key, 0, NULL, 0, out.data, out.len, h, sizeof(h)));
    /* A longer hash is truncated to the order, as OpenSSL does on verify. */
    memset(h48, 0xA5, sizeof(h48));
    assert_int_equal(sim_key_sign(ec_key, 0x70, h48, sizeof(h48), &out), 0x9000);
    assert_true(pkey_verify(ec_key, 0, NULL, 0, out.data, out.len, h48, sizeof(h48)));
    /* 73: the card hashes the message with SHA-256. */
    assert_int_equal(sim_key_sign(ec_key, 0x73, (const uint8_t *)"hello", 5, &out), 0x9000);
    assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, ec_key, NULL), 1);
    assert_int_equal(EVP_DigestVerify(md, out.data, out.len, (const uint8_t *)"hello", 5), 1);
    /* Wrong family and unknown algorithm. */
    assert_int_equal(sim_key_sign(ec_key, 0x20, h, sizeof(h), &out), 0x6400);
    assert_int_equal(sim_key_sign(ec_key, 0x99, h, sizeof(h), &out), 0x6A86);
    assert_int_equal(out.len, 0);
    EVP_MD_CTX_free(md);
    sim_bytes_free(&out);
}

static void test_sign_rsa(void **state)
{
    static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    sim_bytes out = {0}, out2 = {0};
    uint8_t in[128], h[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    (void)state;
    memset(h, 0x3C, sizeof(h));
    memcpy(in, di_sha256, sizeof(di_sha256));
    memcpy(in + sizeof(di_sha256), h, sizeof(h));
    /* 20 with a bare DigestInfo: the card pads it (PKCS#1 v1.5). */
    assert_int_equal(sim_key_sign(rsa_key, 0x20, in, sizeof(di_sha256) + 32, &out), 0x9000);
    assert_int_equal(out.len, 128);
    assert_true(pkey_verify(rsa_key, RSA_PKCS1_PADDING, "SHA256", 0, out.data, out.len, h, 32));
    /* 20 with the host-padded block gives the same deterministic signature. */
    memset(in, 0xFF, sizeof(in));
    in[0] = 0x00;
    in[1] = 0x01;
    in[128 - 51 - 1] = 0x00;
    memcpy(in + 128 - 51, di_sha256, sizeof(di_sha256));
    memcpy(in + 128 - 32, h, 32);
    assert_int_equal(sim_key_sign(rsa_key, 0x20, in, sizeof(in), &out2), 0x9000);
    assert_int_equal(out2.len, 128);
    assert_memory_equal(out.data, out2.data, 128);
    /* 30 always fails on this firmware (7.1). */
    memcpy(in, di_sha256, sizeof(di_sha256));
    memcpy(in + sizeof(di_sha256), h, sizeof(h));
    assert_int_equal(sim_key_sign(rsa_key, 0x30, in, sizeof(di_sha256) + 32, &out), 0x6400);
    /* 33: PKCS#1 v1.5 with the card's SHA-256. */
    assert_int_equal(sim_key_sign(rsa_key, 0x33, (const uint8_t *)"hello", 5, &out), 0x9000);
    assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, rsa_key, NULL), 1);
    assert_int_equal(EVP_DigestVerify(md, out.data, out.len, (const uint8_t *)"hello", 5), 1);
    /* 40: PSS, hash chosen by its length, salt = hash length. */
    assert_int_equal(sim_key_sign(rsa_key, 0x40, h, 32, &out), 0x9000);
    assert_true(pkey_verify(rsa_key, RSA_PKCS1_PSS_PADDING, "SHA256", RSA_PSS_SALTLEN_DIGEST,
                            out.data, out.len, h, 32));
    /* 43: PSS with the card's SHA-256. */
    assert_int_equal(sim_key_sign(rsa_key, 0x43, (const uint8_t *)"hello", 5, &out), 0x9000);
    assert_int_equal(EVP_Digest("hello", 5, h, NULL, EVP_sha256(), NULL), 1);
    assert_true(
        pkey_verify(rsa_key, RSA_PKCS1_PSS_PADDING, "SHA256", 32, out.data, out.len, h, 32));
    assert_int_equal(sim_key_sign(rsa_key, 0x70, h, 32, &out), 0x6400);
    assert_int_equal(sim_key_sign(rsa_key, 0x99, h, 32, &out), 0x6A86);
    EVP_MD_CTX_free(md);
    sim_bytes_free(&out);
    sim_bytes_free(&out2);
}

/* The raw public operation (x^e mod n) on a modulus-length block. */
static void rsa_public_raw(const uint8_t *in, uint8_t *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa_key, NULL);
    size_t len = 128;

    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
    assert_int_equal(EVP_PKEY_encrypt(ctx, out, &len, in, 128), 1);
    assert_int_equal(len, 128);
    EVP_PKEY_CTX_free(ctx);
}

/* 20 and 21 with short input: the card pads it with zeros on the right (7.1, 7.2). */
static void test_rsa_raw_short_input_right_padded(void **state)
{
    sim_bytes out = {0};
    uint8_t in[100], expect[128], back[128];

    (void)state;
    memset(in, 0x11, sizeof(in)); /* no DigestInfo: raw RSA */
    memset(expect, 0, sizeof(expect));
    memcpy(expect, in, sizeof(in));
    assert_int_equal(sim_key_sign(rsa_key, 0x20, in, sizeof(in), &out), 0x9000);
    assert_int_equal(out.len, 128);
    rsa_public_raw(out.data, back);
    assert_memory_equal(back, expect, 128);

    assert_int_equal(sim_key_decipher(rsa_key, 0x21, in, sizeof(in), &out), 0x9000);
    assert_int_equal(out.len, 128);
    rsa_public_raw(out.data, back);
    assert_memory_equal(back, expect, 128);
    sim_bytes_free(&out);
}

/* ------------------------------------------------------------- DECIPHER */

static void rsa_encrypt(int pad, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa_key, NULL);

    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
    if (pad == RSA_PKCS1_OAEP_PADDING) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
    }
    assert_int_equal(EVP_PKEY_encrypt(ctx, out, outlen, in, inlen), 1);
    EVP_PKEY_CTX_free(ctx);
}

static void test_decipher_rsa(void **state)
{
    sim_bytes out = {0};
    uint8_t ct[128], block[128];
    size_t ctlen = sizeof(ct);

    (void)state;
    rsa_encrypt(RSA_PKCS1_PADDING, (const uint8_t *)"secret", 6, ct, &ctlen);
    assert_int_equal(sim_key_decipher(rsa_key, 0x22, ct, ctlen, &out), 0x9000);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "secret", 6);

    ctlen = sizeof(ct);
    rsa_encrypt(RSA_PKCS1_OAEP_PADDING, (const uint8_t *)"oaep!", 5, ct, &ctlen);
    assert_int_equal(sim_key_decipher(rsa_key, 0x23, ct, ctlen, &out), 0x9000);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "oaep!", 5);
    /* OAEP ciphertext is not PKCS#1 v1.5: 6400. */
    assert_int_equal(sim_key_decipher(rsa_key, 0x22, ct, ctlen, &out), 0x6400);

    /* 21: raw, modulus-length block back. */
    memset(block, 0, sizeof(block));
    block[127] = 0x42;
    block[1] = 0x17;
    ctlen = sizeof(ct);
    rsa_encrypt(RSA_NO_PADDING, block, sizeof(block), ct, &ctlen);
    assert_int_equal(sim_key_decipher(rsa_key, 0x21, ct, ctlen, &out), 0x9000);
    assert_int_equal(out.len, 128);
    assert_memory_equal(out.data, block, 128);

    assert_int_equal(sim_key_decipher(rsa_key, 0x30, ct, ctlen, &out), 0x6B00);
    assert_int_equal(sim_key_decipher(ec_key, 0x21, ct, ctlen, &out), 0x6400);
    sim_bytes_free(&out);
}

static void test_decipher_ecdh(void **state)
{
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
    sim_bytes out = {0};
    uint8_t pt[65], z[32], comp[33];
    size_t pl = 0, zl = sizeof(z);

    (void)state;
    assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, pt, 65, &pl),
                     1);
    assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(ctx, ec_key), 1);
    assert_int_equal(EVP_PKEY_derive(ctx, z, &zl), 1);
    assert_int_equal(zl, 32);

    assert_int_equal(sim_key_decipher(ec_key, 0x80, pt, pl, &out), 0x9000);
    assert_int_equal(out.len, 33);
    assert_int_equal(out.data[0], 0x04);
    assert_memory_equal(out.data + 1, z, 32);
    /* Compressed peer point (verified on P-256). */
    comp[0] = (uint8_t)(0x02 | (pt[64] & 1));
    memcpy(comp + 1, pt + 1, 32);
    assert_int_equal(sim_key_decipher(ec_key, 0x80, comp, sizeof(comp), &out), 0x9000);
    assert_memory_equal(out.data + 1, z, 32);
    /* Malformed point and wrong key type. */
    assert_int_equal(sim_key_decipher(ec_key, 0x80, pt, 64, &out), 0x6984);
    assert_int_equal(sim_key_decipher(rsa_key, 0x80, pt, pl, &out), 0x6400);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    sim_bytes_free(&out);
}

/* --------------------------------------------------------------- devkey */

static void test_devkey_certificate(void **state)
{
    static const unsigned tcert[] = {0x7F4E, 0x5F37};
    static const unsigned tbody[] = {0x5F29, 0x42, 0x7F49, 0x5F20, 0x7F4C, 0x5F25, 0x5F24};
    static const unsigned tkey[] = {0x06, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87};
    const uint8_t *top, *vc[2], *vb[7], *vk[8];
    size_t toplen, lc[2], lb[7], lk[8];
    sim_cvc c;

    (void)state;
    expect_tags(devcert.data, devcert.len, (const unsigned[]){0x7F21}, 1, &top, &toplen);
    expect_tags(top, toplen, tcert, 2, vc, lc);
    expect_tags(vc[0], lc[0], tbody, 7, vb, lb);
    expect_tags(vb[2], lb[2], tkey, 8, vk, lk);
    assert_memory_equal(vb[1], DEV_NAME, 16);
    assert_memory_equal(vb[3], DEV_NAME, 16);
    assert_memory_equal(vk[1], P256_P, 32);
    assert_int_equal(lb[4], 14);
    assert_memory_equal(vb[4], "\x06\x09\x04\x00\x7F\x00\x07\x03\x01\x02\x02\x53\x01\x00", 14);
    assert_int_equal(lb[5], 6);
    assert_int_equal(lb[6], 6);
    assert_memory_equal(vb[5], "\x02\x03\x00\x03\x02\x01", 6);
    assert_memory_equal(vb[6], "\x07\x00\x01\x02\x03\x01", 6);
    /* Self-signed, plain r||s over the 7F4E TLV. */
    assert_int_equal(lc[1], 64);
    assert_true(verify_rs(devkey, top, tlv_total(0x7F4E, lc[0]), vc[1], lc[1]));
    /* dev_name is the CHR, and trailing certificates (C_DICA) are ignored. */
    {
        sim_bytes two = {0};
        assert_int_equal(sim_bytes_append(&two, devcert.data, devcert.len), 0);
        assert_int_equal(sim_bytes_append(&two, devcert.data, devcert.len), 0);
        assert_int_equal(sim_cvc_parse(two.data, two.len, &c), 0);
        assert_int_equal(c.chr_len, 16);
        assert_memory_equal(c.chr, DEV_NAME, 16);
        sim_bytes_free(&two);
    }
}

/* ------------------------------------------------------------------ PKA */

static int lookup_devcert(void *ctx, const uint8_t *chr, size_t chr_len, const uint8_t **cert,
                          size_t *cert_len)
{
    (void)ctx;
    if (chr_len != strlen(DEV_NAME) || memcmp(chr, DEV_NAME, chr_len) != 0)
        return 0;
    *cert = devcert.data;
    *cert_len = devcert.len;
    return 1;
}

static void test_pka_verify_ec(void **state)
{
    static const uint8_t challenge[8] = {0x84, 0xB9, 0x7D, 0x43, 0x88, 0xE8, 0x4A, 0x76};
    sim_bytes req = {0}, reg = {0}, reg2 = {0}, reg3 = {0};
    uint8_t msg[24], rs[64], der[80];
    size_t derlen = sizeof(der);
    EVP_PKEY *key, *key2, *key3;
    EVP_PKEY_CTX *ctx;
    uint8_t h[32];
    int type, bits;

    (void)state;
    memcpy(msg, DEV_NAME, 16);
    memcpy(msg + 16, challenge, 8);
    /* A self-referencing request (CAR = CHR), as 5.2 recommends. */
    build_ec_request(&req, KEY_CHR, KEY_CHR, OID_ECDSA_SHA256, P256_P, 32, 1);
    key = generate(&req, &reg, &type, &bits);
    sign_rs(key, msg, sizeof(msg), 32, rs);
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), rs, 64),
                     0x9000);
    /* Also without the 67 wrapper (the firmware skips it). */
    {
        const uint8_t *inner;
        size_t inner_len;
        assert_int_equal(sim_tlv_find(reg.data, reg.len, 0x67, &inner, &inner_len), 1);
        assert_int_equal(sim_pka_verify(inner, inner_len, NULL, NULL, msg, sizeof(msg), rs, 64),
                         0x9000);
    }
    /* Another challenge. */
    msg[23] ^= 1;
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), rs, 64),
                     0x6985);
    msg[23] ^= 1;
    /* A DER signature of the same hash is refused (verified 6985). */
    assert_int_equal(EVP_Digest(msg, sizeof(msg), h, NULL, EVP_sha256(), NULL), 1);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, der, &derlen, h, 32), 1);
    EVP_PKEY_CTX_free(ctx);
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), der, derlen),
                     0x6985);

    /* CAR UTCA00001 (OpenSC's) cannot be followed: 6985 (verified). */
    build_ec_request(&req, "UTCA00001", KEY_CHR, OID_ECDSA_SHA256, P256_P, 32, 1);
    key2 = generate(&req, &reg2, &type, &bits);
    sign_rs(key2, msg, sizeof(msg), 32, rs);
    assert_int_equal(
        sim_pka_verify(reg2.data, reg2.len, lookup_devcert, NULL, msg, sizeof(msg), rs, 64),
        0x6985);

    /* CAR = the device name: the curve comes from the self-issued 2F02. */
    build_ec_request(&req, DEV_NAME, KEY_CHR, OID_ECDSA_SHA256, P256_P, 32, 1);
    key3 = generate(&req, &reg3, &type, &bits);
    sign_rs(key3, msg, sizeof(msg), 32, rs);
    assert_int_equal(
        sim_pka_verify(reg3.data, reg3.len, lookup_devcert, NULL, msg, sizeof(msg), rs, 64),
        0x9000);
    assert_int_equal(sim_pka_verify(reg3.data, reg3.len, NULL, NULL, msg, sizeof(msg), rs, 64),
                     0x6985);

    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(key3);
    sim_bytes_free(&req);
    sim_bytes_free(&reg);
    sim_bytes_free(&reg2);
    sim_bytes_free(&reg3);
}

/* An RSA registration with the given OID: 7F21 { 7F4E { 42, 7F49 { 06, 81, 82 }, 5F20 } }. */
static void build_rsa_registration(sim_bytes *out, EVP_PKEY *key, const uint8_t *oid)
{
    sim_bytes tmpl = {0}, body = {0}, cert = {0};
    BIGNUM *n = NULL;
    uint8_t nb[128];

    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(BN_bn2binpad(n, nb, 128), 128);
    assert_int_equal(sim_tlv_put(&tmpl, 0x06, oid, 10), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x81, nb, 128), 0);
    assert_int_equal(sim_tlv_put(&tmpl, 0x82, (const uint8_t *)"\x01\x00\x01", 3), 0);
    assert_int_equal(sim_tlv_put(&body, 0x42, (const uint8_t *)"UTCA00001", 9), 0);
    assert_int_equal(sim_tlv_put(&body, 0x7F49, tmpl.data, tmpl.len), 0);
    assert_int_equal(sim_tlv_put(&body, 0x5F20, (const uint8_t *)KEY_CHR, 15), 0);
    assert_int_equal(sim_tlv_put(&cert, 0x7F4E, body.data, body.len), 0);
    sim_bytes_clear(out);
    assert_int_equal(sim_tlv_put(out, 0x7F21, cert.data, cert.len), 0);
    BN_free(n);
    sim_bytes_free(&tmpl);
    sim_bytes_free(&body);
    sim_bytes_free(&cert);
}

static void test_pka_verify_rsa(void **state)
{
    sim_bytes reg = {0};
    uint8_t msg[24], sig[128];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;

    (void)state;
    memcpy(msg, DEV_NAME, 16);
    memset(msg + 16, 0x77, 8);
    /* PKCS#1 v1.5: sha256WithRSAEncryption over M; the CAR does not matter for RSA. */
    build_rsa_registration(&reg, rsa_key, OID_RSA_V15_SHA256);
    assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, rsa_key, NULL), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), sig, siglen),
                     0x9000);
    assert_int_equal(
        sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), sig, siglen - 1), 0x6985);
    msg[0] ^= 1;
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), sig, siglen),
                     0x6985);
    msg[0] ^= 1;
    /* PSS with a salt of 20 bytes: any salt length is accepted. */
    build_rsa_registration(&reg, rsa_key, OID_RSA_PSS_SHA256);
    EVP_MD_CTX_free(md);
    md = EVP_MD_CTX_new();
    siglen = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, rsa_key, NULL), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), sig, siglen),
                     0x9000);
    /* The PKCS#1 v1.5 signature does not pass as PSS. */
    EVP_MD_CTX_free(md);
    md = EVP_MD_CTX_new();
    siglen = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, rsa_key, NULL), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
    assert_int_equal(sim_pka_verify(reg.data, reg.len, NULL, NULL, msg, sizeof(msg), sig, siglen),
                     0x6985);
    EVP_MD_CTX_free(md);
    sim_bytes_free(&reg);
}

/* ----------------------------------------------------------- PrKD, MKEK */

static void test_prkd_default(void **state)
{
    static const uint8_t ec1[] = {0xA0, 0x1A, 0x30, 0x02, 0x0C, 0x00, 0x30, 0x08, 0x04, 0x01,
                                  0x31, 0x03, 0x03, 0x07, 0x20, 0x80, 0xA1, 0x0A, 0x30, 0x08,
                                  0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x01, 0x00};
    static const uint8_t rsa12[] = {0x30, 0x1A, 0x30, 0x02, 0x0C, 0x00, 0x30, 0x08, 0x04, 0x02,
                                    0x31, 0x32, 0x03, 0x02, 0x02, 0x74, 0xA1, 0x0A, 0x30, 0x08,
                                    0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x08, 0x00};
    sim_bytes out = {0};

    (void)state;
    assert_int_equal(sim_prkd_default(SIM_KEY_EC, 1, 256, &out), 0);
    assert_int_equal(out.len, sizeof(ec1));
    assert_memory_equal(out.data, ec1, sizeof(ec1));
    assert_int_equal(sim_prkd_default(SIM_KEY_RSA, 12, 2048, &out), 0);
    assert_int_equal(out.len, sizeof(rsa12));
    assert_memory_equal(out.data, rsa12, sizeof(rsa12));
    /* P-521: the firmware records whole bytes, 66 * 8 = 528 = 02 10. */
    assert_int_equal(sim_prkd_default(SIM_KEY_EC, 255, 521, &out), 0);
    assert_memory_equal(out.data + 8, "\x04\x03\x32\x35\x35", 5);
    assert_memory_equal(out.data + out.len - 2, "\x02\x10", 2);
    assert_int_equal(sim_prkd_default(7, 1, 256, &out), -1);
    sim_bytes_free(&out);
}

static void test_seal_unseal(void **state)
{
    uint8_t mkek[32], other[32];
    sim_bytes sealed = {0}, plain = {0};

    (void)state;
    memset(mkek, 0x01, sizeof(mkek));
    memset(other, 0x02, sizeof(other));
    assert_int_equal(sim_seal(mkek, (const uint8_t *)"private key", 11, &sealed), 0);
    assert_int_equal(sealed.len, 12 + 11 + 16);
    assert_int_equal(sim_unseal(mkek, sealed.data, sealed.len, &plain), 0);
    assert_int_equal(plain.len, 11);
    assert_memory_equal(plain.data, "private key", 11);
    assert_int_equal(sim_unseal(other, sealed.data, sealed.len, &plain), -1);
    assert_int_equal(plain.len, 0);
    sealed.data[14] ^= 0x80;
    assert_int_equal(sim_unseal(mkek, sealed.data, sealed.len, &plain), -1);
    sealed.data[14] ^= 0x80;
    sealed.data[sealed.len - 1] ^= 0x01;
    assert_int_equal(sim_unseal(mkek, sealed.data, sealed.len, &plain), -1);
    assert_int_equal(sim_unseal(mkek, sealed.data, 27, &plain), -1);
    sim_bytes_free(&sealed);
    sim_bytes_free(&plain);
}

static void test_pin_derive(void **state)
{
    uint8_t salt[16], a[32], b[32], c[32], d[32];

    (void)state;
    memset(salt, 0x33, sizeof(salt));
    assert_int_equal(sim_pin_derive((const uint8_t *)"648219", 6, salt, "verifier", a), 0);
    assert_int_equal(sim_pin_derive((const uint8_t *)"648219", 6, salt, "verifier", b), 0);
    assert_memory_equal(a, b, 32);
    assert_int_equal(sim_pin_derive((const uint8_t *)"648219", 6, salt, "mkek", c), 0);
    assert_memory_not_equal(a, c, 32);
    assert_int_equal(sim_pin_derive((const uint8_t *)"648218", 6, salt, "verifier", d), 0);
    assert_memory_not_equal(a, d, 32);
    /* An empty PIN (PKA-only device) still derives. */
    assert_int_equal(sim_pin_derive(NULL, 0, salt, "verifier", d), 0);
    assert_int_equal(sim_random(a, sizeof(a)), 0);
}

/* The prime selects the curve, leading zeros ignored (6.3). */
static void test_curves_by_prime(void **state)
{
    static const char *const names[] = {"prime192v1",      "prime256v1",      "secp384r1",
                                        "secp521r1",       "brainpoolP256r1", "brainpoolP384r1",
                                        "brainpoolP512r1", "secp192k1",       "secp256k1"};
    uint8_t buf[80];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const sim_curve *c = sim_curve_by_name(names[i]);
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", names[i]);
        BIGNUM *p = NULL;

        assert_non_null(c);
        assert_non_null(k);
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_P, &p), 1);
        assert_int_equal((size_t)BN_num_bytes(p), c->field_len);
        buf[0] = 0x00;
        assert_int_equal(BN_bn2binpad(p, buf + 1, (int)c->field_len), (int)c->field_len);
        assert_ptr_equal(sim_curve_by_prime(buf + 1, c->field_len), c);
        assert_ptr_equal(sim_curve_by_prime(buf, c->field_len + 1), c);
        BN_free(p);
        EVP_PKEY_free(k);
    }
    assert_null(sim_curve_by_prime(P224_P, sizeof(P224_P)));
    assert_ptr_equal(sim_curve_by_name("secp256r1"), sim_curve_by_name("prime256v1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cvc_parse_registration),
        cmocka_unit_test(test_curves_by_prime),
        cmocka_unit_test(test_gakp_ec_p256_layout),
        cmocka_unit_test(test_gakp_ec_p384_prime_only_defaults),
        cmocka_unit_test(test_gakp_errors),
        cmocka_unit_test(test_gakp_rsa_1024),
        cmocka_unit_test_setup_teardown(test_sign_ec, keys_setup, keys_teardown),
        cmocka_unit_test_setup_teardown(test_sign_rsa, keys_setup, keys_teardown),
        cmocka_unit_test_setup_teardown(test_rsa_raw_short_input_right_padded, keys_setup,
                                        keys_teardown),
        cmocka_unit_test_setup_teardown(test_decipher_rsa, keys_setup, keys_teardown),
        cmocka_unit_test_setup_teardown(test_decipher_ecdh, keys_setup, keys_teardown),
        cmocka_unit_test(test_devkey_certificate),
        cmocka_unit_test(test_pka_verify_ec),
        cmocka_unit_test_setup_teardown(test_pka_verify_rsa, keys_setup, keys_teardown),
        cmocka_unit_test(test_prkd_default),
        cmocka_unit_test(test_seal_unseal),
        cmocka_unit_test(test_pin_derive),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
