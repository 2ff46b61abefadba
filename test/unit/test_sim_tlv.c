/* SPDX-License-Identifier: Apache-2.0 */
/* The sim's BER-TLV reader and writer (sim/util.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* The MSE SET AT data of sc-hsm-protocol.md 11.2: one-byte tag, short length. */
static void test_tlv_next_short_form(void **state)
{
    static const uint8_t in[] = {0x83, 0x03, 'D', 'E', 'P', 0x84, 0x00};
    const uint8_t *p = in, *val;
    size_t left = sizeof(in), vlen;
    unsigned tag;

    assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), 1);
    assert_int_equal(tag, 0x83);
    assert_int_equal(vlen, 3);
    assert_memory_equal(val, "DEP", 3);
    assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), 1);
    assert_int_equal(tag, 0x84);
    assert_int_equal(vlen, 0);
    assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), 0);
}

/* Two-byte tags (7F21, 5F20) and the 0x82 long form, as in a CV request. */
static void test_tlv_next_two_byte_tag_long_length(void **state)
{
    uint8_t buf[5 + 300];
    const uint8_t *p = buf, *val;
    size_t left = sizeof(buf), vlen;
    unsigned tag;

    /* 7F21 82 01 2C: length 300 in the two-byte long form */
    buf[0] = 0x7F;
    buf[1] = 0x21;
    buf[2] = 0x82;
    buf[3] = 0x01;
    buf[4] = 0x2C;
    memset(buf + 5, 0xAB, 300);
    assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), 1);
    assert_int_equal(tag, 0x7F21);
    assert_int_equal(vlen, 300);
    assert_ptr_equal(val, buf + 5);
    assert_int_equal(left, 0);
}

static void test_tlv_next_0x81_length(void **state)
{
    uint8_t buf[3 + 0x90];
    const uint8_t *p = buf, *val;
    size_t left = sizeof(buf), vlen;
    unsigned tag;

    buf[0] = 0x53;
    buf[1] = 0x81;
    buf[2] = 0x90;
    memset(buf + 3, 0, 0x90);
    assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), 1);
    assert_int_equal(tag, 0x53);
    assert_int_equal(vlen, 0x90);
}

/* Each way of running off the end of the input is malformed, never a read past it. */
static void test_tlv_next_truncated(void **state)
{
    static const uint8_t value_short[] = {0x81, 0x06, 0x36, 0x34};
    static const uint8_t no_length[] = {0x81};
    static const uint8_t tag_cut[] = {0x7F};
    static const uint8_t long_len_cut[] = {0x53, 0x82, 0x01};
    static const uint8_t bad_len_form[] = {0x53, 0x80};
    static const uint8_t five_len_bytes[] = {0x53, 0x85, 0, 0, 0, 0, 1, 0};
    const uint8_t *cases[] = {value_short, no_length, tag_cut, long_len_cut, bad_len_form,
                              five_len_bytes};
    size_t sizes[] = {sizeof(value_short), sizeof(no_length), sizeof(tag_cut),
                      sizeof(long_len_cut), sizeof(bad_len_form), sizeof(five_len_bytes)};
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const uint8_t *p = cases[i], *val;
        size_t left = sizes[i], vlen;
        unsigned tag;
        assert_int_equal(sim_tlv_next(&p, &left, &tag, &val, &vlen), -1);
    }
}

/* The INITIALIZE data of sc-hsm-protocol.md 3.3: find tags in any position. */
static void test_tlv_find_initialize_data(void **state)
{
    static const uint8_t init[] = {0x80, 0x02, 0x00, 0x01, 0x81, 0x06, 0x36, 0x34, 0x38, 0x32,
                                   0x31, 0x39, 0x82, 0x08, 0x35, 0x37, 0x36, 0x32, 0x31, 0x38,
                                   0x38, 0x30, 0x91, 0x01, 0x03, 0x92, 0x01, 0x01, 0x93, 0x02,
                                   0x01, 0x01};
    const uint8_t *val;
    size_t vlen;

    assert_int_equal(sim_tlv_find(init, sizeof(init), 0x93, &val, &vlen), 1);
    assert_int_equal(vlen, 2);
    assert_int_equal(val[0], 1);
    assert_int_equal(val[1], 1);
    assert_int_equal(sim_tlv_find(init, sizeof(init), 0x81, &val, &vlen), 1);
    assert_memory_equal(val, "648219", 6);
    assert_int_equal(sim_tlv_find(init, sizeof(init), 0x97, &val, &vlen), 0);
    /* cut inside tag 82: a search past it meets the broken length */
    assert_int_equal(sim_tlv_find(init, 16, 0x91, &val, &vlen), -1);
}

