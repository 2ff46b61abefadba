/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command layer (common/schsm.c) against a scripted transport: each test
 * pins the exact APDU bytes of sc-hsm-protocol.md and the parsing of the
 * answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schsm.h"
#include "script_transport.h"

#define AID "E8 2B 06 01 04 01 81 C3 1F 02 01"
/* 1.2: FCP of an initialized device with options 0001, firmware 6.6 */
#define FCP                                                                                        \
    "62 22 81 02 00 00 82 01 01 83 02 00 00 84 0B 2B 06 01 04 01 81 C3 1F 02 01 00 "               \
    "8A 01 05 85 05 00 01 FF 06 06"

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

static void test_select_parses_options_and_version(void **state)
{
    static const script_step steps[] = {
        {"00 A4 04 00 0B " AID " 00", FCP " 90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_select_info info;

    assert_int_equal(pico_schsm_select(c, &info), PICO_OK);
    assert_int_equal(info.options, 0x0001);
    assert_int_equal(info.major, 6);
    assert_int_equal(info.minor, 6);
    assert_int_equal(c->apdus, 1);
    card_done(c);
}

static void test_select_other_card(void **state)
{
    static const script_step steps[] = {
        {"00 A4 04 00 0B " AID " 00", "6A 82"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_select_info info;

    assert_int_equal(pico_schsm_select(c, &info), PICO_E_NO_DEVICE);
    card_done(c);
}

/* A truncated FCP (length byte says more than came) is a bad response, not a crash. */
static void test_select_truncated_fcp(void **state)
{
    static const script_step steps[] = {
        {"00 A4 04 00 0B " AID " 00", "62 22 81 02 00 00 85 05 00 01 90 00"},
        {"00 A4 04 00 0B " AID " 00", "90"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_select_info info;

    assert_int_equal(pico_schsm_select(c, &info), PICO_E_BAD_RESPONSE);
    assert_int_equal(pico_schsm_select(c, &info), PICO_E_BAD_RESPONSE);
    card_done(c);
}

/* 2.1: the status query is the case-1 VERIFY; each answer maps to a state. */
static void test_pin_status_spends_no_try(void **state)
{
    static const script_step steps[] = {
        {"00 20 00 81", "63 C3"}, {"00 20 00 81", "69 83"}, {"00 20 00 81", "6A 88"},
        {"00 20 00 81", "90 00"}, {"00 20 00 88", "63 CF"}, {NULL},
    };
    pico_card *c = card_with(steps);
    pico_pin_state st;
    int tries;

    assert_int_equal(pico_schsm_pin_status(c, PICO_PIN_USER, &st, &tries), PICO_OK);
    assert_int_equal(st, PICO_PIN_TRIES);
    assert_int_equal(tries, 3);
    assert_int_equal(pico_schsm_pin_status(c, PICO_PIN_USER, &st, &tries), PICO_OK);
    assert_int_equal(st, PICO_PIN_BLOCKED);
    assert_int_equal(pico_schsm_pin_status(c, PICO_PIN_USER, &st, &tries), PICO_OK);
    assert_int_equal(st, PICO_PIN_NOT_SET);
    assert_int_equal(pico_schsm_pin_status(c, PICO_PIN_USER, &st, &tries), PICO_OK);
    assert_int_equal(st, PICO_PIN_VERIFIED);
    assert_int_equal(pico_schsm_pin_status(c, PICO_PIN_SO, &st, &tries), PICO_OK);
    assert_int_equal(tries, 15);
    card_done(c);
}

/* 11.1: VERIFY "648219" */
static void test_verify_pin(void **state)
{
    static const script_step steps[] = {
        {"00 20 00 81 06 36 34 38 32 31 39", "90 00"},
        {"00 20 00 81 06 31 31 31 31 31 31", "63 C2"},
        {"00 20 00 81 06 31 31 31 31 31 31", "69 83"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    int tries;

    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"648219", 6, &tries),
                     PICO_OK);
    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"111111", 6, &tries),
                     PICO_E_PIN_INCORRECT);
    assert_int_equal(tries, 2);
    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"111111", 6, &tries),
                     PICO_E_PIN_BLOCKED);
    assert_int_equal(tries, 0);
    /* out-of-range lengths never reach the device */
    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"", 0, &tries),
                     PICO_E_ARGS);
    card_done(c);
}

