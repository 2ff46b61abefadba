/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual device's latency model (sim/latency.c): --latency lists and the command each applies
 * to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "latency.h"

static void test_every_key_and_fractions(void **state)
{
    sim_latency lat;

    (void)state;
    assert_int_equal(sim_latency_parse("sign=20,decipher=35.5,keygen=1500,apdu=0.25", &lat), 0);
    assert_int_equal(lat.sign_us, 20000);
    assert_int_equal(lat.decipher_us, 35500);
    assert_int_equal(lat.keygen_us, 1500000);
    assert_int_equal(lat.apdu_us, 250);
    assert_int_equal(sim_latency_for(&lat, 0x68), 20000);
    assert_int_equal(sim_latency_for(&lat, 0x62), 35500);
    assert_int_equal(sim_latency_for(&lat, 0x46), 1500000);
    assert_int_equal(sim_latency_for(&lat, 0xA4), 250);
    assert_int_equal(sim_latency_for(&lat, 0x20), 250);
}

static void test_subset_in_any_order_others_zero(void **state)
{
    sim_latency lat;

    (void)state;
    assert_int_equal(sim_latency_parse("keygen=3,sign=7", &lat), 0);
    assert_int_equal(lat.sign_us, 7000);
    assert_int_equal(lat.keygen_us, 3000);
    assert_int_equal(lat.decipher_us, 0);
    assert_int_equal(sim_latency_for(&lat, 0xB0), 0);
    /* a later value of the same key wins, as on a command line */
    assert_int_equal(sim_latency_parse("sign=7,sign=9", &lat), 0);
    assert_int_equal(lat.sign_us, 9000);
}

static void test_malformed_lists_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "sign",
        "sign=",
        "=20",
        "sign=20,",
        "sign=-1",
        "sign=1e3",
        "sign=60001",
        "verify=20",
        "sign=20;decipher=3",
        "sign=0x10",
        "signs=20",
        "sig=20",
        ",sign=20",
        "sign=20,,keygen=1",
        "sign=1.2.3",
        "sign=12345678901234567",
    };
    sim_latency lat;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("%s\n", bad[i]);
        assert_int_equal(sim_latency_parse(bad[i], &lat), -1);
    }
    assert_int_equal(sim_latency_parse(NULL, &lat), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_and_fractions),
        cmocka_unit_test(test_subset_in_any_order_others_zero),
        cmocka_unit_test(test_malformed_lists_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
