/* SPDX-License-Identifier: Apache-2.0 */
/* WRAP and UNWRAP (sc-hsm-protocol.md 8.2, 8.3): the APDUs common/schsm.c sends, byte for byte,
 * and what each refusal of the firmware becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schsm.h"
#include "script_transport.h"

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

/* 80 72 <ref> 92 with an extended Le (00 00 00): the blob can exceed 256 bytes */
static void test_wrap_apdu_and_answer(void **state)
{
    static const script_step steps[] = {
        {"80 72 05 92 00 00 00", "01 02 03 90 00"}, {"80 72 06 92 00 00 00", "6A 88"},
        {"80 72 07 92 00 00 00", "69 85"},          {"80 72 08 92 00 00 00", "6A 82"},
        {"80 72 09 92 00 00 00", "90 00"},          {NULL},
    };
    pico_card *c = card_with(steps);
    uint8_t *blob;
    size_t len;

    (void)state;
    assert_int_equal(pico_schsm_wrap(c, 5, &blob, &len), PICO_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(blob, "\x01\x02\x03", 3);
    free(blob);
    assert_int_equal(pico_schsm_wrap(c, 6, &blob, &len), PICO_E_NOT_FOUND); /* no dkek */
    assert_null(blob);
    assert_int_equal(pico_schsm_wrap(c, 7, &blob, &len), PICO_E_CONDITIONS); /* 91 without 92 */
    assert_int_equal(pico_schsm_wrap(c, 8, &blob, &len), PICO_E_NOT_FOUND);  /* no key */
    assert_int_equal(pico_schsm_wrap(c, 9, &blob, &len), PICO_E_DEVICE);     /* nothing back */
    card_done(c);
}

/* old style: 80 74 <ref> 93 Lc <blob>, no Le (the answer has no data); extended past 255 */
static void test_unwrap_data_field(void **state)
{
    static char ext[8 + 2 * 300 + 8];
    script_step steps[] = {
        {"80 74 03 93 04 0A 0B 0C 0D", "90 00"}, {ext, "90 00"},
        {"80 74 03 93 04 0A 0B 0C 0D", "64 00"}, {"80 74 03 93 04 0A 0B 0C 0D", "69 84"},
        {"80 74 03 93 04 0A 0B 0C 0D", "69 82"}, {NULL},
    };
    static const uint8_t blob[4] = {0x0A, 0x0B, 0x0C, 0x0D};
    uint8_t big[300];
    pico_card *c;

    (void)state;
    memset(big, 0xEE, sizeof(big));
    strcpy(ext, "80740393");
    strcat(ext, "00012C");
    for (size_t i = 0; i < sizeof(big); i++)
        strcat(ext, "EE");
    c = card_with(steps);
    assert_int_equal(pico_schsm_unwrap(c, 3, blob, sizeof(blob)), PICO_OK);
    assert_int_equal(pico_schsm_unwrap(c, 3, big, sizeof(big)), PICO_OK);
    assert_int_equal(pico_schsm_unwrap(c, 3, blob, sizeof(blob)), PICO_E_DEVICE);
    assert_int_equal(pico_schsm_unwrap(c, 3, blob, sizeof(blob)), PICO_E_DEVICE);
    assert_int_equal(pico_schsm_unwrap(c, 3, blob, sizeof(blob)), PICO_E_NOT_LOGGED_IN);
    /* reference 0 is the device key: refused before anything is sent */
    assert_int_equal(pico_schsm_unwrap(c, 0, blob, sizeof(blob)), PICO_E_ARGS);
    card_done(c);
}

/* new style (OpenSC): UPDATE BINARY of EF 2F10, then 80 74 <ref> 93 without data */
static void test_unwrap_via_ef_2f10(void **state)
{
    static const script_step steps[] = {
        {"00 D7 2F 10 0A 54 02 00 00 53 04 0A 0B 0C 0D", "90 00"},
        {"80 74 04 93", "90 00"},
        {NULL},
    };
    static const uint8_t blob[4] = {0x0A, 0x0B, 0x0C, 0x0D};
    pico_card *c = card_with(steps);

    (void)state;
    assert_int_equal(pico_schsm_unwrap_ef(c, 4, blob, sizeof(blob)), PICO_OK);
    card_done(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_apdu_and_answer),
        cmocka_unit_test(test_unwrap_data_field),
        cmocka_unit_test(test_unwrap_via_ef_2f10),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
