/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys in and out of a device under its DKEK (sc-hsm-protocol.md 8): WRAP of a key with its
 * description and certificate (what sc-hsm-tool's wrapped-key file holds), UNWRAP of such a
 * file into a free key reference, and the import of a private key from the host (the DKEK
 * key blob built here, common/keyblob.c). Each keeps the device object's key list true: an
 * unwrapped or imported key is in it at once, a failed one leaves nothing on the device.
 */
#ifndef PICO_DEVICE_WRAP_H
#define PICO_DEVICE_WRAP_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

/* A wrapped key: the blob, the key's PrKD (C4xx) and the content of its CExx (may be NULL). */
typedef struct pico_wrapped {
    uint8_t *blob, *prkd, *cert;
    size_t blob_len, prkd_len, cert_len;
} pico_wrapped;
void pico_wrapped_free(pico_wrapped *w);

/* WRAP of key (needs a login); its PrKD and certificate read with it. */
pico_err pico_device_wrap(pico_key *key, pico_wrapped *out);

typedef struct pico_unwrap_spec {
    const uint8_t *blob, *prkd, *cert; /* prkd may be NULL (then label is needed), cert too */
    size_t blob_len, prkd_len, cert_len;
    const char *label; /* replaces the PrKD's label when set */
    int use_ef;        /* the blob through EF 2F10 (OpenSC's way), not the data field */
    EVP_PKEY *expect;  /* when set, the device's new key must have this public key */
} pico_unwrap_spec;

/*
 * UNWRAP into the first free key reference (needs a login), then the PrKD (the file's, its
 * label replaced by spec->label; or one built with the label and an ID from the public key:
 * SHA-1 of the RSA modulus or of the EC x coordinate, OpenSC's intrinsic ID) and the
 * certificate. Refused before anything is written when the label or ID is another key's.
 * Anything failing after the UNWRAP deletes the key and its files again.
 */
pico_err pico_device_unwrap(pico_device *dev, const pico_unwrap_spec *spec, pico_key **key);

/*
 * Imports a private key (RSA with e = 65537, EC on a device curve; pico_keyblob_check_key
 * says why not) under dkek, which must be the device's: its blob built on the host, UNWRAP,
 * the PrKD with label (and id, or the intrinsic one) and cert (DER X.509, may be NULL) in
 * CExx. The blob's plaintext never leaves this process and is cleansed.
 */
pico_err pico_device_import(pico_device *dev, EVP_PKEY *priv, const uint8_t dkek[32],
                            const char *label, const uint8_t *id, size_t id_len,
                            const uint8_t *cert, size_t cert_len, pico_key **key);

#endif
