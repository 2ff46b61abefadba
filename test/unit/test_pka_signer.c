/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKA signers (common/pka_signer.c): file: keys sign what plain OpenSSL verifies, in the
 * form EXTERNAL AUTHENTICATE wants (EC r || s, RSA PKCS#1 v1.5 SHA-256); CHR names; URI
 * errors that never echo a secret. With PICO_TEST_SOFTHSM=1 also a pkcs11: key on a
 * private SoftHSM2 token, through module-path= and through p11-kit's proxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pka_signer.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

static const uint8_t msg[] = "ESPICOHSMTR00001\x01\x02\x03\x04\x05\x06\x07\x08";
static char last_error[512];
static char files[8][64];
static int nfiles;
static char softhsm_dir[64];

static void record(void *arg, pico_err code, const char *file, int line, const char *func,
                   const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
}

/* Writes key as PEM (encrypted with pass when not NULL); returns "file:PATH". */
static const char *write_key(EVP_PKEY *key, const char *pass, char *spec, size_t cap)
{
    char *path = files[nfiles++];
    FILE *f;
    int fd;

    strcpy(path, "/tmp/pico-pka-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(
        PEM_write_PrivateKey(f, key, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL, (void *)pass),
        1);
    fclose(f);
    snprintf(spec, cap, "file:%s", path);
    return spec;
}

/* Verifies sig over msg with plain OpenSSL: EC r || s turned back into DER first. */
static int verifies(EVP_PKEY *key, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    int der_len = 0, ok;

    if (EVP_PKEY_is_a(key, "EC")) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        size_t half = sig_len / 2;
        ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL), BN_bin2bn(sig + half, (int)half, NULL));
        der_len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    }
    ok = EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(m, der ? der : sig, der ? (size_t)der_len : sig_len, msg, sizeof(msg)) ==
             1;
    OPENSSL_free(der);
    EVP_MD_CTX_free(m);
    return ok;
}

/* Opens spec, signs msg, checks the signature's length and that key verifies it. */
static void sign_and_verify(const char *spec, const char *pin_source, EVP_PKEY *key,
                            size_t want_len)
{
    pico_pka_signer *s = NULL;
    uint8_t sig[512];
    size_t sig_len = sizeof(sig);

    assert_int_equal(pico_pka_signer_open(spec, pin_source, NULL, &s), PICO_OK);
    assert_int_equal(EVP_PKEY_eq(pico_pka_signer_public(s), key), 1);
    assert_int_equal(pico_pka_signer_sign(s, msg, sizeof(msg), sig, &sig_len), PICO_OK);
    assert_int_equal(sig_len, want_len);
    assert_true(verifies(key, sig, sig_len));
    /* a buffer too small is refused, not overrun */
    sig_len = want_len - 1;
    assert_int_equal(pico_pka_signer_sign(s, msg, sizeof(msg), sig, &sig_len), PICO_E_ARGS);
    pico_pka_signer_free(s);
}

static void test_file_ec_p256_plain_r_s(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    char spec[80];

    assert_non_null(key);
    sign_and_verify(write_key(key, NULL, spec, sizeof(spec)), NULL, key, 64);
    EVP_PKEY_free(key);
}

static void test_file_ec_p521_padded_to_field(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-521");
    pico_pka_signer *s = NULL;
    uint8_t sig[512];
    size_t sig_len;
    char spec[80];
    int i, short_half = 0;

    assert_non_null(key);
    assert_int_equal(pico_pka_signer_open(write_key(key, NULL, spec, sizeof(spec)), NULL, NULL, &s),
                     PICO_OK);
    /* 66 bytes each, a leading zero byte kept whenever r or s is shorter */
    for (i = 0; i < 16; i++) {
        sig_len = sizeof(sig);
        assert_int_equal(pico_pka_signer_sign(s, msg, sizeof(msg), sig, &sig_len), PICO_OK);
        assert_int_equal(sig_len, 132);
        assert_true(verifies(key, sig, sig_len));
        short_half |= sig[0] == 0;
    }
    assert_true(short_half);
    pico_pka_signer_free(s);
    EVP_PKEY_free(key);
}

static void test_file_rsa2048_pkcs1_sha256(void **state)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char spec[80];

    assert_non_null(key);
    sign_and_verify(write_key(key, NULL, spec, sizeof(spec)), NULL, key, 256);
    EVP_PKEY_free(key);
}

static int ask_count;
static char asked_info[512];

static int answer(void *arg, const char *info, char *buf, size_t cap)
{
    ask_count++;
    snprintf(asked_info, sizeof(asked_info), "%s", info);
    snprintf(buf, cap, "%s", (const char *)arg);
    return 1;
}

