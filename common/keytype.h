/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key types as data: one row per type of key the device makes, with what the
 * rest of common/ needs to know of it (its OpenSSL name and sizes, what it
 * can do, how a GENERATE request and a CV answer encode it, how its PrKD
 * describes it). Adding a type is a row here and the operation it offers.
 * Nothing here knows APDU bytes or OSSL_PARAM.
 */
#ifndef PICO_KEYTYPE_H
#define PICO_KEYTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum pico_key_type {
    PICO_KEY_RSA = 1,
    PICO_KEY_EC = 2,     /* short Weierstrass curves: ECDSA, ECDH (curve in pico_key.curve) */
    PICO_KEY_X25519 = 3, /* RFC 7748: ECDH only */
    PICO_KEY_X448 = 4,
    PICO_KEY_ED25519 = 5, /* RFC 8032 PureEdDSA: only on firmware built with ENABLE_EDDSA */
    PICO_KEY_ED448 = 6,
} pico_key_type;

#define PICO_CAP_SIGN 0x1
#define PICO_CAP_DECRYPT 0x2
#define PICO_CAP_DERIVE 0x4

/* How the public key template (7F49) of a request or CV answer is laid out (6.2). */
typedef enum pico_cvc_shape {
    PICO_CVC_RSA = 1, /* 81 n, 82 e; request: 82 e, 02 bits */
    PICO_CVC_EC,      /* 81 p, 82 a, 83 b, 84 G, 85 order, 86 Q, 87 cofactor */
    PICO_CVC_RAW,     /* 81 p, [82 order], 83 G, 84 raw public key (RFC 7748 / RFC 8032 bytes) */
} pico_cvc_shape;

typedef struct pico_key_type_info {
    pico_key_type type;
    const char *name;  /* OpenSSL key type name: "RSA", "EC", "X25519", "X448", "ED25519", ... */
    unsigned caps;     /* PICO_CAP_* */
    size_t raw_len;    /* public key bytes: X25519 32, X448 56, ED25519 32, ED448 57; 0 RSA/EC */
    int bits;          /* fixed key size in bits as OpenSSL reports it; 0 = per key */
    int security_bits; /* fixed; 0 = per key */
    const char *tool_name; /* pico-hsm-tool's --type spelling ("rsa", "ec", "x25519", ...) */
    int needs_eddsa;       /* 1: only on firmware built with ENABLE_EDDSA (pico_device_supports) */
    /* CVC (6.2): the OID of the GENERATE request's template and of the answer's, the shape of
     * both; for PICO_CVC_RAW the curve's prime (81) and the base point (83) the request carries
     * and the answer repeats, by which the firmware tells the curve and X from Ed. */
    pico_cvc_shape shape;
    const uint8_t *oid;
    size_t oid_len;
    const uint8_t *answer_oid;
    size_t answer_oid_len;
    const uint8_t *prime;
    size_t prime_len;
    const uint8_t *base;
    size_t base_len;
    /* PrKD (6.4): the outer tag (30 RSA, A0 the others), the KeyUsage BIT STRING's content, the
     * size INTEGER written for the fixed types (0 = per key), and the curve's OID (DER content)
     * written as the ecDomain of the type attributes (0 = none). */
    uint8_t prkd_tag;
    const uint8_t *prkd_usage;
    size_t prkd_usage_len;
    int prkd_size;
    const uint8_t *prkd_oid;
    size_t prkd_oid_len;
} pico_key_type_info;

/* Every row, in pico_key_type order; ends with a row of type 0. */
extern const pico_key_type_info pico_key_types[];

const pico_key_type_info *pico_key_type_info_of(pico_key_type type); /* NULL if unknown */
const pico_key_type_info *pico_key_type_by_name(const char *name);   /* case-insensitive */
/* By pico-hsm-tool's spelling (tool_name, case-insensitive); NULL if unknown. */
const pico_key_type_info *pico_key_type_by_tool_name(const char *name);
/* The type whose PrKD ecDomain OID is (oid, len); NULL if none. */
const pico_key_type_info *pico_key_type_by_prkd_oid(const uint8_t *oid, size_t len);
/*
 * The PICO_CVC_RAW type of a CV answer's prime and base point: the row with this prime and
 * this base point, else (as the firmware decides, cmd_keypair_gen.c) the Edwards row of that
 * prime for any other base point. NULL when the prime is no such curve's.
 */
const pico_key_type_info *pico_key_type_by_curve(const uint8_t *p, size_t plen, const uint8_t *g,
                                                 size_t glen);

#endif
