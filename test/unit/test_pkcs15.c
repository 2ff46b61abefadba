/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PrKD encoding and decoding (common/pkcs15.c) against sc-hsm-protocol.md 6.4;
 * certificate descriptions (C8xx, 6.1) against the bytes OpenSC writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs15.h"

/* 6.4: "Minimal EC P-256 example, label tls, ID 01 02" */
static const uint8_t ec_tls[] = {0xA0, 0x1E, 0x30, 0x05, 0x0C, 0x03, 0x74, 0x6C, 0x73, 0x30, 0x09,
                                 0x04, 0x02, 0x01, 0x02, 0x03, 0x03, 0x07, 0x20, 0x80, 0xA1, 0x0A,
                                 0x30, 0x08, 0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x01, 0x00};
/* 6.4: "RSA-2048 equivalent" */
static const uint8_t rsa_tls[] = {0x30, 0x1D, 0x30, 0x05, 0x0C, 0x03, 0x74, 0x6C, 0x73, 0x30, 0x08,
                                  0x04, 0x02, 0x01, 0x02, 0x03, 0x02, 0x02, 0x74, 0xA1, 0x0A, 0x30,
                                  0x08, 0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x08, 0x00};

static void test_prkd_encode_matches_reference(void **state)
{
    pico_prkd k;
    uint8_t out[128];
    size_t n;

    memset(&k, 0, sizeof(k));
    k.type = PICO_KEY_EC;
    strcpy(k.label, "tls");
    k.id[0] = 1;
    k.id[1] = 2;
    k.id_len = 2;
    k.size = 256;
    n = pico_prkd_encode(&k, out, sizeof(out));
    assert_int_equal(n, sizeof(ec_tls));
    assert_memory_equal(out, ec_tls, n);
    k.type = PICO_KEY_RSA;
    k.size = 2048;
    n = pico_prkd_encode(&k, out, sizeof(out));
    assert_int_equal(n, sizeof(rsa_tls));
    assert_memory_equal(out, rsa_tls, n);
    /* does not fit: 0, nothing half-written claimed */
    assert_int_equal(pico_prkd_encode(&k, out, 10), 0);
}

static void test_prkd_decode(void **state)
{
    pico_prkd k;

    assert_int_equal(pico_prkd_decode(ec_tls, sizeof(ec_tls), &k), 0);
    assert_int_equal(k.type, PICO_KEY_EC);
    assert_string_equal(k.label, "tls");
    assert_int_equal(k.id_len, 2);
    assert_int_equal(k.id[1], 2);
    assert_int_equal(k.size, 256);
    assert_int_equal(pico_prkd_decode(rsa_tls, sizeof(rsa_tls), &k), 0);
    assert_int_equal(k.type, PICO_KEY_RSA);
    assert_int_equal(k.size, 2048);
}

/* OpenSC adds flags, authId, keyReference and a [0] subclass: still label, id, size. */
static void test_prkd_decode_opensc_extras(void **state)
{
    static const uint8_t der[] = {
        0xA0, 0x29, 0x30, 0x0C, 0x0C, 0x03, 'w',  'e',  'b',  0x03, 0x02, 0x07, 0x80, 0x04, 0x01,
        0x01, 0x30, 0x0B, 0x04, 0x01, 0x45, 0x03, 0x03, 0x07, 0x20, 0x80, 0x02, 0x01, 0x03, 0xA0,
        0x00, 0xA1, 0x0A, 0x30, 0x08, 0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x01, 0x80,
    };
    pico_prkd k;

    assert_int_equal(pico_prkd_decode(der, sizeof(der), &k), 0);
    assert_string_equal(k.label, "web");
    assert_int_equal(k.id_len, 1);
    assert_int_equal(k.id[0], 0x45);
    assert_int_equal(k.size, 384);
}

/* The firmware's default PrKD has an empty label; truncated input is refused. */
static void test_prkd_decode_bad(void **state)
{
    static const uint8_t empty_label[] = {0xA0, 0x0D, 0x30, 0x02, 0x0C, 0x00, 0x30, 0x03,
                                          0x04, 0x01, 0x31, 0xA1, 0x02, 0x30, 0x00};
    static const uint8_t other[] = {0x04, 0x02, 0x01, 0x02};
    pico_prkd k;

    assert_int_equal(pico_prkd_decode(empty_label, sizeof(empty_label), &k), 0);
    assert_string_equal(k.label, "");
    assert_int_equal(k.id[0], '1');
    assert_int_equal(k.size, 0);
    assert_int_equal(pico_prkd_decode(ec_tls, sizeof(ec_tls) - 3, &k), -1);
    assert_int_equal(pico_prkd_decode(other, sizeof(other), &k), -1);
    assert_int_equal(pico_prkd_decode(ec_tls, 0, &k), -1);
}

/*
 * C800 as OpenSC 0.23 writes it for `pkcs11-tool --write-object ca.der --type cert
 * --id 42 --label myca` when no key has ID 42 (UPDATE BINARY data, taken from the
 * virtual device's APDU log): label, flags "modifiable", ID, Path CA00.
 */
static const uint8_t cd_opensc[] = {0x30, 0x1B, 0x30, 0x0A, 0x0C, 0x04, 'm',  'y',  'c',  'a',
                                    0x03, 0x02, 0x06, 0x40, 0x30, 0x03, 0x04, 0x01, 0x42, 0xA1,
                                    0x08, 0x30, 0x06, 0x30, 0x04, 0x04, 0x02, 0xCA, 0x00};

