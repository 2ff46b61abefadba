/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The login engine (common/auth.c) against a scripted card: the order of the
 * APDUs (PKA policy, PIN state, one VERIFY, then the PKA round), what it never
 * sends (a second VERIFY, the last try, a challenge when keys are missing, a
 * PIN the device refused before),
 * and the per-key results of an m-of-n round with PEM-file signers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth.h"
#include "pka_signer.h"
#include "script_transport.h"

#define PKA_STATUS "80 54 00 00 00"
#define PIN_STATUS "00 20 00 81"
#define VERIFY_PIN "00 20 00 81 06 36 34 38 32 31 39" /* "648219" */
#define CHALLENGE "00 84 00 00 10"
#define CHALLENGE_ANSWER "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 90 00"
#define DEVICE_NAME "ESPICOHSMTR00001"

static char pem_path[3][64];
static pico_pka_signer *signer[3];
static char mse[3][128]; /* MSE SET AT with each signer's CHR, as hex */

static int setup(void **state)
{
    for (int i = 0; i < 3; i++) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        char spec[96], chr[17];
        FILE *f;
        int fd, n;

        strcpy(pem_path[i], "/tmp/pico-auth-XXXXXX");
        if (key == NULL || (fd = mkstemp(pem_path[i])) < 0 || (f = fdopen(fd, "w")) == NULL)
            return -1;
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        fclose(f);
        EVP_PKEY_free(key);
        snprintf(spec, sizeof(spec), "file:%s", pem_path[i]);
        if (pico_pka_signer_open(spec, NULL, NULL, &signer[i]) != PICO_OK ||
            pico_pka_chr(pico_pka_signer_public(signer[i]), chr) != PICO_OK)
            return -1;
        /* 5.4: 00 22 81 A4 Lc 83 L CHR */
        n = snprintf(mse[i], sizeof(mse[i]), "00 22 81 A4 %02zX 83 %02zX", strlen(chr) + 2,
                     strlen(chr));
        for (size_t k = 0; k < strlen(chr); k++)
            n += snprintf(mse[i] + n, sizeof(mse[i]) - (size_t)n, " %02X", (unsigned char)chr[k]);
    }
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < 3; i++) {
        pico_pka_signer_free(signer[i]);
        unlink(pem_path[i]);
    }
    return 0;
}

static pico_card *card_with(const script_step *steps)
{
    pico_card *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    c->t = script_transport_new(steps);
    return c;
}

static void card_done(pico_card *c)
{
    script_transport_done(c->t);
    free(c);
}

static pico_auth_factors factors(const char *pin, pico_pka_signer **s, size_t n)
{
    pico_auth_factors f = {NULL, pin, NULL, NULL, "test device", s, n, DEVICE_NAME};
    return f;
}

