/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK key blob (sc-hsm-protocol.md 8.2): the host's common/keyblob.c against the
 * virtual device's own code for it (sim/crypto_wrap.c), both ways, on RSA and every curve;
 * a blob changed in one byte fails its MAC on both sides; sc-hsm-tool's wrapped-key file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "crypto_wrap.h" /* the sim's blob: an independent reading of the same bytes */
#include "cvc.h"
#include "keyblob.h"

/* DKEK 00 01 .. 1F: its KCV as the firmware shows it (8.1, verified on the device) */
static uint8_t dkek[32];
static const uint8_t dkek_kcv[8] = {0x63, 0x0D, 0xCD, 0x29, 0x66, 0xC4, 0x33, 0x66};

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 32; i++)
        dkek[i] = (uint8_t)i;
    return 0;
}

static int same_public(EVP_PKEY *a, EVP_PKEY *b)
{
    return EVP_PKEY_eq(a, b) == 1;
}

static int same_private(EVP_PKEY *a, EVP_PKEY *b, const char *name)
{
    BIGNUM *x = NULL, *y = NULL;
    int eq;

    assert_true(EVP_PKEY_get_bn_param(a, name, &x));
    assert_true(EVP_PKEY_get_bn_param(b, name, &y));
    eq = BN_cmp(x, y) == 0;
    BN_free(x);
    BN_free(y);
    return eq;
}

/* Bytes before the encrypted part: KCV, type, OID, algorithms, 4 zeros. */
static size_t header_len(const uint8_t *blob)
{
    size_t algs = (size_t)blob[21] << 8 | blob[22];
    return 9 + 12 + 2 + algs + 4;
}

static void test_kcv_vector(void **state)
{
    uint8_t kcv[8];

    (void)state;
    assert_int_equal(pico_keyblob_kcv(dkek, kcv), PICO_OK);
    assert_memory_equal(kcv, dkek_kcv, 8);
    assert_int_equal(sim_dkek_kcv(dkek, kcv), 0);
    assert_memory_equal(kcv, dkek_kcv, 8);
}

/* host blob -> sim; sim blob -> host; the same layout; one changed byte fails both */
static void both_ways(EVP_PKEY *key)
{
    static const uint8_t algs[] = {0x70, 0x92};
    uint8_t *hb = NULL;
    size_t hl = 0, i;
    sim_bytes sb = {0};
    sim_blob_key sk;
    EVP_PKEY *back = NULL;
    int rsa = EVP_PKEY_is_a(key, "RSA");

    assert_int_equal(pico_keyblob_build(dkek, key, algs, sizeof(algs), &hb, &hl), PICO_OK);
    assert_int_equal(sim_dkek_blob_decode(dkek, hb, hl, &sk), SIM_BLOB_OK);
    assert_true(same_public(sk.stored, key));
    assert_true(
        same_private(sk.stored, key, rsa ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_PRIV_KEY));
    assert_int_equal(sk.algs_len, sizeof(algs));
    assert_memory_equal(sk.algs, algs, sizeof(algs));
    sim_blob_key_free(&sk);

    assert_int_equal(sim_dkek_blob_encode(dkek, key, algs, sizeof(algs), &sb), 0);
    assert_int_equal(pico_keyblob_open(dkek, sb.data, sb.len, &back), PICO_OK);
    assert_true(same_public(back, key));
    assert_true(same_private(back, key, rsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY));
    EVP_PKEY_free(back);
    back = NULL;
    /* the same format: only the random bytes (encrypted) and the MAC differ */
    assert_int_equal(sb.len, hl);
    assert_int_equal(header_len(sb.data), header_len(hb));
    assert_memory_equal(sb.data, hb, header_len(hb));
    assert_memory_equal(hb, dkek_kcv, 8);

    /* one byte changed anywhere after the KCV: the MAC fails on both sides */
    for (i = 8; i < hl; i += (hl - 8) / 7) {
        hb[i] ^= 0x01;
        assert_int_not_equal(pico_keyblob_open(dkek, hb, hl, &back), PICO_OK);
        assert_null(back);
        assert_int_equal(sim_dkek_blob_decode(dkek, hb, hl, &sk), SIM_BLOB_BAD);
        hb[i] ^= 0x01;
    }
    hb[hl - 1] ^= 0x80;
    assert_int_equal(sim_dkek_blob_decode(dkek, hb, hl, &sk), SIM_BLOB_BAD);
    hb[hl - 1] ^= 0x80;
    /* another DKEK: its KCV differs, the device tries its next domain */
    hb[0] ^= 0x01;
    assert_int_equal(sim_dkek_blob_decode(dkek, hb, hl, &sk), SIM_BLOB_WRONG_DKEK);
    assert_int_not_equal(pico_keyblob_open(dkek, hb, hl, &back), PICO_OK);
    free(hb);
    sim_bytes_free(&sb);
}

static void test_every_curve_both_ways(void **state)
{
    (void)state;
    for (size_t i = 0; pico_cvc_curves[i] != NULL; i++) {
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", pico_cvc_curves[i]);
        assert_non_null(key);
        both_ways(key);
        EVP_PKEY_free(key);
    }
}

