/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side CV objects (common/cvc.c): key generation requests and public keys (6.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "crypto.h" /* the sim's verifier: an independent reading of the same bytes */
#include "cvc.h"

static void test_keygen_request_rsa(void **state)
{
    /* 5F29 00, 7F49 { id-TA-RSA-v1-5-SHA-256, 82 e = 65537, 02 bits = 2048 } */
    static const uint8_t want[] = {0x5F, 0x29, 0x01, 0x00, 0x7F, 0x49, 0x15, 0x06, 0x0A, 0x04,
                                   0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02, 0x82,
                                   0x03, 0x01, 0x00, 0x01, 0x02, 0x02, 0x08, 0x00};
    uint8_t *req;
    size_t len;

    assert_int_equal(pico_cvc_keygen_request(PICO_KEY_RSA, 2048, NULL, &req, &len), PICO_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(req, want, len);
    free(req);
    assert_int_equal(pico_cvc_keygen_request(PICO_KEY_RSA, 512, NULL, &req, &len),
                     PICO_E_UNSUPPORTED);
}

/* 6.2: 90 04 use counter, 91 L allowed algorithms, 92 01 domain, after the 7F49 template */
static void test_keygen_request_policy(void **state)
{
    static const uint8_t want[] = {
        0x5F, 0x29, 0x01, 0x00, 0x7F, 0x49, 0x15, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02,
        0x02, 0x02, 0x01, 0x02, 0x82, 0x03, 0x01, 0x00, 0x01, 0x02, 0x02, 0x08, 0x00, 0x90, 0x04,
        0x00, 0x00, 0x01, 0x02, 0x91, 0x05, 0x40, 0x21, 0x22, 0x23, 0x92, 0x92, 0x01, 0x07};
    pico_key_policy p;
    uint8_t *req;
    size_t len;

    pico_key_policy_init(&p);
    p.has_counter = 1;
    p.use_counter = 258;
    p.domain = 7;
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_RSA, "rsa-pss,rsa-decrypt,wrap,rsa-pss"),
                     PICO_OK);
    assert_int_equal(pico_cvc_keygen_request_policy(PICO_KEY_RSA, 2048, NULL, &p, &req, &len),
                     PICO_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(req, want, len);
    free(req);
    /* an empty policy adds nothing */
    pico_key_policy_init(&p);
    assert_int_equal(pico_cvc_keygen_request_policy(PICO_KEY_RSA, 2048, NULL, &p, &req, &len),
                     PICO_OK);
    assert_int_equal(len, 28);
    free(req);
}

/* The names: those of the key's type only; the name of a byte back */
static void test_policy_names(void **state)
{
    pico_key_policy p;

    pico_key_policy_init(&p);
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_EC, "ecdsa,ecdsa-sha256,ecdh"), PICO_OK);
    assert_int_equal(p.nalgs, 3);
    assert_memory_equal(p.algs, "\x70\x73\x80", 3);
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_EC, "rsa-pss"), PICO_E_ARGS);
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_EC, "ecdsa,,ecdh"), PICO_E_ARGS);
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_EC, "sign"), PICO_E_ARGS);
    assert_int_equal(pico_key_policy_add_algs(&p, PICO_KEY_X25519, "ecdsa"), PICO_E_ARGS);
    assert_string_equal(pico_key_policy_alg_name(0x70), "ecdsa");
    assert_string_equal(pico_key_policy_alg_name(0x20), "rsa-pkcs1");
    assert_string_equal(pico_key_policy_alg_name(0x22), "rsa-decrypt");
    assert_string_equal(pico_key_policy_alg_name(0x92), "wrap");
    assert_null(pico_key_policy_alg_name(0x98));
    ERR_clear_error();
}