static void test_cd_decode_opensc(void **state)
{
    pico_cd cd;

    assert_int_equal(pico_cd_decode(cd_opensc, sizeof(cd_opensc), &cd), 0);
    assert_string_equal(cd.label, "myca");
    assert_int_equal(cd.id_len, 1);
    assert_int_equal(cd.id[0], 0x42);
    assert_false(cd.authority);
    assert_int_equal(cd.fid, 0xCA00);
}

/* authority TRUE, a two-byte ID, a full path (3F00 prefix), no label */
static void test_cd_decode_authority_path(void **state)
{
    static const uint8_t der[] = {0x30, 0x1A, 0x30, 0x00, 0x30, 0x07, 0x04, 0x02, 0x01, 0x02,
                                  0x01, 0x01, 0xFF, 0xA1, 0x0D, 0x30, 0x0B, 0x30, 0x09, 0x04,
                                  0x04, 0x3F, 0x00, 0xCA, 0x07, 0x02, 0x01, 0x00};
    pico_cd cd;

    assert_int_equal(pico_cd_decode(der, sizeof(der), &cd), 0);
    assert_string_equal(cd.label, "");
    assert_int_equal(cd.id_len, 2);
    assert_int_equal(cd.id[1], 0x02);
    assert_true(cd.authority);
    assert_int_equal(cd.fid, 0xCA07);
}

/* truncated, a PrKD instead of a CD, no type attributes, a direct value: refused or no file */
static void test_cd_decode_bad(void **state)
{
    static const uint8_t no_attrs[] = {0x30, 0x0A, 0x30, 0x03, 0x0C, 0x01,
                                       'x',  0x30, 0x03, 0x04, 0x01, 0x01};
    static const uint8_t direct[] = {0x30, 0x14, 0x30, 0x00, 0x30, 0x03, 0x04, 0x01,
                                     0x01, 0xA1, 0x0B, 0x30, 0x09, 0xA0, 0x07, 0x30,
                                     0x05, 0x02, 0x01, 0x00, 0x05, 0x00};
    pico_cd cd;

    assert_int_equal(pico_cd_decode(cd_opensc, sizeof(cd_opensc) - 1, &cd), -1);
    assert_int_equal(pico_cd_decode(ec_tls, sizeof(ec_tls), &cd), -1);
    assert_int_equal(pico_cd_decode(no_attrs, sizeof(no_attrs), &cd), -1);
    assert_int_equal(pico_cd_decode(direct, sizeof(direct), &cd), 0);
    assert_int_equal(cd.fid, 0);
    assert_int_equal(pico_cd_decode(cd_opensc, 0, &cd), -1);
}

/* An RSA-PSS key's restriction: its AlgorithmIdentifier in [0] after modulusLength. */
static void test_prkd_algid_round_trip(void **state)
{
    /* RSASSA-PSS, SHA-256, MGF1 SHA-256, salt 32 (as OpenSSL encodes it) */
    static const uint8_t algid[] = {
        0x30, 0x41, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A, 0x30,
        0x34, 0xA0, 0x0F, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xA1, 0x1C, 0x30, 0x1A, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86,
        0xF7, 0x0D, 0x01, 0x01, 0x08, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
        0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xA2, 0x03, 0x02, 0x01, 0x20};
    /* typeAttributes [1] { SEQUENCE { Path, INTEGER 2048, [0] { algid } } } */
    static const uint8_t attrs_head[] = {0xA1, 0x4F, 0x30, 0x4D, 0x30, 0x02, 0x04,
                                         0x00, 0x02, 0x02, 0x08, 0x00, 0xA0, 0x43};
    pico_prkd k, d;
    uint8_t out[512];
    size_t n, at;

    memset(&k, 0, sizeof(k));
    k.type = PICO_KEY_RSA;
    strcpy(k.label, "tls");
    k.id[0] = 1;
    k.id[1] = 2;
    k.id_len = 2;
    k.size = 2048;
    memcpy(k.algid, algid, sizeof(algid));
    k.algid_len = sizeof(algid);
    n = pico_prkd_encode(&k, out, sizeof(out));
    /* the reference RSA PrKD's first 19 bytes (but its length), then the new attributes */
    assert_int_equal(n, sizeof(rsa_tls) - 12 + sizeof(attrs_head) + sizeof(algid));
    at = n - sizeof(algid) - sizeof(attrs_head);
    assert_memory_equal(out + 2, rsa_tls + 2, at - 2);
    assert_memory_equal(out + at, attrs_head, sizeof(attrs_head));
    assert_memory_equal(out + at + sizeof(attrs_head), algid, sizeof(algid));
    assert_int_equal(pico_prkd_decode(out, n, &d), 0);
    assert_int_equal(d.size, 2048);
    assert_string_equal(d.label, "tls");
    assert_int_equal(d.algid_len, sizeof(algid));
    assert_memory_equal(d.algid, algid, sizeof(algid));
    /* a PrKD without it (OpenSC's, the firmware's) has none */
    assert_int_equal(pico_prkd_decode(rsa_tls, sizeof(rsa_tls), &d), 0);
    assert_int_equal(d.algid_len, 0);
    /* [0] holding no SEQUENCE is malformed */
    out[at + sizeof(attrs_head)] = 0x04;
    assert_int_equal(pico_prkd_decode(out, n, &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prkd_encode_matches_reference),
        cmocka_unit_test(test_prkd_decode),
        cmocka_unit_test(test_prkd_decode_opensc_extras),
        cmocka_unit_test(test_prkd_decode_bad),
        cmocka_unit_test(test_cd_decode_opensc),
        cmocka_unit_test(test_cd_decode_authority_path),
        cmocka_unit_test(test_cd_decode_bad),
        cmocka_unit_test(test_prkd_algid_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
