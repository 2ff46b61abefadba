/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#15 private key descriptions (PrKD, EF C4xx; sc-hsm-protocol.md 6.4):
 * where a key's label, ID and size live. The device writes a default at key
 * generation; hosts replace it. Certificate descriptions (CD, EF C8xx) name
 * the certificates stored without a key.
 */
#ifndef PICO_PKCS15_H
#define PICO_PKCS15_H

#include <stddef.h>
#include <stdint.h>

#include "keytype.h"

typedef struct pico_prkd {
    pico_key_type type; /* 30 PrivateRSAKeyObject: RSA; A0 PrivateECKeyObject: EC, or the type
                         * its ecDomain OID names (X25519 ..., keytype.c) */
    char label[128];    /* empty when absent */
    uint8_t id[64];
    size_t id_len;
    int size; /* EC field bits or RSA modulus bits; 0 when absent */
    /* RSA: the AlgorithmIdentifier the key is restricted to (an RSASSA-PSS key, RFC 4055),
     * DER, kept as bytes: a host extension, [0] after modulusLength in the type attributes
     * (PKCS#15's extension marker allows it; OpenSC skips it). Empty when absent. */
    uint8_t algid[128];
    size_t algid_len;
} pico_prkd;

/* Parses a PrKD. 0 ok, -1 malformed. */
int pico_prkd_decode(const uint8_t *der, size_t len, pico_prkd *out);

/*
 * Encodes a PrKD in the shape OpenSC writes (6.4), as the type's row says
 * (keytype.h: outer tag, usage, ecDomain): usage sign+derive for EC,
 * decrypt+sign+signRecover+unwrap for RSA. The fixed-size types get their
 * row's size whatever in->size holds. Returns the length, 0 when it does not
 * fit in cap or the type is unknown.
 */
size_t pico_prkd_encode(const pico_prkd *in, uint8_t *out, size_t cap);

/*
 * A PKCS#15 certificate description (CD, EF C8xx; sc-hsm-protocol.md 6.1): a
 * certificate stored without a key, in EF CAxx. OpenSC writes one when it
 * stores a certificate whose ID matches no key:
 *
 *   30 { 30 { 0C label, 03 flags }              CommonObjectAttributes
 *        30 { 04 ID, [01 authority] }           CommonCertificateAttributes
 *        A1 { 30 { 30 { 04 CA xx } } } }        X509CertificateAttributes { Path }
 */
typedef struct pico_cd {
    char label[128]; /* empty when absent */
    uint8_t id[64];
    size_t id_len;
    int authority; /* the CA flag of CommonCertificateAttributes */
    uint16_t fid;  /* the last file ID of the value's path; 0 when there is none */
} pico_cd;

/* Parses a CD. 0 ok, -1 malformed or not an X.509 certificate's description. */
int pico_cd_decode(const uint8_t *der, size_t len, pico_cd *out);

#endif
