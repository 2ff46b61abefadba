/* SPDX-License-Identifier: Apache-2.0 */
#include "keytype.h"

#include <strings.h>

/* id-TA-RSA-v1-5-SHA-256, id-TA-ECDSA-SHA-256 (Appendix A) */
static const uint8_t oid_ta_rsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                            0x02, 0x02, 0x02, 0x01, 0x02};
static const uint8_t oid_ta_ecdsa_sha256[] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                              0x02, 0x02, 0x02, 0x02, 0x03};

/* KeyUsage bits: EC sign + derive; RSA decrypt + sign + signRecover + unwrap (6.4) */
static const uint8_t usage_ec[] = {0x07, 0x20, 0x80};
static const uint8_t usage_rsa[] = {0x02, 0x74};

const pico_key_type_info pico_key_types[] = {
    {PICO_KEY_RSA, "RSA", PICO_CAP_SIGN | PICO_CAP_DECRYPT, 0, 0, 0, "rsa", 0, PICO_CVC_RSA,
     oid_ta_rsa_sha256, sizeof(oid_ta_rsa_sha256), NULL, 0, NULL, 0, 0x30, usage_rsa,
     sizeof(usage_rsa)},
    {PICO_KEY_EC, "EC", PICO_CAP_SIGN | PICO_CAP_DERIVE, 0, 0, 0, "ec", 0, PICO_CVC_EC,
     oid_ta_ecdsa_sha256, sizeof(oid_ta_ecdsa_sha256), NULL, 0, NULL, 0, 0xA0, usage_ec,
     sizeof(usage_ec)},
    /* X25519, X448, Ed25519, Ed448: not made yet (keytype API stubs) */
    {PICO_KEY_X25519, "X25519", PICO_CAP_DERIVE, 32, 253, 128, "x25519", 0, PICO_CVC_RAW, NULL, 0,
     NULL, 0, NULL, 0, 0xA0, usage_ec, sizeof(usage_ec)},
    {PICO_KEY_X448, "X448", PICO_CAP_DERIVE, 56, 448, 224, "x448", 0, PICO_CVC_RAW, NULL, 0, NULL,
     0, NULL, 0, 0xA0, usage_ec, sizeof(usage_ec)},
    {PICO_KEY_ED25519, "ED25519", PICO_CAP_SIGN, 32, 256, 128, "ed25519", 1, PICO_CVC_RAW, NULL, 0,
     NULL, 0, NULL, 0, 0xA0, usage_ec, sizeof(usage_ec)},
    {PICO_KEY_ED448, "ED448", PICO_CAP_SIGN, 57, 456, 224, "ed448", 1, PICO_CVC_RAW, NULL, 0, NULL,
     0, NULL, 0, 0xA0, usage_ec, sizeof(usage_ec)},
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
