/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provider/rsa_params.c: the parsing of the RSA padding parameters (names,
 * numbers, refusals) and the paddings made on the host, compared with
 * OpenSSL's own: the default provider's PKCS#1 v1.5 signature blocks, its
 * PSS verification, RSA_padding_add_PKCS1_type_1/_type_2/_OAEP_mgf1.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RSA_padding_add_*, RSA_verify_PKCS1_PSS_mgf1 */

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rsa_params.h"

/* The provider's pieces rsa_params.c uses: the error raised is recorded */
static pico_err last_err;
static char last_msg[256];

void pico_prov_raise_at(pico_prov_ctx *prov, pico_err code, const char *file, int line,
                        const char *func, const char *fmt, ...)
{
    va_list ap;

    (void)prov, (void)file, (void)line, (void)func;
    last_err = code;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    va_end(ap);
}

OSSL_LIB_CTX *pico_prov_sw(pico_prov_ctx *prov)
{
    (void)prov;
    return NULL;
}

static EVP_PKEY *rsa2048, *rsa1025;

static int setup(void **state)
{
    (void)state;
    rsa2048 = EVP_RSA_gen(2048);
    rsa1025 = EVP_RSA_gen(1025);
    return rsa2048 == NULL || rsa1025 == NULL;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(rsa1025);
    return 0;
}

/* Sets one parameter; 1 when taken. last_err holds the refusal's code. */
static int set_str(pico_rsa_params *p, const char *key, const char *value)
{
    OSSL_PARAM params[] = {OSSL_PARAM_utf8_string(key, (char *)value, 0), OSSL_PARAM_END};

    last_err = PICO_OK;
    return pico_rsa_params_set(p, params);
}

static int set_int(pico_rsa_params *p, const char *key, int value)
{
    OSSL_PARAM params[] = {OSSL_PARAM_int(key, &value), OSSL_PARAM_END};

    last_err = PICO_OK;
    return pico_rsa_params_set(p, params);
}

static void sig_padding_names(void **state)
{
    pico_rsa_params p;

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_int_equal(p.pad, RSA_PKCS1_PADDING);
    assert_true(set_str(&p, "pad-mode", "pss"));
    assert_int_equal(p.pad, RSA_PKCS1_PSS_PADDING);
    assert_true(set_str(&p, "pad-mode", "none"));
    assert_int_equal(p.pad, RSA_NO_PADDING);
    assert_true(set_str(&p, "pad-mode", "pkcs1"));
    assert_int_equal(p.pad, RSA_PKCS1_PADDING);
    assert_true(set_int(&p, "pad-mode", RSA_PKCS1_PSS_PADDING));
    assert_int_equal(p.pad, RSA_PKCS1_PSS_PADDING);
    /* a cipher's padding, an unknown name, X9.31 (the device cannot): refused, unchanged */
    assert_false(set_str(&p, "pad-mode", "oaep"));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    assert_false(set_str(&p, "pad-mode", "bogus"));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    assert_false(set_str(&p, "pad-mode", "x931"));
    assert_false(set_int(&p, "pad-mode", 99));
    assert_int_equal(p.pad, RSA_PKCS1_PSS_PADDING);
    /* an RSA-PSS key: PSS only */
    assert_true(pico_rsa_params_start(&p, 1, NULL));
    assert_int_equal(p.pad, RSA_PKCS1_PSS_PADDING);
    assert_false(set_str(&p, "pad-mode", "pkcs1"));
    assert_int_equal(last_err, PICO_E_ARGS);
    pico_rsa_params_clear(&p);
}

static void cipher_padding_names(void **state)
{
    pico_rsa_params p;

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    assert_true(set_str(&p, "pad-mode", "oaep"));
    assert_int_equal(p.pad, RSA_PKCS1_OAEP_PADDING);
    assert_true(set_str(&p, "pad-mode", "none"));
    assert_false(set_str(&p, "pad-mode", "pss"));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    assert_true(set_int(&p, "pad-mode", RSA_PKCS1_WITH_TLS_PADDING));
    p.encrypt = 1; /* the TLS padding decrypts only */
    assert_false(set_int(&p, "pad-mode", RSA_PKCS1_WITH_TLS_PADDING));
    assert_false(set_int(&p, "implicit-rejection", 1));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    assert_true(set_int(&p, "implicit-rejection", 0));
    pico_rsa_params_clear(&p);
}

