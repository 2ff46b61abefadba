/* SPDX-License-Identifier: Apache-2.0 */
/* APDU encoding (common/apdu.c): the four ISO cases, short and extended (1.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apdu.h"

static void check(const pico_apdu *a, const uint8_t *want, size_t want_len)
{
    uint8_t out[600];
    size_t n = pico_apdu_encode(a, out, sizeof(out));

    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, n);
}

static void test_apdu_cases_short(void **state)
{
    static const uint8_t aid[] = {0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01};
    static const uint8_t c1[] = {0x00, 0x20, 0x00, 0x81};
    static const uint8_t c2[] = {0x00, 0x84, 0x00, 0x00, 0x08};
    static const uint8_t c3[] = {0x00, 0x20, 0x00, 0x81, 0x02, 0x31, 0x32};
    static const uint8_t c4[] = {0x00, 0xA4, 0x04, 0x00, 0x0B, 0xE8, 0x2B, 0x06, 0x01, 0x04,
                                 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01, 0x00};
    pico_apdu a1 = {0x00, 0x20, 0x00, 0x81, NULL, 0, 0, 0};
    pico_apdu a2 = {0x00, 0x84, 0x00, 0x00, NULL, 0, 8, 0};
    pico_apdu a3 = {0x00, 0x20, 0x00, 0x81, (const uint8_t *)"12", 2, 0, 0};
    pico_apdu a4 = {0x00, 0xA4, 0x04, 0x00, aid, sizeof(aid), 256, 0};

    check(&a1, c1, sizeof(c1));
    check(&a2, c2, sizeof(c2));
    check(&a3, c3, sizeof(c3));
    check(&a4, c4, sizeof(c4));
}

static void test_apdu_cases_extended(void **state)
{
    static const uint8_t c2e[] = {0x80, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t data[300] = {0};
    uint8_t c4e[7 + 300 + 2];
    pico_apdu a2 = {0x80, 0x58, 0x00, 0x00, NULL, 0, PICO_APDU_LE_MAX, 1};
    pico_apdu a4 = {0x80, 0x68, 0x01, 0x20, data, 300, 512, 0};
    pico_apdu forced = {0x00, 0xB1, 0x2F, 0x02, (const uint8_t *)"\x54\x02\x00\x00", 4,
                        PICO_APDU_LE_MAX, 1};
    static const uint8_t c_forced[] = {0x00, 0xB1, 0x2F, 0x02, 0x00, 0x00, 0x04, 0x54,
                                       0x02, 0x00, 0x00, 0x00, 0x00};

    check(&a2, c2e, sizeof(c2e));
    memcpy(c4e, "\x80\x68\x01\x20\x00\x01\x2C", 7);
    memset(c4e + 7, 0, 300);
    c4e[307] = 0x02;
    c4e[308] = 0x00;
    check(&a4, c4e, sizeof(c4e));
    /* 2.5: the exact READ BINARY of 2F02 */
    check(&forced, c_forced, sizeof(c_forced));
}

/* Never a short Lc with an extended Le (1.4): Le > 256 makes both extended. */
static void test_apdu_no_mixed_forms(void **state)
{
    static const uint8_t data[4] = {1, 2, 3, 4};
    pico_apdu a = {0x80, 0x62, 0x01, 0x21, data, 4, 512, 0};
    static const uint8_t want[] = {0x80, 0x62, 0x01, 0x21, 0x00, 0x00, 0x04, 1, 2, 3, 4, 0x02, 0x00};
    uint8_t small[8];

    check(&a, want, sizeof(want));
    assert_int_equal(pico_apdu_encode(&a, small, sizeof(small)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apdu_cases_short),
        cmocka_unit_test(test_apdu_cases_extended),
        cmocka_unit_test(test_apdu_no_mixed_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