/* PIN only: the state, then one VERIFY */
static void test_pin_only(void **state)
{
    const script_step steps[] = {
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", NULL, 0);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_OK);
    card_done(c);
}

/* a wrong PIN: one VERIFY, never a second, and no PKA round after it */
static void test_wrong_pin_not_retried(void **state)
{
    const script_step steps[] = {
        {PKA_STATUS, "01 00 01 00 90 00"},
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "63 C2"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", signer, 1);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    card_done(c);
}

/* a PIN the device refused is not sent again: the next login reads the state (no try
 * spent) and fails with the tries left; no second VERIFY with it */
static void test_refused_pin_not_sent_again(void **state)
{
    const script_step steps[] = {
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "63 C2"},
        {PIN_STATUS, "63 C2"},
        {PIN_STATUS, "63 C2"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", NULL, 0);
    pico_refused_pins refused = {0};

    f.refused = &refused;
    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    assert_int_equal(refused.n, 1);
    /* a digest is held, not the PIN */
    for (size_t i = 0; i + 6 <= sizeof(refused); i++)
        assert_memory_not_equal((const uint8_t *)&refused + i, "648219", 6);
    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    assert_int_equal(refused.n, 1);
    card_done(c);
}

/* after a refused PIN, another one (the source now holds the new PIN) is tried as usual;
 * without a refused set (pico-hsm-tool's own checks) nothing is remembered */
static void test_other_pin_still_tried(void **state)
{
    const script_step steps[] = {
        {PIN_STATUS, "63 C3"},
        {"00 20 00 81 06 31 31 31 31 31 31", "63 C2"}, /* "111111" */
        {PIN_STATUS, "63 C2"},
        {VERIFY_PIN, "90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("111111", NULL, 0);
    pico_refused_pins refused = {0};

    f.refused = &refused;
    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    f.pin = "648219";
    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_OK);
    /* an accepted PIN forgets nothing: "111111" stays refused */
    assert_int_equal(refused.n, 1);
    pico_refused_pins_clear(&refused);
    assert_int_equal(refused.n, 0);
    card_done(c);
}

/* a PIN refused by another device is sent to this one: the set is per device */
static void test_refused_set_per_device(void **state)
{
    const script_step steps1[] = {
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "63 C2"},
        {NULL},
    };
    const script_step steps2[] = {
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "90 00"},
        {NULL},
    };
    pico_card *c1 = card_with(steps1), *c2 = card_with(steps2);
    pico_auth_factors f = factors("648219", NULL, 0);
    pico_refused_pins r1 = {0}, r2 = {0};

    f.refused = &r1;
    assert_int_equal(pico_auth_login(c1, &f, NULL, NULL), PICO_E_PIN_INCORRECT);
    f.refused = &r2;
    assert_int_equal(pico_auth_login(c2, &f, NULL, NULL), PICO_OK);
    card_done(c1);
    card_done(c2);
}

/* one try left and no consent: no VERIFY at all */
static void test_last_try_kept(void **state)
{
    const script_step steps[] = {
        {PIN_STATUS, "63 C1"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", NULL, 0);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_LAST_TRY);
    card_done(c);
}

/* blocked: said without a VERIFY */
static void test_blocked(void **state)
{
    const script_step steps[] = {
        {PIN_STATUS, "69 83"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", NULL, 0);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PIN_BLOCKED);
    card_done(c);
}

/* 5.8: PIN first, then the round: challenge, MSE SET AT with the CHR, signature r || s */
static void test_pin_then_pka(void **state)
{
    const script_step steps[] = {
        {PKA_STATUS, "01 00 01 00 90 00"},
        {PIN_STATUS, "63 C3"},
        {VERIFY_PIN, "90 00"},
        {CHALLENGE, CHALLENGE_ANSWER},
        {mse[0], "90 00"},
        {"00 82 00 00 40", "90 00", 0, 1}, /* 64 bytes: r || s on P-256 */
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", signer, 1);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_OK);
    card_done(c);
}

/* fewer keys than required: refused before the PIN is verified or a challenge asked */
static void test_too_few_keys(void **state)
{
    const script_step steps[] = {
        {PKA_STATUS, "03 00 02 00 90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors("648219", signer, 1);

    assert_int_equal(pico_auth_login(c, &f, NULL, NULL), PICO_E_PKA_REQUIRED);
    card_done(c);
}

/* 5.7: 2 of 3 with an unregistered key first and a refused one last: each is tried,
 * one challenge for all, and the results say what happened to each */
static void test_m_of_n_results(void **state)
{
    const script_step steps[] = {
        {CHALLENGE, CHALLENGE_ANSWER},
        {mse[0], "6A 88"},
        {mse[1], "90 00"},
        {"00 82 00 00 40", "90 00", 0, 1},
        {mse[2], "90 00"},
        {"00 82 00 00 40", "69 85", 0, 1},
        {NULL},
    };
    static const uint8_t st[4] = {3, 0, 2, 0};
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors(NULL, signer, 3);
    pico_pka_result r[3];
    unsigned done = 9;

    assert_int_equal(pico_auth_pka_round(c, &f, st, r, &done), PICO_E_PKA_FAILED);
    assert_int_equal(done, 1);
    assert_int_equal(r[0], PICO_PKA_NOT_REGISTERED);
    assert_int_equal(r[1], PICO_PKA_AUTHENTICATED);
    assert_int_equal(r[2], PICO_PKA_REFUSED);
    card_done(c);
}

/* a key that already authenticated in this round (MSE 6985) counts without signing */
static void test_already_authenticated_key(void **state)
{
    const script_step steps[] = {
        {CHALLENGE, CHALLENGE_ANSWER},
        {mse[0], "69 85"},
        {mse[1], "90 00"},
        {"00 82 00 00 40", "90 00", 0, 1},
        {NULL},
    };
    static const uint8_t st[4] = {2, 0, 2, 0};
    pico_card *c = card_with(steps);
    pico_auth_factors f = factors(NULL, signer, 2);
    pico_pka_result r[2];
    unsigned done = 0;

    assert_int_equal(pico_auth_pka_round(c, &f, st, r, &done), PICO_OK);
    assert_int_equal(done, 2);
    assert_int_equal(r[0], PICO_PKA_ALREADY);
    card_done(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_only),
        cmocka_unit_test(test_wrong_pin_not_retried),
        cmocka_unit_test(test_last_try_kept),
        cmocka_unit_test(test_blocked),
        cmocka_unit_test(test_pin_then_pka),
        cmocka_unit_test(test_too_few_keys),
        cmocka_unit_test(test_m_of_n_results),
        cmocka_unit_test(test_already_authenticated_key),
        cmocka_unit_test(test_refused_pin_not_sent_again),
        cmocka_unit_test(test_other_pin_still_tried),
        cmocka_unit_test(test_refused_set_per_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