/* The writer produces the canonical short and long forms, byte for byte. */
static void test_tlv_put_forms(void **state)
{
    static const uint8_t chr[] = "DEPKA0000100001";
    static const uint8_t want_chr[] = {0x5F, 0x20, 0x0F, 'D', 'E', 'P', 'K', 'A', '0', '0',
                                       '0', '0', '1', '0', '0', '0', '0', '1'};
    uint8_t big[0x1D0];
    sim_bytes out = {0};

    assert_int_equal(sim_tlv_put(&out, 0x5F20, chr, 15), 0);
    assert_int_equal(out.len, sizeof(want_chr));
    assert_memory_equal(out.data, want_chr, sizeof(want_chr));
    sim_bytes_clear(&out);

    memset(big, 0x11, sizeof(big));
    assert_int_equal(sim_tlv_put(&out, 0x67, big, sizeof(big)), 0);
    assert_int_equal(out.len, 4 + sizeof(big));
    assert_int_equal(out.data[0], 0x67);
    assert_int_equal(out.data[1], 0x82);
    assert_int_equal(out.data[2], 0x01);
    assert_int_equal(out.data[3], 0xD0);
    sim_bytes_clear(&out);

    assert_int_equal(sim_tlv_put(&out, 0x86, big, 0x41), 0);
    assert_int_equal(out.data[1], 0x41);
    sim_bytes_clear(&out);
    assert_int_equal(sim_tlv_put(&out, 0x5F37, big, 0x80), 0);
    assert_int_equal(out.data[2], 0x81);
    assert_int_equal(out.data[3], 0x80);
    assert_int_equal(sim_tlv_len_size(0x7F), 1);
    assert_int_equal(sim_tlv_len_size(0x80), 2);
    assert_int_equal(sim_tlv_len_size(0x100), 3);
    sim_bytes_free(&out);
}

/* What the writer writes, the reader reads back. */
static void test_tlv_roundtrip(void **state)
{
    static const unsigned tags[] = {0x42, 0x7F49, 0x5F29, 0x7F4E};
    static const size_t lens[] = {0, 127, 128, 1000};
    uint8_t val[1000];
    sim_bytes out = {0};
    const uint8_t *p, *v;
    size_t left, vlen, i;
    unsigned tag;

    memset(val, 0x5A, sizeof(val));
    for (i = 0; i < 4; i++)
        assert_int_equal(sim_tlv_put(&out, tags[i], val, lens[i]), 0);
    p = out.data;
    left = out.len;
    for (i = 0; i < 4; i++) {
        assert_int_equal(sim_tlv_next(&p, &left, &tag, &v, &vlen), 1);
        assert_int_equal(tag, tags[i]);
        assert_int_equal(vlen, lens[i]);
    }
    assert_int_equal(sim_tlv_next(&p, &left, &tag, &v, &vlen), 0);
    sim_bytes_free(&out);
}

static void test_bytes_append_grows_and_clears(void **state)
{
    sim_bytes b = {0};
    uint8_t chunk[100];
    int i;

    memset(chunk, 7, sizeof(chunk));
    for (i = 0; i < 50; i++)
        assert_int_equal(sim_bytes_append(&b, chunk, sizeof(chunk)), 0);
    assert_int_equal(b.len, 5000);
    assert_true(b.cap >= 5000);
    assert_int_equal(b.data[4999], 7);
    sim_bytes_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(sim_bytes_set(&b, "ab", 2), 0);
    assert_memory_equal(b.data, "ab", 2);
    sim_bytes_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlv_next_short_form),
        cmocka_unit_test(test_tlv_next_two_byte_tag_long_length),
        cmocka_unit_test(test_tlv_next_0x81_length),
        cmocka_unit_test(test_tlv_next_truncated),
        cmocka_unit_test(test_tlv_find_initialize_data),
        cmocka_unit_test(test_tlv_put_forms),
        cmocka_unit_test(test_tlv_roundtrip),
        cmocka_unit_test(test_bytes_append_grows_and_clears),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