/* 4.2 and 4.3: old || new, SO-PIN || new */
static void test_change_and_unblock_pin(void **state)
{
    static const script_step steps[] = {
        {"00 24 00 81 0C 36 34 38 32 31 39 31 32 33 34 35 36", "90 00"},
        {"00 2C 00 81 0E 35 37 36 32 31 38 38 30 36 34 38 32 31 39", "90 00"},
        {"00 2C 00 81 0E 35 37 36 32 31 38 38 30 36 34 38 32 31 39", "69 86"},
        {NULL},
    };
    static const uint8_t so[] = {0x35, 0x37, 0x36, 0x32, 0x31, 0x38, 0x38, 0x30};
    pico_card *c = card_with(steps);
    int tries;

    assert_int_equal(pico_schsm_change_pin(c, PICO_PIN_USER, (const uint8_t *)"648219", 6,
                                           (const uint8_t *)"123456", 6, &tries),
                     PICO_OK);
    assert_int_equal(
        pico_schsm_unblock_pin(c, so, sizeof(so), (const uint8_t *)"648219", 6, &tries), PICO_OK);
    assert_int_equal(
        pico_schsm_unblock_pin(c, so, sizeof(so), (const uint8_t *)"648219", 6, &tries),
        PICO_E_UNSUPPORTED);
    card_done(c);
}

/* 11.1: ECDSA over a SHA-256 digest, short form, DER answer. */
static void test_sign_ecdsa_short(void **state)
{
    static const script_step steps[] = {
        {"80 68 01 70 20 2C F2 4D BA 5F B0 A3 0E 26 E8 3B 2A C5 B9 E2 9E 1B 16 1E 5C 1F A7 42 "
         "5E 73 04 33 62 93 8B 98 24 00",
         "30 06 02 01 01 02 01 02 90 00"},
        {NULL},
    };
    uint8_t digest[32], sig[256];
    size_t sig_len = sizeof(sig);
    pico_card *c = card_with(steps);

    script_hex("2C F2 4D BA 5F B0 A3 0E 26 E8 3B 2A C5 B9 E2 9E 1B 16 1E 5C 1F A7 42 5E 73 04 33 "
               "62 93 8B 98 24",
               digest, sizeof(digest));
    assert_int_equal(pico_schsm_sign(c, 1, PICO_ALG_ECDSA, digest, sizeof(digest), sig, &sig_len),
                     PICO_OK);
    assert_int_equal(sig_len, 8);
    assert_int_equal(sig[0], 0x30);
    assert_int_equal(c->apdus, 1);
    card_done(c);
}

/* RSA-2048 raw: 256 bytes in, 256 out, so extended Lc and Le (1.4) in one APDU. */
static void test_sign_rsa_extended(void **state)
{
    static char cmd[2048], resp[2048];
    script_step steps[] = {{cmd, resp}, {NULL}};
    uint8_t block[256], sig[256];
    size_t sig_len = sizeof(sig), i;
    char *p;
    pico_card *c;

    memset(block, 0xAB, sizeof(block));
    p = cmd + sprintf(cmd, "80 68 02 20 00 01 00");
    for (i = 0; i < 256; i++)
        p += sprintf(p, " AB");
    sprintf(p, " 01 00");
    p = resp;
    for (i = 0; i < 256; i++)
        p += sprintf(p, "%02X", (unsigned)i);
    sprintf(p, "9000");
    c = card_with(steps);
    assert_int_equal(pico_schsm_sign(c, 2, PICO_ALG_RSA_RAW, block, sizeof(block), sig, &sig_len),
                     PICO_OK);
    assert_int_equal(sig_len, 256);
    assert_int_equal(sig[255], 0xFF);
    card_done(c);
}

/* 1.6: 61xx is followed by GET RESPONSE and the parts are joined. */
static void test_get_response_chain(void **state)
{
    static const script_step steps[] = {
        {"80 62 03 80 03 04 01 02 00", "04 AA BB 61 02"},
        {"00 C0 00 00 02", "CC DD 90 00"},
        {NULL},
    };
    static const uint8_t peer[] = {0x04, 0x01, 0x02};
    uint8_t out[256];
    size_t out_len = sizeof(out);
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_decipher(c, 3, PICO_ALG_ECDH, peer, sizeof(peer), out, &out_len),
                     PICO_OK);
    assert_int_equal(out_len, 5);
    assert_memory_equal(out, "\x04\xAA\xBB\xCC\xDD", 5);
    assert_int_equal(c->apdus, 2);
    card_done(c);
}