static void salt_lengths(void **state)
{
    pico_rsa_params p;
    pico_pss_limits lim = {1, "SHA256", "SHA256", 32};

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_true(set_str(&p, "saltlen", "digest"));
    assert_int_equal(p.saltlen, RSA_PSS_SALTLEN_DIGEST);
    assert_true(set_str(&p, "saltlen", "max"));
    assert_int_equal(p.saltlen, RSA_PSS_SALTLEN_MAX);
    assert_true(set_str(&p, "saltlen", "auto"));
    assert_int_equal(p.saltlen, RSA_PSS_SALTLEN_AUTO);
    assert_true(set_str(&p, "saltlen", "20"));
    assert_int_equal(p.saltlen, 20);
    assert_true(p.saltlen_set);
    /* below -3: out of range, as the default provider says */
    assert_false(set_str(&p, "saltlen", "-4"));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_false(set_int(&p, "saltlen", -5));
    assert_int_equal(p.saltlen, 20);
    /* a restricted RSA-PSS key: its digests, at least its minimum salt */
    assert_true(pico_rsa_params_start(&p, 1, &lim));
    assert_int_equal(p.saltlen, 32);
    assert_true(EVP_MD_is_a(p.md, "SHA256"));
    assert_false(set_int(&p, "saltlen", 20));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_true(set_int(&p, "saltlen", 40));
    assert_false(set_str(&p, "digest", "SHA1"));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_false(set_str(&p, "mgf1-digest", "SHA384"));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_true(set_str(&p, "mgf1-digest", "SHA2-256"));
    pico_rsa_params_clear(&p);
}

static void digests_and_get(void **state)
{
    pico_rsa_params p;
    char pad[16], md[32], mgf1[32];
    int ipad = 0, salt = 0;
    OSSL_PARAM get[] = {OSSL_PARAM_utf8_string("pad-mode", pad, sizeof(pad)),
                        OSSL_PARAM_utf8_string("digest", md, sizeof(md)),
                        OSSL_PARAM_utf8_string("mgf1-digest", mgf1, sizeof(mgf1)),
                        OSSL_PARAM_int("saltlen", &salt), OSSL_PARAM_END};
    OSSL_PARAM iget[] = {OSSL_PARAM_int("pad-mode", &ipad), OSSL_PARAM_END};

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_false(set_str(&p, "digest", "nosuchdigest"));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    assert_true(pico_rsa_params_get(&p, get));
    assert_string_equal(md, "");
    assert_true(set_str(&p, "digest", "SHA384"));
    assert_true(set_str(&p, "pad-mode", "pss"));
    assert_true(pico_rsa_params_get(&p, get));
    assert_string_equal(pad, "pss");
    assert_string_equal(md, "SHA2-384");
    assert_string_equal(mgf1, "SHA2-384"); /* MGF1 is the message digest's by default */
    assert_int_equal(salt, RSA_PSS_SALTLEN_AUTO);
    assert_true(pico_rsa_params_get(&p, iget));
    assert_int_equal(ipad, RSA_PKCS1_PSS_PADDING);
    pico_rsa_params_clear(&p);
    /* the cipher: OAEP's SHA-1 unless set */
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    assert_true(pico_rsa_params_get(&p, get));
    assert_string_equal(pad, "pkcs1");
    assert_string_equal(md, "SHA1");
    assert_string_equal(mgf1, "SHA1");
    pico_rsa_params_clear(&p);
}

static void oaep_label(void **state)
{
    pico_rsa_params p, q;
    uint8_t label[] = "a label";
    void *got = NULL;
    size_t got_len = 0;
    OSSL_PARAM set[] = {OSSL_PARAM_octet_string("oaep-label", label, 7), OSSL_PARAM_END};
    OSSL_PARAM get[] = {OSSL_PARAM_octet_ptr("oaep-label", &got, 0), OSSL_PARAM_END};

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    assert_true(pico_rsa_params_set(&p, set));
    assert_true(pico_rsa_params_get(&p, get));
    got_len = get[0].return_size;
    assert_int_equal(got_len, 7);
    assert_memory_equal(got, label, 7);
    /* a copy holds its own */
    q = p;
    assert_true(pico_rsa_params_own(&q));
    assert_ptr_not_equal(q.label, p.label);
    pico_rsa_params_clear(&q);
    /* longer than RSA_padding_check_PKCS1_OAEP_mgf1 can take: refused before any copy */
    set[0].data_size = (size_t)INT_MAX + 1;
    last_err = PICO_OK;
    assert_false(pico_rsa_params_set(&p, set));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_int_equal(p.label_len, 7);
    pico_rsa_params_clear(&p);
}

/* EM = s^e mod n of the default provider's PKCS#1 v1.5 signature over hash */
static size_t default_pkcs1_block(EVP_PKEY *key, const char *md, const uint8_t *hash, size_t hlen,
                                  uint8_t *em)
{
    uint8_t sig[512];
    size_t siglen = sizeof(sig), emlen = 512;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    assert_non_null(c);
    assert_int_equal(EVP_PKEY_sign_init(c), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING), 1);
    if (md != NULL)
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, EVP_get_digestbyname(md)), 1);
    assert_int_equal(EVP_PKEY_sign(c, sig, &siglen, hash, hlen), 1);
    EVP_PKEY_CTX_free(c);
    c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    assert_int_equal(EVP_PKEY_verify_recover_init(c), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
    assert_int_equal(EVP_PKEY_verify_recover(c, em, &emlen, sig, siglen), 1);
    EVP_PKEY_CTX_free(c);
    return emlen;
}

