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
#include <openssl/err.h>

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

/*
 * 2.1, 4.5: a PKA-only device answers the PIN status 63C3 as one with a PIN; the FCP of EF
 * 1081 (SELECT, no try) shows 33 bytes there, 34 with a PIN (answers of pico-hsm 6.6's
 * emulator). Without PKA a 63Cx is a PIN; before 6.6 the size says nothing; no VERIFY with
 * data is ever sent.
 */
static void test_user_pin_set_without_a_try(void **state)
{
    static const script_step steps[] = {
        {"00 20 00 81", "63 C3"},
        {"80 54 00 00 00", "01 00 01 00 90 00"},
        {"00 A4 00 00 02 10 81 00", "62 0E 81 02 00 21 82 01 08 83 02 10 81 8A 01 05 90 00"},
        {"00 20 00 81", "63 C3"},
        {"80 54 00 00 00", "01 00 01 00 90 00"},
        {"00 A4 00 00 02 10 81 00", "62 0E 81 02 00 22 82 01 08 83 02 10 81 8A 01 05 90 00"},
        {"00 20 00 81", "63 C2"},
        {"80 54 00 00 00", "6A 86"},
        {"00 20 00 81", "6A 88"},
        {"00 20 00 81", "63 C3"},
        {"80 54 00 00 00", "01 00 01 00 90 00"},
        {"00 20 00 81", "63 C3"},
        {"80 54 00 00 00", "01 00 01 00 90 00"},
        {"00 A4 00 00 02 10 81 00", "6A 82"},
        {NULL},
    };
    pico_select_info v66 = {0x0001, 6, 6}, v64 = {0x0001, 6, 4};
    pico_card *c = card_with(steps);
    pico_pin_state st;
    int set;

    assert_int_equal(pico_schsm_user_pin_set(c, &v66, &st, &set, NULL), PICO_OK);
    assert_int_equal(st, PICO_PIN_TRIES);
    assert_int_equal(set, 0);
    assert_int_equal(pico_schsm_user_pin_set(c, &v66, &st, &set, NULL), PICO_OK);
    assert_int_equal(set, 1);
    assert_int_equal(pico_schsm_user_pin_set(c, &v66, &st, &set, NULL), PICO_OK);
    assert_int_equal(set, 1); /* no PKA */
    assert_int_equal(pico_schsm_user_pin_set(c, &v66, &st, &set, NULL), PICO_OK);
    assert_int_equal(st, PICO_PIN_NOT_SET);
    assert_int_equal(set, 0);
    assert_int_equal(pico_schsm_user_pin_set(c, &v64, &st, &set, NULL), PICO_OK);
    assert_int_equal(set, -1); /* before 6.6: not asked */
    assert_int_equal(pico_schsm_user_pin_set(c, &v66, &st, &set, NULL), PICO_OK);
    assert_int_equal(set, -1); /* no such EF */
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

/* A script of n steps from a generator, for chains too long to write out. The strings live
 * in one block freed with the steps. */
typedef struct chain_script {
    script_step *steps;
    char *text;
} chain_script;

static void chain_free(chain_script *cs)
{
    free(cs->steps);
    free(cs->text);
}

/* First command cmd0, then GET RESPONSE "00 C0 00 00 <sw2>" for every 61xx answer before it;
 * answer i has data_len(i) bytes of value (i & 0xFF) and status word sw(i). */
static void chain_build(chain_script *cs, const char *cmd0, size_t n, size_t (*data_len)(size_t),
                        uint16_t (*sw)(size_t))
{
    size_t i, j, per = 3 * 1024 + 128, off = 0;
    uint16_t prev = 0;

    cs->steps = calloc(n + 1, sizeof(*cs->steps));
    cs->text = malloc(n * per);
    assert_non_null(cs->steps);
    assert_non_null(cs->text);
    for (i = 0; i < n; i++) {
        char *cmd = cs->text + off, *resp = cmd + 128, *q;
        size_t len = data_len(i);

        assert_true(len <= 1024 && strlen(cmd0) < 128);
        if (i == 0)
            snprintf(cmd, 128, "%s", cmd0);
        else
            snprintf(cmd, 128, "00 C0 00 00 %02X", (unsigned)(prev & 0xFF));
        q = resp;
        for (j = 0; j < len; j++)
            q += sprintf(q, "%02X", (unsigned)(i & 0xFF));
        prev = sw(i);
        sprintf(q, "%04X", (unsigned)prev);
        cs->steps[i].cmd = cmd;
        cs->steps[i].resp = resp;
        off += per;
    }
}

static char chain_error[256];

static void chain_record(void *arg, pico_err code, const char *file, int line, const char *func,
                         const char *fmt, va_list ap)
{
    vsnprintf(chain_error, sizeof(chain_error), fmt, ap);
}

static size_t no_data(size_t i)
{
    return 0;
}

static size_t one_byte(size_t i)
{
    return 1;
}

static size_t full_part(size_t i)
{
    return 256;
}

static size_t kb_part(size_t i)
{
    return 1024;
}

static uint16_t more_256(size_t i)
{
    return 0x6100;
}

static uint16_t more_1(size_t i)
{
    return 0x6101;
}

static uint16_t last_of_max(size_t i)
{
    return i + 1 == PICO_CHAIN_MAX_BYTES / 256 ? 0x9000 : 0x6100;
}

static uint16_t gakp_671(size_t i)
{
    return i == 0 ? 0x6100 : i == 1 ? 0x619F : 0x9000;
}

static size_t gakp_671_len(size_t i)
{
    return i < 2 ? 256 : 159;
}

/* 1.6: the verified 671-byte GENERATE answer (256 + 6100, 256 + 619F, 159 + 9000) is joined. */
static void test_get_response_generate_671(void **state)
{
    static const uint8_t req[] = {0x5F, 0x29, 0x00};
    chain_script cs;
    uint8_t *cv;
    size_t cv_len;
    pico_card *c;

    chain_build(&cs, "00 46 05 00 00 00 03 5F 29 00 00 00", 3, gakp_671_len, gakp_671);
    c = card_with(cs.steps);
    assert_int_equal(pico_schsm_generate(c, 5, req, sizeof(req), &cv, &cv_len), PICO_OK);
    assert_int_equal(cv_len, 671);
    assert_int_equal(cv[0], 0x00);
    assert_int_equal(cv[256], 0x01);
    assert_int_equal(cv[670], 0x02);
    assert_int_equal(c->apdus, 3);
    free(cv);
    card_done(c);
    chain_free(&cs);
}

/* The longest answer a chain may carry (65536 bytes, the extended Ne) still comes whole. */
static void test_get_response_longest_chain(void **state)
{
    pico_apdu a = {0x80, 0x68, 0x01, 0x70, NULL, 0, 256, 0};
    chain_script cs;
    uint8_t *out = malloc(PICO_CHAIN_MAX_BYTES + 1024);
    size_t len = PICO_CHAIN_MAX_BYTES + 1024;
    uint16_t sw;
    pico_card *c;

    assert_non_null(out);
    chain_build(&cs, "80 68 01 70 00", PICO_CHAIN_MAX_BYTES / 256, full_part, last_of_max);
    c = card_with(cs.steps);
    assert_int_equal(pico_schsm_xfer(c, "SIGN", &a, 0, out, &len, &sw), PICO_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(len, PICO_CHAIN_MAX_BYTES);
    assert_int_equal(out[PICO_CHAIN_MAX_BYTES - 1], (PICO_CHAIN_MAX_BYTES / 256 - 1) & 0xFF);
    card_done(c);
    chain_free(&cs);
    free(out);
}

/* A card that answers 61xx forever (no data, one byte, or full parts each time) gets at most
 * PICO_CHAIN_MAX_APDUS exchanges, then the command fails: it used to loop forever holding the
 * device lock. */
static void endless_chain(size_t (*data_len)(size_t), uint16_t (*sw)(size_t), size_t apdus)
{
    pico_apdu a = {0x80, 0x68, 0x01, 0x70, NULL, 0, 256, 0};
    chain_script cs;
    uint8_t *out = malloc(2 * PICO_CHAIN_MAX_BYTES);
    size_t len = 2 * PICO_CHAIN_MAX_BYTES;
    uint16_t last;
    pico_card *c;

    assert_non_null(out);
    chain_build(&cs, "80 68 01 70 00", apdus, data_len, sw);
    c = card_with(cs.steps);
    chain_error[0] = '\0';
    pico_err_set_handler(chain_record, NULL);
    assert_int_equal(pico_schsm_xfer(c, "SIGN", &a, 0, out, &len, &last), PICO_E_BAD_RESPONSE);
    pico_err_set_handler(NULL, NULL);
    assert_non_null(strstr(chain_error, "SIGN: answer chain without end"));
    assert_int_equal(c->apdus, apdus);
    card_done(c);
    chain_free(&cs);
    free(out);
}

static void test_get_response_endless_no_data(void **state)
{
    endless_chain(no_data, more_256, PICO_CHAIN_MAX_APDUS);
}

static void test_get_response_endless_one_byte(void **state)
{
    endless_chain(one_byte, more_1, PICO_CHAIN_MAX_APDUS);
}

static void test_get_response_endless_full_parts(void **state)
{
    endless_chain(full_part, more_256, PICO_CHAIN_MAX_APDUS);
}

/* Parts of 1 KB (an extended GET RESPONSE would bring them): the byte bound ends the chain
 * at the part that goes past 65536 bytes, long before the round bound. */
static void test_get_response_endless_big_parts(void **state)
{
    endless_chain(kb_part, more_256, PICO_CHAIN_MAX_BYTES / 1024 + 1);
}

/* Every command that can chain ends on an endless 61 00 without data, with the same error:
 * the first command of each, then GET RESPONSE until the bound. */
static void test_get_response_endless_every_command(void **state)
{
    static const uint8_t req[] = {0x5F, 0x29, 0x00}, pin[] = {'6', '4', '8', '2', '1', '9'};
    static const uint8_t so[8] = {0x35, 0x37, 0x36, 0x32, 0x31, 0x37, 0x34, 0x39};
    static const char *const first[] = {
        "00 A4 04 00 0B " AID " 00",
        "00 20 00 81",
        "00 20 00 81 06 36 34 38 32 31 39",
        "80 58 00 00 00 00 00",
        "00 B1 2F 02 00 00 04 54 02 00 00 00 00",
        "00 46 05 00 00 00 03 5F 29 00 00 00",
        "80 68 01 70 01 00 00",
        "80 54 00 00 00",
        "80 54 02 01 00",
        "00 84 00 00 08",
        "00 E4 02 00 02 CC 01",
        "00 2C 01 81 08 35 37 36 32 31 37 34 39",
        "00 24 00 81 0C 36 34 38 32 31 39 36 34 38 32 31 39",
        "00 2C 00 81 0E 35 37 36 32 31 37 34 39 36 34 38 32 31 39",
        "00 D7 C4 01 09 54 02 00 00 53 03 5F 29 00",
        "80 62 03 80 03 5F 29 00 00",
        "80 54 00 00 00 00 03 5F 29 00 01 00",
        "00 22 81 A4 05 83 03 5F 29 00",
        "00 82 00 00 03 5F 29 00",
        "80 50 00 00 16 80 02 00 00 81 06 36 34 38 32 31 39 82 08 35 37 36 32 31 37 34 39",
    };
    pico_init_spec spec = {0};
    size_t i;

    for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        chain_script cs;
        pico_card *c;
        pico_select_info info;
        pico_pin_state st;
        uint8_t buf[256], *data = NULL, one = 0;
        uint16_t fids[8];
        size_t len = sizeof(buf), count = 8;
        int tries, auth;
        char chr[64];
        pico_err err = PICO_OK;

        chain_build(&cs, first[i], PICO_CHAIN_MAX_APDUS, no_data, more_256);
        c = card_with(cs.steps);
        chain_error[0] = '\0';
        pico_err_set_handler(chain_record, NULL);
        switch (i) {
        case 0:
            err = pico_schsm_select(c, &info);
            break;
        case 1:
            err = pico_schsm_pin_status(c, PICO_PIN_USER, &st, &tries);
            break;
        case 2:
            err = pico_schsm_verify(c, PICO_PIN_USER, pin, sizeof(pin), &tries);
            break;
        case 3:
            err = pico_schsm_list(c, fids, &count);
            break;
        case 4:
            err = pico_schsm_read_file(c, 0x2F02, &data, &len);
            break;
        case 5:
            err = pico_schsm_generate(c, 5, req, sizeof(req), &data, &len);
            break;
        case 6:
            err = pico_schsm_sign(c, 1, PICO_ALG_ECDSA, &one, 1, buf, &len);
            break;
        case 7:
            err = pico_schsm_pka_status(c, buf);
            break;
        case 8:
            err = pico_schsm_pka_query(c, 1, chr, sizeof(chr), &auth);
            break;
        case 9:
            err = pico_schsm_get_challenge(c, buf, 8);
            break;
        case 10:
            err = pico_schsm_delete_file(c, 0xCC01);
            break;
        case 11:
            err = pico_schsm_reset_retry_counter(c, so, sizeof(so), &tries);
            break;
        case 12:
            err =
                pico_schsm_change_pin(c, PICO_PIN_USER, pin, sizeof(pin), pin, sizeof(pin), &tries);
            break;
        case 13:
            err = pico_schsm_unblock_pin(c, so, sizeof(so), pin, sizeof(pin), &tries);
            break;
        case 14:
            err = pico_schsm_update_file(c, 0xC401, req, sizeof(req));
            break;
        case 15:
            err = pico_schsm_decipher(c, 3, PICO_ALG_ECDH, req, sizeof(req), buf, &len);
            break;
        case 16:
            err = pico_schsm_pka_register(c, req, sizeof(req), buf);
            break;
        case 17:
            err = pico_schsm_mse_set_pka(c, req, sizeof(req), &auth);
            break;
        case 18:
            err = pico_schsm_external_authenticate(c, req, sizeof(req));
            break;
        case 19:
            spec.pin = "648219";
            spec.so_pin = so;
            spec.dkek_shares = -1;
            err = pico_schsm_initialize(c, &spec);
            break;
        }
        pico_err_set_handler(NULL, NULL);
        assert_int_equal(err, PICO_E_BAD_RESPONSE);
        assert_non_null(strstr(chain_error, "answer chain without end"));
        assert_null(data);
        assert_int_equal(c->apdus, PICO_CHAIN_MAX_APDUS);
        card_done(c);
        chain_free(&cs);
    }
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

/* 6.2 policy (field notes): 6A84 and 6985 of a key operation name the key's use counter and
 * its allowed algorithms; 6A84 elsewhere stays "no space". */
static void test_key_policy_status_words(void **state)
{
    static const script_step steps[] = {
        {"80 68 01 70 01 00 00", "6A 84"},
        {"80 62 01 80 01 00 00", "69 85"},
        {NULL},
    };
    uint8_t in = 0, out[256];
    size_t out_len = sizeof(out);
    pico_card *c = card_with(steps);
    const char *data = NULL;

    ERR_clear_error();
    assert_int_equal(pico_schsm_sign(c, 1, PICO_ALG_ECDSA, &in, 1, out, &out_len),
                     PICO_E_CONDITIONS);
    assert_true(ERR_peek_last_error_data(&data, NULL) != 0 && data != NULL);
    assert_non_null(strstr(data, "use counter is exhausted"));
    out_len = sizeof(out);
    assert_int_equal(pico_schsm_decipher(c, 1, PICO_ALG_ECDH, &in, 1, out, &out_len),
                     PICO_E_CONDITIONS);
    assert_true(ERR_peek_last_error_data(&data, NULL) != 0 && data != NULL);
    assert_non_null(strstr(data, "allowed algorithms do not include"));
    ERR_clear_error();
    assert_int_equal(pico_schsm_sw_error(0x6A84, "MANAGE PKA"), PICO_E_DEVICE);
    assert_true(ERR_peek_last_error_data(&data, NULL) != 0 && data != NULL);
    assert_null(strstr(data, "the key's use counter"));
    ERR_clear_error();
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
        cmocka_unit_test(test_user_pin_set_without_a_try),
        cmocka_unit_test(test_verify_pin),
        cmocka_unit_test(test_change_and_unblock_pin),
        cmocka_unit_test(test_sign_ecdsa_short),
        cmocka_unit_test(test_sign_rsa_extended),
        cmocka_unit_test(test_get_response_chain),
        cmocka_unit_test(test_get_response_generate_671),
        cmocka_unit_test(test_get_response_longest_chain),
        cmocka_unit_test(test_get_response_endless_no_data),
        cmocka_unit_test(test_get_response_endless_one_byte),
        cmocka_unit_test(test_get_response_endless_full_parts),
        cmocka_unit_test(test_get_response_endless_big_parts),
        cmocka_unit_test(test_get_response_endless_every_command),
        cmocka_unit_test(test_sign_status_words),
        cmocka_unit_test(test_key_policy_status_words),
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