static void test_keygen_request_ec(void **state)
{
    uint8_t *req;
    size_t len;

    assert_int_equal(pico_cvc_keygen_request(PICO_KEY_EC, 0, "prime256v1", &req, &len), PICO_OK);
    /* 5F29 01 00 7F49 81 xx 06 0A <ECDSA-SHA-256> 81 20 <p = FFFFFFFF00000001...> */
    assert_memory_equal(req, "\x5F\x29\x01\x00\x7F\x49\x81", 7);
    assert_memory_equal(req + 8, "\x06\x0A\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 12);
    assert_memory_equal(req + 20, "\x81\x20\xFF\xFF\xFF\xFF\x00\x00\x00\x01", 10);
    assert_int_equal(req[len - 3], 0x87);
    free(req);
    /* 6.3: secp224r1 and the t1 curves are not on the device */
    assert_int_equal(pico_cvc_keygen_request(PICO_KEY_EC, 0, "secp224r1", &req, &len),
                     PICO_E_UNSUPPORTED);
    assert_int_equal(pico_cvc_keygen_request(PICO_KEY_EC, 0, "brainpoolP256t1", &req, &len),
                     PICO_E_UNSUPPORTED);
}

/* Appends tag, a one- or two-byte length (81 xx / 82 xx xx) and the value. */
static uint8_t *put(uint8_t *k, unsigned tag, const uint8_t *v, size_t n)
{
    if (tag > 0xFF)
        *k++ = (uint8_t)(tag >> 8);
    *k++ = (uint8_t)tag;
    if (n >= 0x100)
        *k++ = 0x82, *k++ = (uint8_t)(n >> 8);
    else if (n >= 0x80)
        *k++ = 0x81;
    *k++ = (uint8_t)n;
    memcpy(k, v, n);
    return k + n;
}

static uint8_t *put_bn(uint8_t *k, unsigned tag, const BIGNUM *bn, size_t width)
{
    uint8_t tmp[80];

    assert_true(width <= sizeof(tmp));
    assert_int_equal(BN_bn2binpad(bn, tmp, (int)width), (int)width);
    return put(k, tag, tmp, width);
}

/*
 * Builds the CV request a device answers to key generation (6.2), around an EC
 * key: 67 { 7F21 { 7F4E { 5F29, 42 CAR, 7F49 { 06 id-TA-ECDSA-SHA-256, 81 p,
 * 82 a, 83 b, 84 G, 85 order, 86 Q, 87 01 01 }, 5F20 CHR } } }. libcvc (the
 * current firmware) writes p, a, b and the order field-length; firmware 6.6
 * (v66) writes each at its own size, a = 0 (the k1 curves) as one zero byte.
 */
static size_t make_cv_request(EVP_PKEY *key, int v66, uint8_t *out)
{
    uint8_t q[133], G[133], *p = out, body[900], *b = body, pk[800], *k = pk;
    size_t qlen = 0, glen, w, n;
    BIGNUM *bp = BN_new(), *ba = BN_new(), *bb = BN_new();
    char name[64];
    EC_GROUP *g;
    const BIGNUM *order;

    assert_int_equal(EVP_PKEY_get_group_name(key, name, sizeof(name), NULL), 1);
    g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(name));
    assert_non_null(g);
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qlen);
    EC_GROUP_get_curve(g, bp, ba, bb, NULL);
    order = EC_GROUP_get0_order(g);
    w = (size_t)BN_num_bytes(bp);
    glen = EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED, G,
                              sizeof(G), NULL);
    k = put(k, 0x06, (const uint8_t *)"\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 10);
    k = put_bn(k, 0x81, bp, w);
    if (v66) {
        k = put_bn(k, 0x82, ba, BN_is_zero(ba) ? 1 : (size_t)BN_num_bytes(ba));
        k = put_bn(k, 0x83, bb, (size_t)BN_num_bytes(bb));
    } else {
        k = put_bn(k, 0x82, ba, w);
        k = put_bn(k, 0x83, bb, w);
    }
    k = put(k, 0x84, G, glen);
    n = (size_t)BN_num_bytes(order);
    k = put_bn(k, 0x85, order, v66 || n > w ? n : w);
    k = put(k, 0x86, q, qlen);
    k = put(k, 0x87, (const uint8_t *)"\x01", 1);
    b = put(b, 0x5F29, (const uint8_t *)"\x00", 1);
    b = put(b, 0x42, (const uint8_t *)"CAR", 3);
    b = put(b, 0x7F49, pk, (size_t)(k - pk));
    b = put(b, 0x5F20, (const uint8_t *)"CHR", 3);
    k = put(pk, 0x7F4E, body, (size_t)(b - body));
    b = put(body, 0x7F21, pk, (size_t)(k - pk));
    p = put(out, 0x67, body, (size_t)(b - body));
    BN_free(bp);
    BN_free(ba);
    BN_free(bb);
    EC_GROUP_free(g);
    return (size_t)(p - out);
}