static void pkcs1_blocks_equal_openssl(void **state)
{
    static const char *mds[] = {"MD5",      "SHA1",       "SHA224",     "SHA256",   "SHA384",
                                "SHA512",   "SHA512-224", "SHA512-256", "SHA3-224", "SHA3-256",
                                "SHA3-384", "SHA3-512",   "RIPEMD160",  "MD5-SHA1"};
    uint8_t hash[EVP_MAX_MD_SIZE], want[512], em[512], raw[20];
    pico_rsa_params p;
    size_t i, k = 256, hlen;

    (void)state;
    for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
        EVP_MD *md = EVP_MD_fetch(NULL, mds[i], NULL);
        assert_non_null(md);
        hlen = (size_t)EVP_MD_get_size(md);
        EVP_MD_free(md);
        assert_int_equal(RAND_bytes(hash, (int)hlen), 1);
        assert_int_equal(default_pkcs1_block(rsa2048, mds[i], hash, hlen, want), k);
        pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
        assert_true(set_str(&p, "digest", mds[i]));
        assert_true(pico_rsa_pad_pkcs1(&p, hash, hlen, em, k));
        assert_memory_equal(em, want, k);
        /* a hash of another length is refused */
        assert_false(pico_rsa_pad_pkcs1(&p, hash, hlen - 1, em, k));
        assert_int_equal(last_err, PICO_E_ARGS);
        pico_rsa_params_clear(&p);
    }
    /* no digest: the caller's bytes, as RSA_padding_add_PKCS1_type_1 pads them */
    assert_int_equal(RAND_bytes(raw, sizeof(raw)), 1);
    assert_int_equal(RSA_padding_add_PKCS1_type_1(want, (int)k, raw, sizeof(raw)), 1);
    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_true(pico_rsa_pad_pkcs1(&p, raw, sizeof(raw), em, k));
    assert_memory_equal(em, want, k);
    /* a digest with no PKCS#1 v1.5 DigestInfo is refused, as by the default provider */
    assert_true(set_str(&p, "digest", "BLAKE2B-512"));
    assert_false(pico_rsa_pad_pkcs1(&p, hash, 64, em, k));
    assert_int_equal(last_err, PICO_E_UNSUPPORTED);
    pico_rsa_params_clear(&p);
}

/* One PSS block made here, checked by OpenSSL's RSA_verify_PKCS1_PSS_mgf1 */
static void pss_case(EVP_PKEY *key, const char *md, const char *mgf1, const char *salt, int want)
{
    uint8_t hash[EVP_MAX_MD_SIZE], em[512];
    unsigned bits = (unsigned)EVP_PKEY_get_bits(key);
    size_t k = (bits + 7) / 8, hlen;
    pico_rsa_params p;
    int slen = 0;

    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_true(set_str(&p, "pad-mode", "pss"));
    assert_true(set_str(&p, "digest", md));
    if (mgf1 != NULL)
        assert_true(set_str(&p, "mgf1-digest", mgf1));
    assert_true(set_str(&p, "saltlen", salt));
    hlen = (size_t)EVP_MD_get_size(p.md);
    assert_int_equal(RAND_bytes(hash, (int)hlen), 1);
    assert_true(pico_rsa_pss_saltlen(&p, bits, hlen, &slen));
    assert_int_equal(slen, want);
    assert_true(pico_rsa_pad_pss(&p, hash, hlen, slen, bits, em, k));
    assert_int_equal(RSA_verify_PKCS1_PSS_mgf1((RSA *)EVP_PKEY_get0_RSA(key), hash, p.md,
                                               p.mgf1 != NULL ? p.mgf1 : p.md, em, slen),
                     1);
    pico_rsa_params_clear(&p);
}