/* 7: the status words of a key operation say what to do. */
static void test_sign_status_words(void **state)
{
    static const script_step steps[] = {
        {"80 68 01 70 01 00 00", "69 82"},
        {"80 68 01 70 01 00 00", "64 00"},
        {"80 68 01 70 01 00 00", "6A 82"},
        {"80 68 01 70 01 00 00", "6A 86"},
        {"80 68 01 70 01 00 00", "90"},
        {"80 68 01 70 01 00 00", NULL, PICO_E_REMOVED},
        {NULL},
    };
    uint8_t in = 0, out[256];
    size_t out_len;
    pico_card *c = card_with(steps);
    pico_err want[] = {PICO_E_NOT_LOGGED_IN, PICO_E_KEY_LOCKED,   PICO_E_NOT_FOUND,
                       PICO_E_UNSUPPORTED,   PICO_E_BAD_RESPONSE, PICO_E_REMOVED};
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        out_len = sizeof(out);
        assert_int_equal(pico_schsm_sign(c, 1, PICO_ALG_ECDSA, &in, 1, out, &out_len), want[i]);
    }
    card_done(c);
}

/* 2.4 / 6.5: extended Le; 0000 fillers dropped. */
static void test_list_objects(void **state)
{
    static const script_step steps[] = {
        {"80 58 00 00 00 00 00", "C4 00 CC 00 CC 02 CC 01 C4 02 C4 01 00 00 90 00"},
        {NULL},
    };
    uint16_t fids[16];
    size_t n = 16;
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_list(c, fids, &n), PICO_OK);
    assert_int_equal(n, 6);
    assert_int_equal(fids[0], 0xC400);
    assert_int_equal(fids[2], 0xCC02);
    assert_int_equal(fids[5], 0xC401);
    card_done(c);
}

/* 2.5: READ BINARY with extended Le and offset 0; a short answer ends the file. */
static void test_read_small_file(void **state)
{
    static const script_step steps[] = {
        {"00 B1 2F 02 00 00 04 54 02 00 00 00 00", "7F 21 03 01 02 03 90 00"},
        {NULL},
    };
    uint8_t *data;
    size_t len;
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_read_file(c, 0x2F02, &data, &len), PICO_OK);
    assert_int_equal(len, 6);
    assert_int_equal(data[0], 0x7F);
    free(data);
    card_done(c);
}

/* 6.6: a file of more than 2028 bytes comes in pieces at growing offsets. */
static void test_read_large_file(void **state)
{
    static char first[2028 * 2 + 8], second[64];
    script_step steps[] = {
        {"00 B1 CE 01 00 00 04 54 02 00 00 00 00", first},
        {"00 B1 CE 01 00 00 04 54 02 07 EC 00 00", second},
        {NULL},
    };
    uint8_t *data;
    size_t len, i;
    pico_card *c;

    for (i = 0; i < 2028; i++)
        memcpy(first + 2 * i, "11", 2);
    strcpy(first + 2 * 2028, "9000");
    strcpy(second, "2222 9000");
    c = card_with(steps);
    assert_int_equal(pico_schsm_read_file(c, 0xCE01, &data, &len), PICO_OK);
    assert_int_equal(len, 2030);
    assert_int_equal(data[2029], 0x22);
    free(data);
    card_done(c);
}

/* 6.7 and 6.8 */
static void test_update_and_delete(void **state)
{
    static const script_step steps[] = {
        {"00 D7 C4 01 09 54 02 00 00 53 03 A0 01 00", "90 00"},
        {"00 E4 02 00 02 CC 01", "90 00"},
        {"00 E4 02 00 02 CC 07", "6A 82"},
        {NULL},
    };
    static const uint8_t prkd[] = {0xA0, 0x01, 0x00};
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_update_file(c, 0xC401, prkd, sizeof(prkd)), PICO_OK);
    assert_int_equal(pico_schsm_delete_file(c, 0xCC01), PICO_OK);
    assert_int_equal(pico_schsm_delete_file(c, 0xCC07), PICO_E_NOT_FOUND);
    card_done(c);
}