static void test_public_key_from_cv_request(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256"), *pub = NULL;
    uint8_t cv[1200];
    size_t len = make_cv_request(key, 0, cv);
    const uint8_t *chr;
    size_t chr_len;
    char curve[32];
    int bits = 0;

    assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &bits), PICO_OK);
    assert_string_equal(curve, "prime256v1");
    assert_int_equal(bits, 256);
    assert_int_equal(EVP_PKEY_eq(key, pub), 1);
    assert_int_equal(pico_cvc_chr(cv, len, &chr, &chr_len), PICO_OK);
    assert_int_equal(chr_len, 3);
    assert_memory_equal(chr, "CHR", 3);
    EVP_PKEY_free(pub);
    /* truncated: an error, not a read past the end */
    assert_int_equal(pico_cvc_public_key(cv, len - 10, &pub, curve, sizeof(curve), &bits),
                     PICO_E_BAD_RESPONSE);
    assert_null(pub);
    EVP_PKEY_free(key);
}

/* The curves of 6.3 (firmware: pico-keys-sdk ec_curves_mbed), their field sizes and primes'
 * first bytes: the key generation request and the public key read back, both answer forms. */
static const struct {
    const char *name;
    int bits;
    uint8_t p0[4];
} firmware_curves[] = {
    {"prime192v1", 192, {0xFF, 0xFF, 0xFF, 0xFF}},
    {"prime256v1", 256, {0xFF, 0xFF, 0xFF, 0xFF}},
    {"secp384r1", 384, {0xFF, 0xFF, 0xFF, 0xFF}},
    {"secp521r1", 521, {0x01, 0xFF, 0xFF, 0xFF}},
    {"brainpoolP256r1", 256, {0xA9, 0xFB, 0x57, 0xDB}},
    {"brainpoolP384r1", 384, {0x8C, 0xB9, 0x1E, 0x82}},
    {"brainpoolP512r1", 512, {0xAA, 0xDD, 0x9D, 0xB8}},
    {"secp192k1", 192, {0xFF, 0xFF, 0xFF, 0xFF}},
    {"secp256k1", 256, {0xFF, 0xFF, 0xFF, 0xFF}},
};

static void test_every_firmware_curve(void **state)
{
    size_t i, n = 0;
    int v66;

    for (i = 0; pico_cvc_curves[i] != NULL; i++)
        n++;
    /* the host's table is the firmware's, no more, no less */
    assert_int_equal(n, sizeof(firmware_curves) / sizeof(firmware_curves[0]));
    for (i = 0; i < n; i++) {
        const char *name = firmware_curves[i].name;
        size_t w = ((size_t)firmware_curves[i].bits + 7) / 8, len;
        EVP_PKEY *key = EVP_EC_gen(name), *pub = NULL;
        uint8_t *req, cv[1200];
        char curve[32];
        int bits = 0;

        print_message("curve %s\n", name);
        assert_non_null(key);
        /* key generation: 5F29 01 00, 7F49 { 06 0A <ECDSA-SHA-256>, 81 <w> p, ... } */
        assert_int_equal(pico_cvc_keygen_request(PICO_KEY_EC, 0, name, &req, &len), PICO_OK);
        assert_memory_equal(req, "\x5F\x29\x01\x00\x7F\x49", 6);
        {
            size_t at = req[6] == 0x82 ? 9 : req[6] == 0x81 ? 8 : 7;
            assert_memory_equal(req + at, "\x06\x0A\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 12);
            assert_int_equal(req[at + 12], 0x81);
            assert_int_equal(req[at + 13], w);
            assert_memory_equal(req + at + 14, firmware_curves[i].p0, 4);
        }
        free(req);
        for (v66 = 0; v66 <= 1; v66++) {
            len = make_cv_request(key, v66, cv);
            assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &bits),
                             PICO_OK);
            assert_string_equal(curve, name);
            assert_int_equal(bits, firmware_curves[i].bits);
            assert_int_equal(EVP_PKEY_eq(key, pub), 1);
            EVP_PKEY_free(pub);
            pub = NULL;
        }
        EVP_PKEY_free(key);
    }
}

