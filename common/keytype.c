/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key types of the device, one row each (keytype.h). The encodings come from the
 * firmware (pico-hsm cmd_keypair_gen.c, libcvc cvc_build.c, pico-keys-sdk crypto_utils.c) and
 * sc-hsm-protocol.md 6.2-6.4.
 */
#include "keytype.h"

#include <string.h>
#include <strings.h>

/* id-TA-RSA-v1-5-SHA-256, id-TA-ECDSA-SHA-256, id-RI-ECDH-SHA-256 (Appendix A). GENERATE
 * takes id-TA-ECDSA-SHA-256 for every curve; the answer names X25519/X448 (and the Edwards
 * keys) id-RI-ECDH-SHA-256 (libcvc cvc_default_algorithm_oid). */
static const uint8_t oid_ta_rsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                            0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t oid_ta_ecdsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                              0x02, 0x02, 0x02, 0x02, 0x03};
static const uint8_t oid_ri_ecdh_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                             0x02, 0x02, 0x05, 0x02, 0x03};

/* 81: the primes of ec_curves_mbed (crypto_utils.c), big-endian: 2^255 - 19, 2^448 - 2^224 - 1 */
static const uint8_t p25519[32] = {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xED};
static const uint8_t p448[56] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/*
 * 83: the base points. Montgomery: u = 9 and u = 5, little-endian (RFC 7748), which the
 * firmware checks (first byte 09; 56 bytes starting 05). Edwards: the firmware takes "any
 * other" encoding as the Edwards curve of that prime; we send the RFC 8032 encoding of the
 * base point, which is also what libcvc writes in the answer for an Edwards key (the point in
 * the fork's Edwards format), so request and answer carry the same bytes.
 */
static const uint8_t g_x25519[32] = {0x09};
static const uint8_t g_x448[56] = {0x05};
static const uint8_t g_ed25519[32] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
static const uint8_t g_ed448[57] = {
    0x14, 0xFA, 0x30, 0xF2, 0x5B, 0x79, 0x08, 0x98, 0xAD, 0xC8, 0xD7, 0x4E, 0x2C, 0x13, 0xBD,
    0xFD, 0xC4, 0x39, 0x7C, 0xE6, 0x1C, 0xFF, 0xD3, 0x3A, 0xD7, 0xC2, 0xA0, 0x05, 0x1E, 0x9C,
    0x78, 0x87, 0x40, 0x98, 0xA3, 0x6C, 0x73, 0x73, 0xEA, 0x4B, 0x62, 0xC7, 0xC9, 0x56, 0x37,
    0x20, 0x76, 0x88, 0x24, 0xBC, 0xB6, 0x6E, 0x71, 0x46, 0x3F, 0x69, 0x00};

/*
 * PrKD KeyUsage bits (PKCS#15 KeyUsageFlags: decrypt 1, sign 2, signRecover 3, unwrap 5,
 * derive 8). EC sign + derive and RSA decrypt + sign + signRecover + unwrap, as OpenSC and
 * the firmware write them (6.4); the curve25519/448 keys get what they can do: derive only
 * (X25519, X448), sign only (Ed25519, Ed448).
 */
static const uint8_t usage_ec[] = {0x07, 0x20, 0x80};
static const uint8_t usage_rsa[] = {0x02, 0x74};
static const uint8_t usage_derive[] = {0x07, 0x00, 0x80};
static const uint8_t usage_sign[] = {0x05, 0x20};

/*
 * PrKD of the curve25519/448 keys: PrivateECKeyObject [0] (A0), the only PrKD choice besides
 * RSA and GOST that OpenSC's decoder knows (pkcs15-prkey.c) and the one the firmware writes
 * as its default for these keys (asn1_build_prkd_generic, PICOKEYS_KEY_EC), with the size as
 * the firmware counts it (key bytes x 8: 256, 448, 256, 456). What tells them from a
 * Weierstrass key is the curve's OID (RFC 8410: 1.3.101.110-113) in the ecDomain SEQUENCE
 * after the size, the field OpenSC's schema has there (c_asn1_ecckey_attr) and ignores when
 * the size is present; OpenSC itself never writes it, so a PrKD without it is a plain EC key.
 */