static void test_file_encrypted_passphrase(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-384");
    pico_pka_signer *s = NULL;
    pico_pin_prompt prompt = {answer, "correct horse"};
    char spec[80];

    assert_non_null(key);
    write_key(key, "correct horse", spec, sizeof(spec));
    setenv("PICO_TEST_PKA_PASS", "correct horse", 1);
    sign_and_verify(spec, "env:PICO_TEST_PKA_PASS", key, 96);

    /* wrong passphrase: refused, and the message does not hold it */
    pico_err_set_handler(record, NULL);
    setenv("PICO_TEST_PKA_PASS", "wrong battery", 1);
    assert_int_equal(pico_pka_signer_open(spec, "env:PICO_TEST_PKA_PASS", NULL, &s),
                     PICO_E_PIN_INCORRECT);
    assert_null(s);
    assert_non_null(strstr(last_error, spec));
    assert_null(strstr(last_error, "battery"));
    /* no source and nobody to ask */
    assert_int_equal(pico_pka_signer_open(spec, NULL, NULL, &s), PICO_E_PIN_REQUIRED);
    pico_err_set_handler(NULL, NULL);

    /* the prompt, asked once, names the key */
    ask_count = 0;
    assert_int_equal(pico_pka_signer_open(spec, NULL, &prompt, &s), PICO_OK);
    assert_int_equal(ask_count, 1);
    assert_non_null(strstr(asked_info, spec));
    pico_pka_signer_free(s);
    EVP_PKEY_free(key);
}

static void test_chr_16_chars_per_key(void **state)
{
    EVP_PKEY *a = EVP_EC_gen("P-256"), *b = EVP_EC_gen("P-256");
    pico_pka_signer *s = NULL;
    char chr1[17], chr2[17], chr3[17], spec[80];
    unsigned char *der = NULL, h[32];
    unsigned int hlen;
    int len;

    assert_int_equal(pico_pka_chr(a, chr1), PICO_OK);
    assert_int_equal(strlen(chr1), 16);
    assert_memory_equal(chr1, "PK", 2);
    assert_string_equal(chr1 + 11, "00001");
    /* the 9 digits are SHA-256 over the SubjectPublicKeyInfo */
    len = i2d_PUBKEY(a, &der);
    assert_true(len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, h, &hlen, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    snprintf(chr3, sizeof(chr3), "PK%02X%02X%02X%02X%X00001", h[0], h[1], h[2], h[3], h[4] >> 4);
    assert_string_equal(chr1, chr3);
    /* same key (through a signer's public copy): same name; another key: another name */
    assert_int_equal(pico_pka_signer_open(write_key(a, NULL, spec, sizeof(spec)), NULL, NULL, &s),
                     PICO_OK);
    assert_int_equal(pico_pka_chr(pico_pka_signer_public(s), chr2), PICO_OK);
    assert_string_equal(chr1, chr2);
    assert_int_equal(pico_pka_chr(b, chr2), PICO_OK);
    assert_string_not_equal(chr1, chr2);
    assert_int_equal(pico_pka_chr(NULL, chr2), PICO_E_ARGS);
    pico_pka_signer_free(s);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void test_file_errors(void **state)
{
    pico_pka_signer *s = NULL;
    char path[] = "/tmp/pico-pka-XXXXXX", spec[80];
    int fd = mkstemp(path);

    /* a missing file is a file error, not "not found on the device" */
    assert_int_equal(pico_pka_signer_open("file:/nonexistent/pka.pem", NULL, NULL, &s),
                     PICO_E_FILE);
    assert_null(s);
    assert_int_equal(pico_pka_signer_open("file:", NULL, NULL, &s), PICO_E_ARGS);
    /* a file that holds no key */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a key\n", 10), 10);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", path);
    assert_int_equal(pico_pka_signer_open(spec, NULL, NULL, &s), PICO_E_ARGS);
    unlink(path);
    assert_int_equal(pico_pka_signer_open(NULL, NULL, NULL, &s), PICO_E_ARGS);
}

/* Every malformed URI is an error of its own scheme (PICO_E_PKCS11_URI, PICO_E_URI; a
 * spec of no scheme PICO_E_ARGS) whose message never holds the secret "s3cret". */
static void test_uri_errors_never_echo_secrets(void **state)
{
    static const char *const bad[] = {
        "pkcs11:token=a;;object=b",
        "pkcs11:token=a%zz",
        "pkcs11:token=a%2",
        "pkcs11:foo=bar",
        "pkcs11:token=a;pin-value=s3cret",
        "pkcs11:token=a?pin-value=s3cret&pin-value=s3cret",
        "pkcs11:token=a?s3cret",
        "pkcs11:token=a?module-path=/x.so&object=b",
        "pkcs11:object=b?pin-value=s3cret&module-name=softhsm2",
        "pkcs11:object=b;type=cert",
        "pkcs11:slot-id=abc",
        "pkcs11:token=a b",
        "pkcs11:token=",
        "pkcs11:token=a;",
        "pkcs11:object=x%00y",
        "pkcs11:object=a?pin-value=s3cret&pin-source",
        "s3cret",
        "pico:object=a;bogus=1?pin-value=s3cret",
        "pico:token=x?pin-value=s3cret",
        "pico:object=a;type=cert?pin-value=s3cret",
    };
    pico_pka_signer *s = NULL;
    size_t i;

    pico_err_set_handler(record, NULL);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        last_error[0] = '\0';
        pico_err want = strncmp(bad[i], "pkcs11:", 7) == 0 ? PICO_E_PKCS11_URI
                        : strncmp(bad[i], "pico:", 5) == 0 ? PICO_E_URI
                                                           : PICO_E_ARGS;
        if (pico_pka_signer_open(bad[i], NULL, NULL, &s) != want)
            fail_msg("%s: not a uri error of its scheme (%s)", bad[i], last_error);
        assert_null(s);
        assert_true(last_error[0] != '\0');
        if (strstr(last_error, "s3cret") != NULL)
            fail_msg("%s: message echoes the secret: %s", bad[i], last_error);
    }
    /* well-formed, vendor attribute ignored: the module is what is missing */
    assert_int_equal(pico_pka_signer_open("pkcs11:x-vendor=1;object=a%2Fb;id=%01%02"
                                          "?module-path=/nonexistent/mod.so&pin-value=s3cret",
                                          NULL, NULL, &s),
                     PICO_E_NOT_FOUND);
    assert_non_null(strstr(last_error, "pkcs11:x-vendor=1;object=a%2Fb;id=%01%02:"));
    assert_null(strstr(last_error, "s3cret"));
    pico_err_set_handler(NULL, NULL);
}