/* 6.2: extended form; key reference 0 is refused before anything is sent. */
static void test_generate(void **state)
{
    static const script_step steps[] = {
        {"00 46 05 00 00 00 03 5F 29 00 00 00", "67 02 7F 21 90 00"},
        {"00 46 05 00 00 00 03 5F 29 00 00 00", "90 00"},
        {NULL},
    };
    static const uint8_t req[] = {0x5F, 0x29, 0x00};
    uint8_t *cv;
    size_t cv_len;
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_generate(c, 0, req, sizeof(req), &cv, &cv_len), PICO_E_ARGS);
    assert_int_equal(pico_schsm_generate(c, 5, req, sizeof(req), &cv, &cv_len), PICO_OK);
    assert_int_equal(cv_len, 4);
    free(cv);
    /* 9000 without data: the firmware's "no key created" quirk (field-notes.md) */
    assert_int_equal(pico_schsm_generate(c, 5, req, sizeof(req), &cv, &cv_len), PICO_E_UNSUPPORTED);
    card_done(c);
}

/* 2.3 */
static void test_pka_status(void **state)
{
    static const script_step steps[] = {
        {"80 54 00 00 00", "01 00 01 00 90 00"},
        {"80 54 00 00 00", "6A 86"},
        {NULL},
    };
    uint8_t st[4];
    pico_card *c = card_with(steps);

    assert_int_equal(pico_schsm_pka_status(c, st), PICO_OK);
    assert_memory_equal(st, "\x01\x00\x01\x00", 4);
    assert_int_equal(pico_schsm_pka_status(c, st), PICO_E_UNSUPPORTED);
    card_done(c);
}

#define SIG64                                                                                      \
    "A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 "   \
    "A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5 "   \
    "A5 A5 A5 A5"
#define CHR_HEX "44 45 50 4B 41 30 30 30 30 31 30 30 30 30 31" /* "DEPKA0000100001" */

