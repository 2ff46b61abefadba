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
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "cvc.h"

static void test_keygen_request_rsa(void **state)
{
    /* 5F29 00, 7F49 { id-TA-RSA-v1-5-SHA-256, 82 e = 65537, 02 bits = 2048 } */
    static const uint8_t want[] = {0x5F, 0x29, 0x01, 0x00, 0x7F, 0x49, 0x15, 0x06, 0x0A, 0x04,
                                   0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02, 0x82,
                                   0x03, 0x01, 0x00, 0x01, 0x02, 0x02, 0x08, 0x00};
    uint8_t *req;
    size_t len;

    assert_int_equal(pico_cvc_keygen_request(0, 2048, NULL, &req, &len), PICO_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(req, want, len);
    free(req);
    assert_int_equal(pico_cvc_keygen_request(0, 512, NULL, &req, &len), PICO_E_UNSUPPORTED);
}

static void test_keygen_request_ec(void **state)
{
    uint8_t *req;
    size_t len;

    assert_int_equal(pico_cvc_keygen_request(1, 0, "prime256v1", &req, &len), PICO_OK);
    /* 5F29 01 00 7F49 81 xx 06 0A <ECDSA-SHA-256> 81 20 <p = FFFFFFFF00000001...> */
    assert_memory_equal(req, "\x5F\x29\x01\x00\x7F\x49\x81", 7);
    assert_memory_equal(req + 8, "\x06\x0A\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 12);
    assert_memory_equal(req + 20, "\x81\x20\xFF\xFF\xFF\xFF\x00\x00\x00\x01", 10);
    assert_int_equal(req[len - 3], 0x87);
    free(req);
    /* 6.3: secp224r1 and the t1 curves are not on the device */
    assert_int_equal(pico_cvc_keygen_request(1, 0, "secp224r1", &req, &len), PICO_E_UNSUPPORTED);
    assert_int_equal(pico_cvc_keygen_request(1, 0, "brainpoolP256t1", &req, &len),
                     PICO_E_UNSUPPORTED);
}

/* Builds the CV request a device answers to key generation (6.2), around key. */
static size_t make_cv_request(EVP_PKEY *key, uint8_t *out)
{
    uint8_t q[133], *p = out, body[600], *b = body, pk[500], *k = pk;
    size_t qlen = 0, n;
    BIGNUM *bp = BN_new(), *ba = BN_new(), *bb = BN_new();
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    uint8_t tmp[80];

    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qlen);
    EC_GROUP_get_curve(g, bp, ba, bb, NULL);
    memcpy(k, "\x06\x0A\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 12);
    k += 12;
    *k++ = 0x81, *k++ = 32, BN_bn2binpad(bp, k, 32), k += 32;
    *k++ = 0x82, *k++ = 32, BN_bn2binpad(ba, k, 32), k += 32;
    BN_bn2binpad(EC_GROUP_get0_order(g), tmp, 32);
    *k++ = 0x85, *k++ = 32, memcpy(k, tmp, 32), k += 32;
    *k++ = 0x86, *k++ = (uint8_t)qlen, memcpy(k, q, qlen), k += qlen;
    n = (size_t)(k - pk);
    memcpy(b, "\x5F\x29\x01\x00\x42\x03" "CAR", 9);
    b += 9;
    *b++ = 0x7F, *b++ = 0x49, *b++ = 0x81, *b++ = (uint8_t)n, memcpy(b, pk, n), b += n;
    memcpy(b, "\x5F\x20\x03" "CHR", 6);
    b += 6;
    n = (size_t)(b - body);
    *p++ = 0x67, *p++ = 0x81, *p++ = (uint8_t)(n + 4 + 4);
    *p++ = 0x7F, *p++ = 0x21, *p++ = 0x81, *p++ = (uint8_t)(n + 4);
    *p++ = 0x7F, *p++ = 0x4E, *p++ = 0x81, *p++ = (uint8_t)n;
    memcpy(p, body, n);
    p += n;
    BN_free(bp);
    BN_free(ba);
    BN_free(bb);
    EC_GROUP_free(g);
    return (size_t)(p - out);
}

static void test_public_key_from_cv_request(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256"), *pub = NULL;
    uint8_t cv[800];
    size_t len = make_cv_request(key, cv);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_request_rsa),
        cmocka_unit_test(test_keygen_request_ec),
        cmocka_unit_test(test_public_key_from_cv_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