/* ---------------------------------------------------------------- SoftHSM2 */

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        print_error("command failed (%d): %s\n", rc, cmd);
    return rc;
}

/* A private SoftHSM2 token "pka" (user PIN 1234) holding the P-256 key "pkakey" (id 01) and
 * the RSA-2048 key "pkarsa" (id 02). */
static void softhsm_token(void)
{
    char cmd[512];
    FILE *f;
    int id;

    if (getenv("PICO_TEST_SOFTHSM") == NULL || strcmp(getenv("PICO_TEST_SOFTHSM"), "1") != 0)
        skip();
    if (softhsm_dir[0] != '\0')
        return;
    strcpy(softhsm_dir, "/tmp/pico-pka-softhsm-XXXXXX");
    assert_non_null(mkdtemp(softhsm_dir));
    snprintf(cmd, sizeof(cmd), "%s/tokens", softhsm_dir);
    assert_int_equal(mkdir(cmd, 0700), 0);
    snprintf(cmd, sizeof(cmd), "%s/softhsm2.conf", softhsm_dir);
    assert_non_null(f = fopen(cmd, "w"));
    fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
            softhsm_dir);
    fclose(f);
    setenv("SOFTHSM2_CONF", cmd, 1);
    assert_int_equal(run("softhsm2-util --init-token --free --label pka --pin 1234 --so-pin 5678 "
                         ">/dev/null"),
                     0);
    assert_int_equal(run("pkcs11-tool --module " SOFTHSM_MODULE " --login --pin 1234 --keypairgen "
                         "--key-type EC:prime256v1 --label pkakey --id 01 >/dev/null 2>&1"),
                     0);
    assert_int_equal(run("pkcs11-tool --module " SOFTHSM_MODULE " --login --pin 1234 --keypairgen "
                         "--key-type rsa:2048 --label pkarsa --id 02 >/dev/null 2>&1"),
                     0);
    for (id = 1; id <= 2; id++) {
        snprintf(cmd, sizeof(cmd),
                 "pkcs11-tool --module " SOFTHSM_MODULE " --read-object --type pubkey --id %02d "
                 "-o %s/pub%02d.der >/dev/null 2>&1",
                 id, softhsm_dir, id);
        assert_int_equal(run(cmd), 0);
    }
}

/* The token's public key as pkcs11-tool reads it: independent of the signer. */
static EVP_PKEY *softhsm_public(int id)
{
    char path[96];
    EVP_PKEY *pub;
    FILE *f;

    snprintf(path, sizeof(path), "%s/pub%02d.der", softhsm_dir, id);
    assert_non_null(f = fopen(path, "rb"));
    pub = d2i_PUBKEY_fp(f, NULL);
    fclose(f);
    assert_non_null(pub);
    return pub;
}