static const uint8_t oid_x25519[] = {0x2B, 0x65, 0x6E};
static const uint8_t oid_x448[] = {0x2B, 0x65, 0x6F};
static const uint8_t oid_ed25519[] = {0x2B, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x2B, 0x65, 0x71};

#define B(a) a, sizeof(a)
#define NONE NULL, 0

const pico_key_type_info pico_key_types[] = {
    {PICO_KEY_RSA, "RSA", PICO_CAP_SIGN | PICO_CAP_DECRYPT, 0, 0, 0, "rsa", 0, PICO_CVC_RSA,
     B(oid_ta_rsa_sha256), B(oid_ta_rsa_sha256), NONE, NONE, 0x30, B(usage_rsa), 0, NONE},
    {PICO_KEY_EC, "EC", PICO_CAP_SIGN | PICO_CAP_DERIVE, 0, 0, 0, "ec", 0, PICO_CVC_EC,
     B(oid_ta_ecdsa_sha256), B(oid_ta_ecdsa_sha256), NONE, NONE, 0xA0, B(usage_ec), 0, NONE},
    {PICO_KEY_X25519, "X25519", PICO_CAP_DERIVE, 32, 253, 128, "x25519", 0, PICO_CVC_RAW,
     B(oid_ta_ecdsa_sha256), B(oid_ri_ecdh_sha256), B(p25519), B(g_x25519), 0xA0, B(usage_derive),
     256, B(oid_x25519)},
    {PICO_KEY_X448, "X448", PICO_CAP_DERIVE, 56, 448, 224, "x448", 0, PICO_CVC_RAW,
     B(oid_ta_ecdsa_sha256), B(oid_ri_ecdh_sha256), B(p448), B(g_x448), 0xA0, B(usage_derive), 448,
     B(oid_x448)},
    {PICO_KEY_ED25519, "ED25519", PICO_CAP_SIGN, 32, 256, 128, "ed25519", 1, PICO_CVC_RAW,
     B(oid_ta_ecdsa_sha256), B(oid_ri_ecdh_sha256), B(p25519), B(g_ed25519), 0xA0, B(usage_sign),
     256, B(oid_ed25519)},
    {PICO_KEY_ED448, "ED448", PICO_CAP_SIGN, 57, 456, 224, "ed448", 1, PICO_CVC_RAW,
     B(oid_ta_ecdsa_sha256), B(oid_ri_ecdh_sha256), B(p448), B(g_ed448), 0xA0, B(usage_sign), 456,
     B(oid_ed448)},
    {0},
};

const pico_key_type_info *pico_key_type_info_of(pico_key_type type)
{
    const pico_key_type_info *t;

    for (t = pico_key_types; t->type != 0; t++)
        if (t->type == type)
            return t;
    return NULL;
}

const pico_key_type_info *pico_key_type_by_name(const char *name)
{
    const pico_key_type_info *t;

    if (name == NULL)
        return NULL;
    for (t = pico_key_types; t->type != 0; t++)
        if (strcasecmp(t->name, name) == 0)
            return t;
    return NULL;
}

const pico_key_type_info *pico_key_type_by_tool_name(const char *name)
{
    const pico_key_type_info *t;

    if (name == NULL)
        return NULL;
    for (t = pico_key_types; t->type != 0; t++)
        if (strcasecmp(t->tool_name, name) == 0)
            return t;
    return NULL;
}

const pico_key_type_info *pico_key_type_by_prkd_oid(const uint8_t *oid, size_t len)
{
    const pico_key_type_info *t;

    for (t = pico_key_types; t->type != 0; t++)
        if (t->prkd_oid_len > 0 && t->prkd_oid_len == len && memcmp(t->prkd_oid, oid, len) == 0)
            return t;
    return NULL;
}

const pico_key_type_info *pico_key_type_by_curve(const uint8_t *p, size_t plen, const uint8_t *g,
                                                 size_t glen)
{
    const pico_key_type_info *t, *edwards = NULL;

    for (t = pico_key_types; t->type != 0; t++) {
        if (t->shape != PICO_CVC_RAW || t->prime_len != plen || memcmp(t->prime, p, plen) != 0)
            continue;
        if (t->base_len == glen && memcmp(t->base, g, glen) == 0)
            return t;
        if (t->needs_eddsa)
            edwards = t;
    }
    return edwards;
}