static void test_rsa_both_ways(void **state)
{
    static const size_t sizes[] = {1024, 2048, 4096};

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", sizes[i]);
        assert_non_null(key);
        both_ways(key);
        EVP_PKEY_free(key);
    }
}

/* P-256 key blob fields, firmware sizes: a empty (a = -3), b, p 32, order 32, G 65, Q 65 */
static void test_ec_field_sizes(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    sim_bytes sb = {0};

    (void)state;
    assert_int_equal(sim_dkek_blob_encode(dkek, key, NULL, 0, &sb), 0);
    assert_int_equal(sb.data[8], 0x0C);
    assert_memory_equal(sb.data + 9, "\x00\x0A\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 12);
    assert_memory_equal(sb.data + 21, "\x00\x00\x00\x00\x00\x00", 6);
    /* 8 random, size 2, a 2, b 2+32, p 2+32, n 2+32, G 2+65, d 2+<=32, Q 2+65: 17 or 18 blocks */
    assert_true(sb.len == 27 + 16 * 18 + 16 || sb.len == 27 + 16 * 17 + 16);
    sim_bytes_free(&sb);
    EVP_PKEY_free(key);
}

static EVP_PKEY *rsa_e3(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BIGNUM *e = BN_new();
    EVP_PKEY *key = NULL;

    assert_true(BN_set_word(e, 3));
    assert_true(EVP_PKEY_keygen_init(ctx) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024) > 0);
    assert_true(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) > 0);
    assert_true(EVP_PKEY_keygen(ctx, &key) > 0);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static void test_refuses_what_the_device_mangles(void **state)
{
    EVP_PKEY *key = rsa_e3(), *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"),
             *k224 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp224r1");
    uint8_t *b = NULL;
    size_t n = 0;
    sim_bytes sb = {0};
    sim_blob_key sk;
    BIGNUM *e = NULL;

    (void)state;
    assert_int_equal(pico_keyblob_check_key(key), PICO_E_UNSUPPORTED);
    assert_int_equal(pico_keyblob_build(dkek, key, NULL, 0, &b, &n), PICO_E_UNSUPPORTED);
    assert_null(b);
    assert_int_equal(pico_keyblob_check_key(k224), PICO_E_UNSUPPORTED);
    assert_int_equal(pico_keyblob_check_key(x), PICO_E_UNSUPPORTED);
    /* why: the device would keep p, q and use e = 65537 (what the sim models) */
    assert_int_equal(sim_dkek_blob_encode(dkek, key, NULL, 0, &sb), 0);
    assert_int_equal(sim_dkek_blob_decode(dkek, sb.data, sb.len, &sk), SIM_BLOB_OK);
    assert_true(EVP_PKEY_get_bn_param(sk.stored, OSSL_PKEY_PARAM_RSA_E, &e));
    assert_true(BN_is_word(e, 65537));
    assert_false(same_public(sk.stored, key));
    assert_true(same_public(sk.cvkey, key));
    BN_free(e);
    sim_blob_key_free(&sk);
    sim_bytes_free(&sb);
    EVP_PKEY_free(key);
    EVP_PKEY_free(x);
    EVP_PKEY_free(k224);
}

static void test_wrapfile(void **state)
{
    static const uint8_t blob[300] = {1, 2, 3};
    static const uint8_t prkd[] = {0xA0, 0x03, 0x30, 0x01, 0x00};
    static const uint8_t cert[] = {0x67, 0x02, 0x01, 0x02};
    const uint8_t *b, *p, *c;
    size_t bl, pl, cl, n;
    uint8_t *f;

    (void)state;
    assert_int_equal(
        pico_wrapfile_encode(blob, sizeof(blob), prkd, sizeof(prkd), cert, sizeof(cert), &f, &n),
        PICO_OK);
    /* 30 82 01 39 { 04 82 01 2C <blob> <prkd> <cert> } */
    assert_memory_equal(f, "\x30\x82\x01\x39\x04\x82\x01\x2C\x01\x02\x03", 11);
    assert_int_equal(n, 4 + 4 + 300 + 5 + 4);
    assert_int_equal(pico_wrapfile_decode(f, n, &b, &bl, &p, &pl, &c, &cl), PICO_OK);
    assert_int_equal(bl, sizeof(blob));
    assert_memory_equal(b, blob, bl);
    assert_int_equal(pl, sizeof(prkd));
    assert_memory_equal(p, prkd, pl);
    assert_int_equal(cl, sizeof(cert));
    assert_memory_equal(c, cert, cl);
    free(f);
    assert_int_equal(pico_wrapfile_encode(blob, 3, prkd, sizeof(prkd), NULL, 0, &f, &n), PICO_OK);
    assert_int_equal(pico_wrapfile_decode(f, n, &b, &bl, &p, &pl, &c, &cl), PICO_OK);
    assert_null(c);
    assert_int_equal(pico_wrapfile_decode(f, n - 1, &b, &bl, &p, &pl, &c, &cl), PICO_E_FILE);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcv_vector),
        cmocka_unit_test(test_every_curve_both_ways),
        cmocka_unit_test(test_rsa_both_ways),
        cmocka_unit_test(test_ec_field_sizes),
        cmocka_unit_test(test_refuses_what_the_device_mangles),
        cmocka_unit_test(test_wrapfile),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