static void test_curve_not_on_firmware(void **state)
{
    /* secp224r1 (6A81 on the device): a CV key on it is not taken for another curve */
    EVP_PKEY *key = EVP_EC_gen("secp224r1"), *pub = NULL;
    uint8_t cv[1200];
    size_t len = make_cv_request(key, 0, cv);
    char curve[32];
    int bits = 0;

    assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &bits),
                     PICO_E_UNSUPPORTED);
    assert_null(pub);
    EVP_PKEY_free(key);
    /* brainpoolP256t1 shares brainpoolP256r1's prime but not its a: not recognised either */
    key = EVP_EC_gen("brainpoolP256t1");
    len = make_cv_request(key, 0, cv);
    assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &bits),
                     PICO_E_UNSUPPORTED);
    EVP_PKEY_free(key);
}

/* A software PKA signer, as EXTERNAL AUTHENTICATE wants it (5.6). */
static pico_err soft_sign(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    EVP_PKEY *key = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[600];
    size_t der_len = sizeof(der);
    pico_err err = PICO_E_INTERNAL;

    if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg, len) != 1)
        goto end;
    if (EVP_PKEY_is_a(key, "EC")) {
        /* DER to r || s, each the field length */
        const uint8_t *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        int w = (EVP_PKEY_get_bits(key) + 7) / 8;
        if (es == NULL)
            goto end;
        BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, w);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + w, w);
        *sig_len = (size_t)(2 * w);
        ECDSA_SIG_free(es);
    } else {
        memcpy(sig, der, der_len);
        *sig_len = der_len;
    }
    err = PICO_OK;
end:
    EVP_MD_CTX_free(md);
    return err;
}

static void pka_request_roundtrip(EVP_PKEY *key, const char *want_curve)
{
    static const char chr[] = "PK0123456789A00001";
    static const uint8_t msg[] = "ESPICOHSMTR00001\x84\xB9\x7D\x43\x88\xE8\x4A\x76";
    uint8_t *req = NULL, sig[600];
    const uint8_t *c;
    size_t len = 0, c_len, sig_len = sizeof(sig);
    EVP_PKEY *pub = NULL;
    char curve[32] = "";
    int bits = 0;

    assert_int_equal(pico_cvc_pka_request(key, chr, soft_sign, key, &req, &len), PICO_OK);
    /* 67 { 7F21 { 7F4E ... } 42 outer CAR, 5F37 } */
    assert_int_equal(req[0], 0x67);
    assert_int_equal(pico_cvc_chr(req, len, &c, &c_len), PICO_OK);
    assert_int_equal(c_len, strlen(chr));
    assert_memory_equal(c, chr, c_len);
    /* the public key comes back whole, on its named curve */
    assert_int_equal(pico_cvc_public_key(req, len, &pub, curve, sizeof(curve), &bits), PICO_OK);
    assert_int_equal(EVP_PKEY_eq(pub, key), 1);
    if (want_curve != NULL)
        assert_string_equal(curve, want_curve);
    /* the sim accepts a signature by the key over dev_name || challenge, with no
     * certificate to follow (CAR = CHR), and refuses one over other bytes */
    assert_int_equal(soft_sign(key, msg, sizeof(msg) - 1, sig, &sig_len), PICO_OK);
    assert_int_equal(sim_pka_verify(req, len, NULL, NULL, msg, sizeof(msg) - 1, sig, sig_len),
                     0x9000);
    assert_int_equal(sim_pka_verify(req, len, NULL, NULL, msg, sizeof(msg) - 2, sig, sig_len),
                     0x6985);
    EVP_PKEY_free(pub);
    free(req);
}