static void test_pkcs11_softhsm_module_path(void **state)
{
    EVP_PKEY *pub;
    pico_pka_signer *s = NULL, *s2 = NULL;
    uint8_t sig[512];
    size_t sig_len = sizeof(sig);

    softhsm_token();
    pub = softhsm_public(1);
    sign_and_verify("pkcs11:token=pka;object=pkakey?module-path=" SOFTHSM_MODULE "&pin-value=1234",
                    NULL, pub, 64);
    /* by id, the PIN from the caller's source; the name holds no query */
    setenv("PICO_TEST_TOKEN_PIN", "1234", 1);
    assert_int_equal(pico_pka_signer_open("pkcs11:token=pka;id=%01?module-path=" SOFTHSM_MODULE,
                                          "env:PICO_TEST_TOKEN_PIN", NULL, &s),
                     PICO_OK);
    assert_string_equal(pico_pka_signer_name(s), "pkcs11:token=pka;id=%01");
    assert_int_equal(EVP_PKEY_eq(pico_pka_signer_public(s), pub), 1);
    /* a second signer on the same module, freed first, leaves the first one working */
    assert_int_equal(pico_pka_signer_open("pkcs11:object=pkarsa?module-path=" SOFTHSM_MODULE
                                          "&pin-value=1234",
                                          NULL, NULL, &s2),
                     PICO_OK);
    pico_pka_signer_free(s2);
    assert_int_equal(pico_pka_signer_sign(s, msg, sizeof(msg), sig, &sig_len), PICO_OK);
    assert_true(verifies(pub, sig, sig_len));
    pico_pka_signer_free(s);
    EVP_PKEY_free(pub);
}

/* RSA: CKM_RSA_PKCS over DigestInfo(SHA-256), modulus length */
static void test_pkcs11_softhsm_rsa(void **state)
{
    EVP_PKEY *pub;

    softhsm_token();
    pub = softhsm_public(2);
    sign_and_verify("pkcs11:token=pka;object=pkarsa;type=private?module-path=" SOFTHSM_MODULE
                    "&pin-value=1234",
                    NULL, pub, 256);
    EVP_PKEY_free(pub);
}

static void test_pkcs11_softhsm_errors(void **state)
{
    pico_pka_signer *s = NULL;

    softhsm_token();
    pico_err_set_handler(record, NULL);
    assert_int_equal(
        pico_pka_signer_open("pkcs11:token=pka;object=pkakey?module-path=" SOFTHSM_MODULE
                             "&pin-value=9999",
                             NULL, NULL, &s),
        PICO_E_PIN_INCORRECT);
    assert_null(strstr(last_error, "9999"));
    assert_int_equal(
        pico_pka_signer_open("pkcs11:token=pka;object=pkakey?module-path=" SOFTHSM_MODULE, NULL,
                             NULL, &s),
        PICO_E_PIN_REQUIRED);
    assert_int_equal(
        pico_pka_signer_open("pkcs11:token=pka;object=nokey?module-path=" SOFTHSM_MODULE
                             "&pin-value=1234",
                             NULL, NULL, &s),
        PICO_E_NOT_FOUND);
    assert_int_equal(
        pico_pka_signer_open("pkcs11:token=other;object=pkakey?module-path=" SOFTHSM_MODULE
                             "&pin-value=1234",
                             NULL, NULL, &s),
        PICO_E_NOT_FOUND);
    pico_err_set_handler(NULL, NULL);
}

/* No module-path: p11-kit's proxy, which loads softhsm2 from its module registry (and reads
 * SOFTHSM2_CONF, so it sees the private token). */
static void test_pkcs11_softhsm_p11kit_proxy(void **state)
{
    EVP_PKEY *pub;

    softhsm_token();
    pub = softhsm_public(1);
    sign_and_verify("pkcs11:token=pka;object=pkakey?pin-value=1234", NULL, pub, 64);
    EVP_PKEY_free(pub);
}

static int teardown(void **state)
{
    char cmd[128];
    int i;

    for (i = 0; i < nfiles; i++)
        unlink(files[i]);
    if (softhsm_dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", softhsm_dir);
        return system(cmd);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_ec_p256_plain_r_s),
        cmocka_unit_test(test_file_ec_p521_padded_to_field),
        cmocka_unit_test(test_file_rsa2048_pkcs1_sha256),
        cmocka_unit_test(test_file_encrypted_passphrase),
        cmocka_unit_test(test_chr_16_chars_per_key),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_uri_errors_never_echo_secrets),
        cmocka_unit_test(test_pkcs11_softhsm_module_path),
        cmocka_unit_test(test_pkcs11_softhsm_rsa),
        cmocka_unit_test(test_pkcs11_softhsm_errors),
        cmocka_unit_test(test_pkcs11_softhsm_p11kit_proxy),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