/* 5.4: MSE SET AT 81 A4 with tag 83 = CHR; 6985 = already done, 6A88 = unknown */
static void test_mse_set_pka(void **state)
{
    static const script_step steps[] = {
        {"00 22 81 A4 11 83 0F " CHR_HEX, "90 00"},
        {"00 22 81 A4 11 83 0F " CHR_HEX, "69 85"},
        {"00 22 81 A4 11 83 0F " CHR_HEX, "6A 88"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    int done = -1;

    assert_int_equal(pico_schsm_mse_set_pka(c, (const uint8_t *)"DEPKA0000100001", 15, &done),
                     PICO_OK);
    assert_int_equal(done, 0);
    assert_int_equal(pico_schsm_mse_set_pka(c, (const uint8_t *)"DEPKA0000100001", 15, &done),
                     PICO_OK);
    assert_int_equal(done, 1);
    assert_int_equal(pico_schsm_mse_set_pka(c, (const uint8_t *)"DEPKA0000100001", 15, &done),
                     PICO_E_NOT_FOUND);
    card_done(c);
}

/* 5.5 and 5.6: an 8-byte challenge, then a 64-byte r||s; 6985 = refused */
static void test_challenge_and_external_authenticate(void **state)
{
    static const script_step steps[] = {
        {"00 84 00 00 08", "84 B9 7D 43 88 E8 4A 76 90 00"},
        {"00 84 00 00 08", "84 B9 7D 43 90 00"},
        {"00 82 00 00 40 " SIG64, "90 00"},
        {"00 82 00 00 40 " SIG64, "69 85"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    uint8_t ch[8], sig[64];

    assert_int_equal(pico_schsm_get_challenge(c, ch, 8), PICO_OK);
    assert_memory_equal(ch, "\x84\xB9\x7D\x43\x88\xE8\x4A\x76", 8);
    assert_int_equal(pico_schsm_get_challenge(c, ch, 8), PICO_E_BAD_RESPONSE);
    memset(sig, 0xA5, sizeof(sig));
    assert_int_equal(pico_schsm_external_authenticate(c, sig, sizeof(sig)), PICO_OK);
    assert_int_equal(pico_schsm_external_authenticate(c, sig, sizeof(sig)), PICO_E_PKA_FAILED);
    card_done(c);
}

/* 5.3: QUERY answers the CHR with 9000 (registered) or 9001 (authenticated); 6A88 empty */
static void test_pka_query(void **state)
{
    static const script_step steps[] = {
        {"80 54 02 00 00", CHR_HEX " 90 00"},
        {"80 54 02 01 00", CHR_HEX " 90 01"},
        {"80 54 02 02 00", "6A 88"},
        {"80 54 02 09 00", "6A 86"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    char chr[32];
    int auth = -1;

    assert_int_equal(pico_schsm_pka_query(c, 0, chr, sizeof(chr), &auth), PICO_OK);
    assert_string_equal(chr, "DEPKA0000100001");
    assert_int_equal(auth, 0);
    assert_int_equal(pico_schsm_pka_query(c, 1, chr, sizeof(chr), &auth), PICO_OK);
    assert_int_equal(auth, 1);
    assert_int_equal(pico_schsm_pka_query(c, 2, chr, sizeof(chr), &auth), PICO_E_NOT_FOUND);
    assert_int_equal(pico_schsm_pka_query(c, 9, chr, sizeof(chr), &auth), PICO_E_UNSUPPORTED);
    card_done(c);
}

/* 5.3: ADD and REPLACE send the request in an extended APDU and answer the new status */
static void test_pka_register_and_replace(void **state)
{
    static const script_step steps[] = {
        {"80 54 00 00 00 00 04 67 02 7F 21 01 00", "03 02 02 00 90 00"},
        {"80 54 00 00 00 00 04 67 02 7F 21 01 00", "6A 84"},
        {"80 54 01 02 00 00 04 67 02 7F 21 01 00", "69 85"},
        {"80 54 01 02 00 00 04 67 02 7F 21 01 00", "03 00 02 00 90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    static const uint8_t req[] = {0x67, 0x02, 0x7F, 0x21};
    uint8_t st[4];

    assert_int_equal(pico_schsm_pka_register(c, req, sizeof(req), st), PICO_OK);
    assert_memory_equal(st, "\x03\x02\x02\x00", 4);
    assert_int_equal(pico_schsm_pka_register(c, req, sizeof(req), st), PICO_E_DEVICE);
    assert_int_equal(pico_schsm_pka_replace(c, 2, req, sizeof(req), st), PICO_E_CONDITIONS);
    assert_int_equal(pico_schsm_pka_replace(c, 2, req, sizeof(req), st), PICO_OK);
    card_done(c);
}

/* 3.1: tags in sc-hsm-tool's order; no 81 for a PKA-only device */
static void test_initialize(void **state)
{
    static const script_step steps[] = {
        {"80 50 00 00 1D 80 02 00 19 81 06 36 34 38 32 31 39 82 08 35 37 36 32 31 38 38 30 "
         "91 01 05 93 02 03 02",
         "90 00"},
        {"80 50 00 00 15 80 02 00 01 82 08 35 37 36 32 31 38 38 30 92 01 00 93 02 01 01", "90 00"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    static const uint8_t so[8] = {0x35, 0x37, 0x36, 0x32, 0x31, 0x38, 0x38, 0x30};
    pico_init_spec spec = {PICO_OPT_RESET_RETRY | PICO_OPT_PKA_REPLACEABLE | PICO_OPT_PIN_AND_PKA,
                           "648219",
                           so,
                           5,
                           -1,
                           3,
                           2,
                           0};
    pico_init_spec pka_only = {PICO_OPT_RESET_RETRY, NULL, so, 0, 0, 1, 1, 0};
    pico_init_spec bad = {0, NULL, so, 0, -1, 0, 0, 0};

    assert_int_equal(pico_schsm_initialize(c, &spec), PICO_OK);
    assert_int_equal(pico_schsm_initialize(c, &pka_only), PICO_OK);
    /* neither a PIN nor PKA: refused before any APDU */
    assert_int_equal(pico_schsm_initialize(c, &bad), PICO_E_ARGS);
    bad.pin = "1234";
    bad.pka_total = 2;
    bad.pka_required = 3;
    assert_int_equal(pico_schsm_initialize(c, &bad), PICO_E_ARGS);
    card_done(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_parses_options_and_version),
        cmocka_unit_test(test_select_other_card),
        cmocka_unit_test(test_select_truncated_fcp),
        cmocka_unit_test(test_pin_status_spends_no_try),
        cmocka_unit_test(test_verify_pin),
        cmocka_unit_test(test_change_and_unblock_pin),
        cmocka_unit_test(test_sign_ecdsa_short),
        cmocka_unit_test(test_sign_rsa_extended),
        cmocka_unit_test(test_get_response_chain),
        cmocka_unit_test(test_sign_status_words),
        cmocka_unit_test(test_list_objects),
        cmocka_unit_test(test_read_small_file),
        cmocka_unit_test(test_read_large_file),
        cmocka_unit_test(test_update_and_delete),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_pka_status),
        cmocka_unit_test(test_mse_set_pka),
        cmocka_unit_test(test_challenge_and_external_authenticate),
        cmocka_unit_test(test_pka_query),
        cmocka_unit_test(test_pka_register_and_replace),
        cmocka_unit_test(test_initialize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
