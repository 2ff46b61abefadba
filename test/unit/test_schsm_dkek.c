/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK and key domain commands of common/schsm.c (sc-hsm-protocol.md 8.1,
 * pico-hsm cmd_key_domain.c) against a scripted transport: the exact APDUs
 * and the parsing of their answers and status words.
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

#define SEQ32                                                                                      \
    "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D "   \
    "1E 1F"

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

static const uint8_t kcv_seq[8] = {0x63, 0x0D, 0xCD, 0x29, 0x66, 0xC4, 0x33, 0x66};

/* 8.1 verified: after INIT 92 01 01 the status is 01 01 00..00; importing 00..1F completes it. */
static void test_status_and_import(void **state)
{
    static const script_step steps[] = {
        {"80 52 00 00 00", "01 01 00 00 00 00 00 00 00 00 90 00"},
        {"80 52 00 00 20 " SEQ32 " 00", "01 00 63 0D CD 29 66 C4 33 66 90 00"},
        {"80 52 00 00 20 " SEQ32 " 00", "69 86"},
        {"80 52 00 03 00", "6A 88"},
        {"80 52 00 05 00", "6A 86"},
        {NULL},
    };
    static const uint8_t zeros[8] = {0};
    uint8_t share[32];
    pico_card *c = card_with(steps);
    pico_dkek_info info;

    (void)state;
    for (int i = 0; i < 32; i++)
        share[i] = (uint8_t)i;
    assert_int_equal(pico_schsm_dkek_status(c, 0, &info), PICO_OK);
    assert_int_equal(info.total, 1);
    assert_int_equal(info.missing, 1);
    assert_memory_equal(info.kcv, zeros, 8);
    assert_int_equal(info.xkek_len, 0);
    assert_int_equal(pico_schsm_dkek_import(c, 0, share, &info), PICO_OK);
    assert_int_equal(info.total, 1);
    assert_int_equal(info.missing, 0);
    assert_memory_equal(info.kcv, kcv_seq, 8);
    /* complete: 6986 */
    assert_int_equal(pico_schsm_dkek_import(c, 0, share, &info), PICO_E_CONDITIONS);
    /* a domain not set up is an answer (not raised), one the device lacks an error */
    assert_int_equal(pico_schsm_dkek_status(c, 3, &info), PICO_E_NOT_FOUND);
    assert_int_equal(pico_schsm_dkek_status(c, 5, &info), PICO_E_UNSUPPORTED);
    /* beyond the firmware's 16 domains: refused on the host */
    assert_int_equal(pico_schsm_dkek_status(c, 16, &info), PICO_E_ARGS);
    card_done(c);
}

/* create (P1=01, one data byte), forget (P1=04), delete (P1=03, 6A88 is its success). */
static void test_domain_create_forget_delete(void **state)
{
    static const script_step steps[] = {
        {"80 52 01 02 01 03 00", "03 03 00 00 00 00 00 00 00 00 90 00"},
        {"80 52 01 02 01 03 00", "6A 86"},
        {"80 52 01 01 01 02 00", "69 85"},
        {"80 52 04 02 00", "03 03 00 00 00 00 00 00 00 00 90 00"},
        {"80 52 03 02", "6A 88"},
        {"80 52 03 01", "6A 89"},
        {NULL},
    };
    pico_card *c = card_with(steps);
    pico_dkek_info info;

    (void)state;
    assert_int_equal(pico_schsm_domain_create(c, 2, 3, &info), PICO_OK);
    assert_int_equal(info.total, 3);
    assert_int_equal(info.missing, 3);
    /* set up already */
    assert_int_equal(pico_schsm_domain_create(c, 2, 3, &info), PICO_E_UNSUPPORTED);
    /* no PIN session */
    assert_int_equal(pico_schsm_domain_create(c, 1, 2, &info), PICO_E_CONDITIONS);
    assert_int_equal(pico_schsm_domain_forget(c, 2, &info), PICO_OK);
    assert_int_equal(info.missing, 3);
    assert_int_equal(pico_schsm_domain_delete(c, 2), PICO_OK);
    /* keys still in it */
    assert_int_equal(pico_schsm_domain_delete(c, 1), PICO_E_CONDITIONS);
    card_done(c);
}

/* The answer of an XKEK domain carries its UID after the KCV; a short answer is refused. */
static void test_parse_xkek_and_short(void **state)
{
    static const uint8_t ans[] = {0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB, 0xCC};
    pico_dkek_info info;

    (void)state;
    assert_int_equal(pico_schsm_dkek_parse(ans, sizeof(ans), &info), PICO_OK);
    assert_int_equal(info.total, 0xFF);
    assert_int_equal(info.xkek_len, 3);
    assert_int_equal(info.xkek_uid[2], 0xCC);
    assert_int_equal(pico_schsm_dkek_parse(ans, 9, &info), PICO_E_BAD_RESPONSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_import),
        cmocka_unit_test(test_domain_create_forget_delete),
        cmocka_unit_test(test_parse_xkek_and_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