static void pss_blocks_verify_with_openssl(void **state)
{
    pico_rsa_params p;
    uint8_t hash[32] = {0}, em[256];
    int slen;

    (void)state;
    pss_case(rsa2048, "SHA256", NULL, "digest", 32);
    pss_case(rsa2048, "SHA256", "SHA1", "20", 20);
    pss_case(rsa2048, "SHA512", NULL, "max", 256 - 64 - 2);
    pss_case(rsa2048, "SHA384", "SHA256", "auto", 256 - 48 - 2);
    pss_case(rsa2048, "SHA256", NULL, "0", 0);
    /* 1025 bits: a 128-byte EM in a 129-byte block, its top bit cleared */
    pss_case(rsa1025, "SHA256", NULL, "max", 128 - 32 - 2);
    pss_case(rsa1025, "SHA1", "SHA256", "digest", 20);
    /* a salt too long for the key, a hash of the wrong length */
    pico_rsa_params_init(&p, NULL, PICO_RSA_SIG);
    assert_true(set_str(&p, "digest", "SHA256"));
    assert_true(set_str(&p, "saltlen", "223"));
    assert_false(pico_rsa_pss_saltlen(&p, 2048, 32, &slen));
    assert_int_equal(last_err, PICO_E_ARGS);
    assert_false(pico_rsa_pad_pss(&p, hash, 32, 223, 2048, em, 256));
    assert_true(set_str(&p, "saltlen", "222"));
    assert_true(pico_rsa_pss_saltlen(&p, 2048, 32, &slen));
    assert_false(pico_rsa_pss_saltlen(&p, 2048, 20, &slen));
    assert_int_equal(last_err, PICO_E_ARGS);
    pico_rsa_params_clear(&p);
}

static void unpad_blocks_of_openssl(void **state)
{
    static const uint8_t msg[] = "the plaintext";
    uint8_t em[256], out[256], label[] = "lbl";
    OSSL_PARAM set[] = {OSSL_PARAM_utf8_string("pad-mode", "oaep", 0),
                        OSSL_PARAM_utf8_string("digest", "SHA256", 0),
                        OSSL_PARAM_utf8_string("mgf1-digest", "SHA1", 0),
                        OSSL_PARAM_octet_string("oaep-label", label, 3), OSSL_PARAM_END};
    EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL), *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    pico_rsa_params p;
    size_t n = 0, k = sizeof(em);

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    /* PKCS#1 v1.5 type 2 */
    assert_int_equal(RSA_padding_add_PKCS1_type_2(em, (int)k, msg, sizeof(msg)), 1);
    assert_true(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(out, msg, n);
    em[0] = 1;
    assert_false(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(last_err, PICO_E_ARGS);
    /* OAEP with SHA-256, MGF1 SHA-1 and a label */
    assert_true(pico_rsa_params_set(&p, set));
    assert_int_equal(
        RSA_padding_add_PKCS1_OAEP_mgf1(em, (int)k, msg, sizeof(msg), label, 3, sha256, sha1), 1);
    assert_true(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(out, msg, n);
    assert_false(pico_rsa_unpad(&p, em, k, out, 4, &n)); /* no room */
    label[0] = 'X';                                      /* another label */
    assert_true(pico_rsa_params_set(&p, set));
    last_err = PICO_OK;
    assert_false(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(last_err, PICO_E_ARGS);
    /* OAEP's defaults: SHA-1 for both, no label */
    pico_rsa_params_clear(&p);
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    assert_true(set_str(&p, "pad-mode", "oaep"));
    assert_int_equal(
        RSA_padding_add_PKCS1_OAEP_mgf1(em, (int)k, msg, sizeof(msg), NULL, 0, sha1, sha1), 1);
    assert_true(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_memory_equal(out, msg, n);
    pico_rsa_params_clear(&p);
    EVP_MD_free(sha256);
    EVP_MD_free(sha1);
}

static void unpad_tls_premaster(void **state)
{
    uint8_t em[256], out[48];
    pico_rsa_params p;
    size_t n = 0, k = sizeof(em);

    (void)state;
    pico_rsa_params_init(&p, NULL, PICO_RSA_CIPHER);
    assert_true(set_int(&p, "pad-mode", RSA_PKCS1_WITH_TLS_PADDING));
    assert_true(set_int(&p, "tls-client-version", 0x0303));
    assert_int_equal(RAND_bytes(em + 208, 48), 1);
    em[208] = 0x03, em[209] = 0x03;
    em[0] = 0, em[1] = 2;
    memset(em + 2, 0x55, 205);
    em[207] = 0;
    assert_true(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(n, 48);
    assert_memory_equal(out, em + 208, 48);
    /* another version: 48 random bytes, no error (the client's answer shows it) */
    em[209] = 0x01;
    assert_true(pico_rsa_unpad(&p, em, k, out, sizeof(out), &n));
    assert_int_equal(n, 48);
    assert_memory_not_equal(out, em + 208, 48);
    pico_rsa_params_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sig_padding_names),
        cmocka_unit_test(cipher_padding_names),
        cmocka_unit_test(salt_lengths),
        cmocka_unit_test(digests_and_get),
        cmocka_unit_test(oaep_label),
        cmocka_unit_test(pkcs1_blocks_equal_openssl),
        cmocka_unit_test(pss_blocks_verify_with_openssl),
        cmocka_unit_test(unpad_blocks_of_openssl),
        cmocka_unit_test(unpad_tls_premaster),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