static void test_pka_request_ec(void **state)
{
    EVP_PKEY *p256 = EVP_EC_gen("P-256"), *bp = EVP_EC_gen("brainpoolP256r1"),
             *p521 = EVP_EC_gen("P-521");

    assert_non_null(p256);
    pka_request_roundtrip(p256, "prime256v1");
    pka_request_roundtrip(bp, "brainpoolP256r1");
    pka_request_roundtrip(p521, "secp521r1");
    EVP_PKEY_free(p256);
    EVP_PKEY_free(bp);
    EVP_PKEY_free(p521);
}

static void test_pka_request_rsa(void **state)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048);

    assert_non_null(rsa);
    pka_request_roundtrip(rsa, NULL);
    EVP_PKEY_free(rsa);
}

static void test_pka_request_bad_chr(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    uint8_t *req = NULL;
    size_t len;

    assert_int_equal(pico_cvc_pka_request(key, "", soft_sign, key, &req, &len), PICO_E_ARGS);
    assert_null(req);
    EVP_PKEY_free(key);
}

/* An RSA key whose modulus or exponent is empty, zero or even is a malformed answer: OpenSSL
 * builds a key of 0 bits from it (found by test/fuzz/fuzz_cvc), which every size computed
 * from the key then trusts. */
static void test_rsa_public_key_degenerate(void **state)
{
    static const uint8_t n1024_head[] = {0xC3, 0x5A};
    static const struct {
        size_t n_len; /* 0: empty */
        uint8_t n_last;
        const char *e;
        size_t e_len;
    } bad[] = {
        {0, 0, "\x01\x00\x01", 3},      /* empty modulus */
        {1, 0x00, "\x01\x00\x01", 3},   /* modulus 0 */
        {128, 0x02, "\x01\x00\x01", 3}, /* even modulus */
        {32, 0x01, "\x01\x00\x01", 3},  /* 256 bits */
        {128, 0x01, "", 0},             /* empty exponent */
        {128, 0x01, "\x00", 1},         /* exponent 0 */
        {128, 0x01, "\x01", 1},         /* exponent 1 */
        {128, 0x01, "\x01\x00\x00", 3}, /* even exponent */
    };
    uint8_t cv[400], pk[300], body[320], n[128], *k, *b;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EVP_PKEY *pub = NULL;
        char curve[32];
        int bits = -1;
        size_t len;

        memset(n, 0x77, sizeof(n));
        memcpy(n, n1024_head, sizeof(n1024_head));
        if (bad[i].n_len > 0)
            n[bad[i].n_len - 1] = bad[i].n_last;
        if (bad[i].n_len == 1)
            n[0] = bad[i].n_last;
        k = put(pk, 0x06, (const uint8_t *)"\x04\x00\x7F\x00\x07\x02\x02\x02\x01\x02", 10);
        k = put(k, 0x81, n, bad[i].n_len);
        k = put(k, 0x82, (const uint8_t *)bad[i].e, bad[i].e_len);
        b = put(body, 0x7F49, pk, (size_t)(k - pk));
        k = put(pk, 0x7F4E, body, (size_t)(b - body));
        len = (size_t)(put(cv, 0x7F21, pk, (size_t)(k - pk)) - cv);
        assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &bits),
                         PICO_E_BAD_RESPONSE);
        assert_null(pub);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_request_rsa),
        cmocka_unit_test(test_pka_request_ec),
        cmocka_unit_test(test_pka_request_rsa),
        cmocka_unit_test(test_pka_request_bad_chr),
        cmocka_unit_test(test_keygen_request_policy),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_keygen_request_ec),
        cmocka_unit_test(test_public_key_from_cv_request),
        cmocka_unit_test(test_every_firmware_curve),
        cmocka_unit_test(test_curve_not_on_firmware),
        cmocka_unit_test(test_rsa_public_key_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
