/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key types of common/keytype.c, byte by byte: the GENERATE ASYMMETRIC KEY PAIR APDUs of
 * X25519, X448, Ed25519 and Ed448 (sc-hsm-protocol.md 6.2, pico-hsm cmd_keypair_gen.c), the
 * parsing of their CV answers (libcvc's id-RI-ECDH-SHA-256 template) with malformed ones,
 * DECIPHER 80 and SIGN 70 on them (7.1, 7.2), their PrKD, and the virtual device's answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "cvc.h"
#include "keytype.h"
#include "pkcs15.h"
#include "schsm.h"
#include "script_transport.h"
#include "tlv.h"

#define FF4 "FF FF FF FF "
#define FF8 FF4 FF4
#define Z4 "00 00 00 00 "
#define Z8 Z4 Z4
#define OID_ECDSA "06 0A 04 00 7F 00 07 02 02 02 02 03 "
#define P25519 "81 20 7F " FF8 FF8 FF8 "FF FF FF FF FF FF ED "
#define P448 "81 38 " FF8 FF8 FF8 "FF FF FF FE " FF8 FF8 FF8 FF4
#define G_X25519 "83 20 09 " Z8 Z8 Z8 "00 00 00 00 00 00 00 "
#define G_X448 "83 38 05 " Z8 Z8 Z8 Z8 Z8 Z8 "00 00 00 00 00 00 00 "
#define G_ED25519                                                                                  \
    "83 20 58 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 "   \
    "66 66 66 66 "
#define G_ED448                                                                                    \
    "83 39 14 FA 30 F2 5B 79 08 98 AD C8 D7 4E 2C 13 BD FD C4 39 7C E6 1C FF D3 3A D7 C2 A0 05 "   \
    "1E 9C 78 87 40 98 A3 6C 73 73 EA 4B 62 C7 C9 56 37 20 76 88 24 BC B6 6E 71 46 3F 69 00 "

/* GENERATE with the request of type: the exact APDU (extended, Le 0000), answered 6A81. */
static void generate_apdu(pico_key_type type, const char *apdu)
{
    const script_step steps[] = {{apdu, "6A 81"}, {NULL}};
    pico_card *c = calloc(1, sizeof(*c));
    uint8_t *req = NULL, *cv = NULL;
    size_t len = 0, cv_len = 0;

    assert_non_null(c);
    c->t = script_transport_new(steps);
    assert_int_equal(pico_cvc_keygen_request(type, 0, NULL, &req, &len), PICO_OK);
    assert_int_not_equal(pico_schsm_generate(c, 1, req, len, &cv, &cv_len), PICO_OK);
    assert_null(cv);
    script_transport_done(c->t);
    free(c);
    free(req);
}

/* 5F29 00, 7F49 { id-TA-ECDSA-SHA-256, 81 the curve's prime, 83 the base point } */
static void test_generate_x25519_apdu(void **state)
{
    generate_apdu(PICO_KEY_X25519,
                  "00 46 01 00 00 00 57 5F 29 01 00 7F 49 50 " OID_ECDSA P25519 G_X25519 "00 00");
}

static void test_generate_x448_apdu(void **state)
{
    generate_apdu(PICO_KEY_X448,
                  "00 46 01 00 00 00 88 5F 29 01 00 7F 49 81 80 " OID_ECDSA P448 G_X448 "00 00");
}

/* The Edwards keys: the same primes, the RFC 8032 base point (any 83 other than the
 * Montgomery one selects the Edwards curve in EdDSA builds) */
static void test_generate_ed25519_apdu(void **state)
{
    generate_apdu(PICO_KEY_ED25519,
                  "00 46 01 00 00 00 57 5F 29 01 00 7F 49 50 " OID_ECDSA P25519 G_ED25519 "00 00");
}

static void test_generate_ed448_apdu(void **state)
{
    generate_apdu(PICO_KEY_ED448,
                  "00 46 01 00 00 00 89 5F 29 01 00 7F 49 81 81 " OID_ECDSA P448 G_ED448 "00 00");
}

/* ------------------------------------------------------------- CV answers */

#define OID_RI_ECDH "06 0A 04 00 7F 00 07 02 02 05 02 03 "
#define N25519                                                                                     \
    "82 20 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 DE F9 DE A2 F7 9C D6 58 12 63 1A "   \
    "5C F5 D3 ED "
#define N448                                                                                       \
    "82 38 3F " FF8 FF8 FF8 "FF FF FF 7C CA 23 E9 C4 4E DB 49 AE D6 36 90 21 6C C2 72 8D C5 8F "   \
    "55 23 78 C2 92 AB 58 44 F3 "
/* RFC 7748 6.1 / 6.2 and RFC 8032 7.1 / 7.4 (test 1) public keys */
#define Q_X25519                                                                                   \
    "84 20 85 20 F0 09 89 30 A7 54 74 8B 7D DC B4 3E F7 5A 0D BF 3A 0D 26 38 1A F4 EB A4 A9 8E "   \
    "AA 9B 4E 6A "
#define Q_X448                                                                                     \
    "84 38 9B 08 F7 CC 31 B7 E3 E6 7D 22 D5 AE A1 21 07 4A 27 3B D2 B8 3D E0 9C 63 FA A7 3D 2C "   \
    "22 C5 D9 BB C8 36 64 72 41 D9 53 D4 0C 5B 12 DA 88 12 0D 53 17 7F 80 E5 32 C4 1F A0 "
#define Q_ED25519                                                                                  \
    "84 20 D7 5A 98 01 82 B1 0A B7 D5 4B FE D3 C9 64 07 3A 0E E1 72 F3 DA A6 23 25 AF 02 1A 68 "   \
    "F7 07 51 1A "
#define Q_ED448                                                                                    \
    "84 39 5F D7 44 9B 59 B4 61 FD 2C E7 87 EC 61 6A D4 6A 1D A1 34 24 85 A7 0E 1F 8A 0E A7 5D "   \
    "80 E9 67 78 ED F1 24 76 9B 46 C7 06 1B D6 78 3D F1 E5 0F 6C D1 FA 1A BE AF E8 25 61 80 "

/* 7F21 { 7F4E { 5F29 00, 42 "DE", 7F49 { tmpl }, 5F20 "DE" }, 5F37 00 00 }, lengths computed */
static size_t answer(const char *tmpl_hex, uint8_t *out, size_t cap)
{
    uint8_t tmpl[400], body[480], cert[560];
    size_t nt = script_hex(tmpl_hex, tmpl, sizeof(tmpl)), nb = 0, nc = 0;

    nb += script_hex("5F 29 01 00 42 02 44 45", body, sizeof(body));
    nb += pico_tlv_header(body + nb, 0x7F49, nt);
    memcpy(body + nb, tmpl, nt);
    nb += nt;
    nb += script_hex("5F 20 02 44 45", body + nb, sizeof(body) - nb);
    nc += pico_tlv_header(cert, 0x7F4E, nb);
    memcpy(cert + nc, body, nb);
    nc += nb;
    nc += script_hex("5F 37 02 00 00", cert + nc, sizeof(cert) - nc);
    assert_true(nc + 4 <= cap);
    nb = pico_tlv_header(out, 0x7F21, nc);
    memcpy(out + nb, cert, nc);
    return nb + nc;
}

/* The answer's key is of OpenSSL type name with the raw public key raw_hex (the 84 value). */
static void parses_as(const char *tmpl_hex, const char *name, int bits, const char *q_hex)
{
    uint8_t cv[600], want[64], got[64];
    size_t len = answer(tmpl_hex, cv, sizeof(cv)), wlen, glen = sizeof(got);
    EVP_PKEY *pub = NULL;
    char curve[32] = "x";
    int b = 0;

    assert_int_equal(pico_cvc_public_key(cv, len, &pub, curve, sizeof(curve), &b), PICO_OK);
    assert_true(EVP_PKEY_is_a(pub, name));
    assert_int_equal(b, bits);
    assert_int_equal(EVP_PKEY_get_bits(pub), bits);
    assert_string_equal(curve, "");
    wlen = script_hex(q_hex, want, sizeof(want)) - 2;
    assert_int_equal(EVP_PKEY_get_raw_public_key(pub, got, &glen), 1);
    assert_int_equal(glen, wlen);
    assert_memory_equal(got, want + 2, wlen);
    EVP_PKEY_free(pub);
}

static void test_answers_parse(void **state)
{
    parses_as(OID_RI_ECDH P25519 N25519 G_X25519 Q_X25519, "X25519", 253, Q_X25519);
    parses_as(OID_RI_ECDH P448 N448 G_X448 Q_X448, "X448", 448, Q_X448);
    parses_as(OID_RI_ECDH P25519 N25519 G_ED25519 Q_ED25519, "ED25519", 256, Q_ED25519);
    parses_as(OID_RI_ECDH P448 N448 G_ED448 Q_ED448, "ED448", 456, Q_ED448);
    /* another Edwards base point encoding still says Edwards (the firmware's rule) */
    parses_as(OID_RI_ECDH P25519 N25519 "83 20 01 " Z8 Z8 Z8 "00 00 00 00 00 00 00 " Q_ED25519,
              "ED25519", 256, Q_ED25519);
}

static pico_err parse_err(const char *tmpl_hex, size_t cut)
{
    uint8_t cv[600];
    size_t len = answer(tmpl_hex, cv, sizeof(cv));
    EVP_PKEY *pub = NULL;
    int bits = 0;
    pico_err err;

    pico_err_quiet_push();
    err = pico_cvc_public_key(cv, len - cut, &pub, NULL, 0, &bits);
    pico_err_quiet_pop();
    assert_true(err != PICO_OK || pub != NULL);
    if (err != PICO_OK)
        assert_null(pub);
    EVP_PKEY_free(pub);
    return err;
}

static void test_answers_malformed(void **state)
{
    size_t cut;

    /* 84 of 31 bytes for X25519, 57 for X448; 84 missing; 83 missing; another prime */
    assert_int_equal(
        parse_err(OID_RI_ECDH P25519 N25519 G_X25519 "84 1F " Z8 Z8 Z8 Z4 "00 00 00", 0),
        PICO_E_BAD_RESPONSE);
    assert_int_equal(parse_err(OID_RI_ECDH P448 N448 G_X448 Q_ED448, 0), PICO_E_BAD_RESPONSE);
    assert_int_equal(parse_err(OID_RI_ECDH P25519 N25519 G_X25519, 0), PICO_E_BAD_RESPONSE);
    assert_int_equal(parse_err(OID_RI_ECDH P25519 N25519 Q_X25519, 0), PICO_E_BAD_RESPONSE);
    assert_int_equal(parse_err(OID_RI_ECDH "81 02 01 01 " N25519 G_X25519 Q_X25519, 0),
                     PICO_E_UNSUPPORTED);
    /* every truncation of an answer is an error, never a key */
    for (cut = 1; cut < 100; cut++)
        assert_int_not_equal(parse_err(OID_RI_ECDH P25519 N25519 G_X25519 Q_X25519, cut), PICO_OK);
}

/* ------------------------------------------------------- DECIPHER 80, SIGN 70 */

#define U32                                                                                        \
    "E6 DB 68 67 58 30 30 DB 35 94 C1 A4 24 B1 5F 7C 72 66 24 EC 26 B3 35 3B 10 A9 03 A6 D0 AB "   \
    "1C 4C"
#define Z32                                                                                        \
    "C3 DA 55 37 9D E9 C6 90 8E 94 EA 4D F2 8D 08 4F 32 EC CF 03 49 1C 71 F7 54 B4 07 55 77 A2 "   \
    "85 52"

static pico_err derive(const char *resp, uint8_t *out, size_t *out_len)
{
    const script_step steps[] = {{"80 62 01 80 20 " U32 " 21", resp}, {NULL}};
    pico_card *c = calloc(1, sizeof(*c));
    uint8_t u[32];
    pico_err err;

    assert_non_null(c);
    c->t = script_transport_new(steps);
    script_hex(U32, u, sizeof(u));
    pico_err_quiet_push();
    err = pico_schsm_derive_raw(c, 1, PICO_ALG_ECDH, u, sizeof(u), out, out_len);
    pico_err_quiet_pop();
    script_transport_done(c->t);
    free(c);
    return err;
}

/* DECIPHER 80 with the raw u-coordinate, Le 21; the answer 04 || Z loses its 04 */
static void test_xdh_apdu(void **state)
{
    uint8_t out[32], want[32];
    size_t n = sizeof(out);

    assert_int_equal(derive("04 " Z32 " 90 00", out, &n), PICO_OK);
    assert_int_equal(n, 32);
    script_hex(Z32, want, sizeof(want));
    assert_memory_equal(out, want, 32);
    n = sizeof(out);
    assert_int_equal(derive(Z32 " 00 90 00", out, &n), PICO_E_BAD_RESPONSE); /* no 04 */
    n = sizeof(out);
    assert_int_equal(derive("04 " Z32 " 00 90 00", out, &n), PICO_E_BAD_RESPONSE); /* long */
    n = sizeof(out);
    assert_int_equal(derive("04 C3 DA 90 00", out, &n), PICO_E_BAD_RESPONSE); /* short */
    n = sizeof(out);
    assert_int_not_equal(derive("69 84", out, &n), PICO_OK);
}

/* SIGN 70 with the whole message and Le = the caller's room (an Ed25519 signature) */
static void test_eddsa_apdu(void **state)
{
    static const script_step steps[] = {
        {"80 68 02 70 03 61 62 63 40", "AA " Z8 Z8 Z8 Z8 Z8 Z8 Z8 "00 00 00 00 00 00 00 90 00"},
        {NULL},
    };
    pico_card *c = calloc(1, sizeof(*c));
    uint8_t sig[64];
    size_t n = sizeof(sig);

    assert_non_null(c);
    c->t = script_transport_new(steps);
    assert_int_equal(pico_schsm_sign(c, 2, PICO_ALG_ECDSA, (const uint8_t *)"abc", 3, sig, &n),
                     PICO_OK);
    assert_int_equal(n, 64);
    assert_int_equal(sig[0], 0xAA);
    script_transport_done(c->t);
    free(c);
}

/* ------------------------------------------------------------------- PrKD */

/* A0 { label, { ID, usage derive }, [1] { { path, 256, ecDomain { 1.3.101.110 } } } } */
static void test_prkd_x25519(void **state)
{
    uint8_t want[80], out[128];
    size_t wn = script_hex("A0 23 30 04 0C 02 6B 31 30 08 04 01 01 03 03 07 00 80 A1 11 30 0F 30 "
                           "02 04 00 02 02 01 00 30 05 06 03 2B 65 6E",
                           want, sizeof(want)),
           n;
    pico_prkd k, d;

    memset(&k, 0, sizeof(k));
    k.type = PICO_KEY_X25519;
    strcpy(k.label, "k1");
    k.id[0] = 1;
    k.id_len = 1;
    k.size = 1234; /* the fixed types write their own */
    n = pico_prkd_encode(&k, out, sizeof(out));
    assert_int_equal(n, wn);
    assert_memory_equal(out, want, wn);
    assert_int_equal(pico_prkd_decode(out, n, &d), 0);
    assert_int_equal(d.type, PICO_KEY_X25519);
    assert_int_equal(d.size, 256);
    /* the firmware's default PrKD for such a key has no ecDomain: a plain EC description;
     * so is one whose ecDomain holds no OID, or another field there */
    out[n - 5] = 0x04;
    assert_int_equal(pico_prkd_decode(out, n, &d), 0);
    assert_int_equal(d.type, PICO_KEY_EC);
    out[n - 7] = 0x04;
    assert_int_equal(pico_prkd_decode(out, n, &d), 0);
    assert_int_equal(d.type, PICO_KEY_EC);
    out[n - 7] = 0x30;
    out[n - 5] = 0x06;
    out[n - 1] = 0x6F; /* X448's OID */
    assert_int_equal(pico_prkd_decode(out, n, &d), 0);
    assert_int_equal(d.type, PICO_KEY_X448);
}

static void test_prkd_each_type(void **state)
{
    const pico_key_type_info *t;
    uint8_t out[256];
    pico_prkd k, d;
    size_t n;

    for (t = pico_key_types; t->type != 0; t++) {
        memset(&k, 0, sizeof(k));
        k.type = t->type;
        strcpy(k.label, t->tool_name);
        k.id_len = 1;
        k.size = 256;
        n = pico_prkd_encode(&k, out, sizeof(out));
        assert_int_not_equal(n, 0);
        assert_int_equal(out[0], t->prkd_tag);
        assert_int_equal(pico_prkd_decode(out, n, &d), 0);
        assert_int_equal(d.type, t->type);
        assert_int_equal(d.size, t->prkd_size != 0 ? t->prkd_size : 256);
    }
}

/* ------------------------------------------------------------------ table */

static void test_table_lookups(void **state)
{
    assert_int_equal(pico_key_type_by_name("x25519")->type, PICO_KEY_X25519);
    assert_int_equal(pico_key_type_by_name("ED448")->type, PICO_KEY_ED448);
    assert_null(pico_key_type_by_name("DSA"));
    assert_int_equal(pico_key_type_by_tool_name("Ed25519")->type, PICO_KEY_ED25519);
    assert_null(pico_key_type_info_of((pico_key_type)0));
    assert_int_equal(pico_key_type_info_of(PICO_KEY_X448)->raw_len, 56);
    assert_int_equal(pico_key_type_info_of(PICO_KEY_ED448)->raw_len, 57);
    assert_true(pico_key_type_info_of(PICO_KEY_ED25519)->needs_eddsa);
    assert_false(pico_key_type_info_of(PICO_KEY_X25519)->needs_eddsa);
    assert_int_equal(pico_key_type_info_of(PICO_KEY_X25519)->caps, PICO_CAP_DERIVE);
}

/* ------------------------------------------------------- the virtual device */

/* The virtual device's answer to the request of type, parsed: the OpenSSL type it holds. */
static const char *sim_makes(pico_key_type type, EVP_PKEY *devkey)
{
    static const uint8_t name[] = "ESPICOHSMTR00001";
    const pico_key_type_info *t;
    uint8_t *req = NULL;
    size_t len = 0;
    sim_bytes priv = {0}, cv = {0};
    EVP_PKEY *pub = NULL;
    int ktype, bits, b;

    assert_int_equal(pico_cvc_keygen_request(type, 0, NULL, &req, &len), PICO_OK);
    assert_int_equal(
        sim_key_generate(req, len, devkey, name, sizeof(name) - 1, &ktype, &bits, &priv, &cv),
        0x9000);
    assert_int_equal(ktype, SIM_KEY_EC); /* the firmware stores them as EC keys */
    assert_int_equal(pico_cvc_public_key(cv.data, cv.len, &pub, NULL, 0, &b), PICO_OK);
    for (t = pico_key_types; t->type != 0 && !EVP_PKEY_is_a(pub, t->name); t++)
        ;
    assert_int_equal(bits, (int)t->raw_len * 8); /* the firmware's PrKD size */
    EVP_PKEY_free(pub);
    sim_bytes_free(&priv);
    sim_bytes_free(&cv);
    free(req);
    return t->name;
}

static void test_sim_generates(void **state)
{
    EVP_PKEY *devkey = EVP_EC_gen("P-256");
    uint8_t req[80];
    size_t n;
    sim_bytes priv = {0}, cv = {0};
    int type, bits;

    assert_non_null(devkey);
    sim_set_eddsa(0);
    assert_string_equal(sim_makes(PICO_KEY_X25519, devkey), "X25519");
    assert_string_equal(sim_makes(PICO_KEY_X448, devkey), "X448");
    /* a firmware without EdDSA makes the Montgomery key of the prime */
    assert_string_equal(sim_makes(PICO_KEY_ED25519, devkey), "X25519");
    assert_string_equal(sim_makes(PICO_KEY_ED448, devkey), "X448");
    sim_set_eddsa(1);
    assert_string_equal(sim_makes(PICO_KEY_X25519, devkey), "X25519");
    assert_string_equal(sim_makes(PICO_KEY_ED25519, devkey), "ED25519");
    assert_string_equal(sim_makes(PICO_KEY_ED448, devkey), "ED448");
    sim_set_eddsa(0);
    /* the curve25519 prime without 83: 6700 */
    n = script_hex("7F 49 30 " OID_ECDSA P25519, req, sizeof(req));
    assert_int_equal(
        sim_key_generate(req, n, devkey, (const uint8_t *)"DE", 2, &type, &bits, &priv, &cv),
        0x6700);
    EVP_PKEY_free(devkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_x25519_apdu),
        cmocka_unit_test(test_generate_x448_apdu),
        cmocka_unit_test(test_generate_ed25519_apdu),
        cmocka_unit_test(test_generate_ed448_apdu),
        cmocka_unit_test(test_answers_parse),
        cmocka_unit_test(test_answers_malformed),
        cmocka_unit_test(test_xdh_apdu),
        cmocka_unit_test(test_eddsa_apdu),
        cmocka_unit_test(test_prkd_x25519),
        cmocka_unit_test(test_prkd_each_type),
        cmocka_unit_test(test_table_lookups),
        cmocka_unit_test(test_sim_generates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
