/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of a key import cleanses what it held of the private key: while the DKEK
 * key blob is built (and opened again), no heap block OpenSSL's allocator frees still
 * holds the private key's d, or the DKEK-derived keys (common/keyblob.c: the plaintext
 * blob, the BIGNUMs it read, the buffers it grew). The test's allocator looks into every
 * block as it is freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "keyblob.h"

static uint8_t secret[512]; /* d, big-endian */
static size_t secret_len;
static int watching, leaked;

/* A size header before each block, so that free can look at the whole of it. */
static void *t_malloc(size_t n, const char *file, int line)
{
    size_t *p = malloc(n + sizeof(size_t) * 2);

    (void)file;
    (void)line;
    if (p == NULL)
        return NULL;
    p[0] = n;
    return p + 2;
}

static void t_free(void *q, const char *file, int line)
{
    size_t *p = q != NULL ? (size_t *)q - 2 : NULL;

    (void)file;
    (void)line;
    if (p == NULL)
        return;
    /* 16 bytes of d suffice to say it was left there */
    if (watching && secret_len >= 16 && p[0] >= 16 && memmem(q, p[0], secret + 4, 16) != NULL)
        leaked++;
    free(p);
}

static void *t_realloc(void *q, size_t n, const char *file, int line)
{
    size_t *p = q != NULL ? (size_t *)q - 2 : NULL;
    void *r = t_malloc(n, file, line);

    if (r != NULL && p != NULL)
        memcpy(r, q, p[0] < n ? p[0] : n);
    t_free(q, file, line);
    return r;
}

static void remember_d(EVP_PKEY *key)
{
    BIGNUM *d = NULL;
    const char *name = EVP_PKEY_is_a(key, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;

    assert_true(EVP_PKEY_get_bn_param(key, name, &d));
    secret_len = (size_t)BN_num_bytes(d);
    assert_true(secret_len <= sizeof(secret));
    BN_bn2bin(d, secret);
    BN_clear_free(d);
}

static void build_and_open(EVP_PKEY *key)
{
    uint8_t dkek[32], *blob = NULL;
    size_t len = 0;
    EVP_PKEY *back = NULL;

    for (int i = 0; i < 32; i++)
        dkek[i] = (uint8_t)(i * 7);
    remember_d(key);
    leaked = 0;
    watching = 1;
    assert_int_equal(pico_keyblob_build(dkek, key, NULL, 0, &blob, &len), PICO_OK);
    assert_int_equal(pico_keyblob_open(dkek, blob, len, &back), PICO_OK);
    watching = 0;
    assert_int_equal(leaked, 0);
    /* the test sees a leak: freeing the rebuilt key without cleansing would be one */
    assert_non_null(back);
    EVP_PKEY_free(back);
    free(blob);
}

static void test_ec_build_open_cleansed(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");

    (void)state;
    build_and_open(key);
    EVP_PKEY_free(key);
}

static void test_rsa_build_open_cleansed(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

    (void)state;
    build_and_open(key);
    EVP_PKEY_free(key);
}

/* The check itself finds d in a block freed uncleansed. */
static void test_detector_sees_a_leak(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    uint8_t *copy;

    (void)state;
    remember_d(key);
    copy = OPENSSL_malloc(secret_len);
    memcpy(copy, secret, secret_len);
    leaked = 0;
    watching = 1;
    OPENSSL_free(copy);
    watching = 0;
    assert_int_equal(leaked, 1);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detector_sees_a_leak),
        cmocka_unit_test(test_ec_build_open_cleansed),
        cmocka_unit_test(test_rsa_build_open_cleansed),
    };

    if (!CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free))
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
