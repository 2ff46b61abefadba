/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The login engine (design.md, "The dual-factor login"). This part holds
 * the PIN factor: read the PIN state without spending a try, find the PIN
 * (URI pin-value, URI pin-source, the configured pin-source, a prompt),
 * verify it once, never retry a wrong PIN, and refuse to spend the last try
 * unless the user asked for it. Public Key Authentication joins here.
 */
#ifndef PICO_AUTH_H
#define PICO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "schsm.h"
#include "uri.h"

#define PICO_PIN_MAX 16

typedef struct pico_pin_prompt {
    /* Asks for a secret. info says for which device and what ("user PIN for Pico HSM
     * ESPICOHSMTR00001 in reader '...', 1 try left"). Writes up to cap-1 bytes and a NUL into
     * buf; returns 1 on an answer, 0 when there is none (cancelled, no terminal). */
    int (*ask)(void *arg, const char *info, char *buf, size_t cap);
    void *arg;
} pico_pin_prompt;

typedef struct pico_pka_signer pico_pka_signer; /* pka_signer.h */

typedef struct pico_auth_factors {
    const pico_uri *uri;        /* pin-value, pin-source, pin-last-try; may be NULL */
    const char *pin;            /* a PIN the application gave (passphrase callback at key
                                 * load, -passin): used like pin-value; may be NULL */
    const char *pin_source;     /* configured default source; may be NULL */
    const pico_pin_prompt *prompt; /* may be NULL: no interactive prompt */
    const char *device;         /* names the device in prompts and errors */
    /* PKA (5): the opened signers (pka-key= of the URI or the configuration) and the
     * device name they sign with the challenge (2.5). No signers: PIN only. */
    pico_pka_signer *const *signers;
    size_t n_signers;
    const char *dev_name;
} pico_auth_factors;

/*
 * Logs the user in: with signers, reads the PKA policy first (no try spent);
 * then the PIN (unless the device has none: PKA-only), then, when the device
 * has PKA, one GET CHALLENGE and MSE SET AT + EXTERNAL AUTHENTICATE per
 * signer until the required number of keys authenticated. A refused PKA key
 * costs no PIN try; errors name the missing factor. On success, when held is not NULL, the PIN is copied
 * there (PICO_PIN_MAX bytes) so that the device layer can log in again after
 * a reset; the caller cleanses it.
 */
pico_err pico_auth_login(pico_card *card, const pico_auth_factors *f, uint8_t *held,
                         size_t *held_len);

#endif
