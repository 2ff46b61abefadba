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

/*
 * The PINs a device refused, as digests: SHA-256 over a random salt of this
 * process and the PIN, never the PIN itself. A PIN in here is not sent again
 * by this process: a stale PIN source (the PIN was changed under a running
 * server) would otherwise spend a try at every operation. The oldest entry
 * makes room when it is full (the last try is kept by its own rule anyway).
 * Held per device, under the device's lock.
 */
#define PICO_REFUSED_PINS 16
typedef struct pico_refused_pins {
    uint8_t digest[PICO_REFUSED_PINS][32];
    unsigned n;    /* entries in use */
    unsigned next; /* the entry written next */
} pico_refused_pins;

/* Forgets every refused PIN (cleansed): the PIN of the device was changed by this process. */
void pico_refused_pins_clear(pico_refused_pins *r);
/* Adds a PIN the device refused (its digest): it is not sent again. */
pico_err pico_refused_pins_add(pico_refused_pins *r, const char *pin, size_t len);

typedef struct pico_auth_factors {
    const pico_uri *uri;           /* pin-value, pin-source, pin-last-try; may be NULL */
    const char *pin;               /* a PIN the application gave (passphrase callback at key
                                    * load, -passin): used like pin-value; may be NULL */
    const char *pin_source;        /* configured default source; may be NULL */
    const pico_pin_prompt *prompt; /* may be NULL: no interactive prompt */
    const char *device;            /* names the device in prompts and errors */
    /* PKA (5): the opened signers (pka-key= of the URI or the configuration) and the
     * device name they sign with the challenge (2.5). No signers: PIN only. */
    pico_pka_signer *const *signers;
    size_t n_signers;
    const char *dev_name;
    int *pin_verified; /* out, may be NULL: 1 when the login holds a verified PIN */
    /* the PINs this device refused (may be NULL): one of them is not sent again, a PIN the
     * device refuses now is added */
    pico_refused_pins *refused;
    /* what SELECT told (may be NULL): on firmware 6.6 or later a PKA device tells whether it
     * has a user PIN at all (pico_schsm_user_pin_ef); one without is sent no PIN */
    const pico_select_info *si;
} pico_auth_factors;

/* What happened to each PKA key of a round. */
typedef enum pico_pka_result {
    PICO_PKA_NOT_TRIED = 0,
    PICO_PKA_AUTHENTICATED,
    PICO_PKA_ALREADY,        /* 5.4: it already authenticated in this round */
    PICO_PKA_NOT_REGISTERED, /* MSE SET AT: 6A88 */
    PICO_PKA_REFUSED,        /* EXTERNAL AUTHENTICATE: 6985 */
    PICO_PKA_SIGNER_FAILED,  /* the signer could not sign */
} pico_pka_result;

/*
 * The PKA round (5.4-5.7) on a device whose PKA status is st (2.3): one GET
 * CHALLENGE, then MSE SET AT with each signer's CHR (pico_pka_chr) and
 * EXTERNAL AUTHENTICATE with its signature over f->dev_name || challenge,
 * until st[2] keys authenticated (each signer is tried, even when fewer than
 * st[2] are given: a tool reports on every one). A key that is not
 * registered, refused or cannot sign does not stop the others and costs no
 * PIN try. results (may be
 * NULL) gets one entry per signer; *done (may be NULL) the keys that count.
 */
pico_err pico_auth_pka_round(pico_card *card, const pico_auth_factors *f, const uint8_t st[4],
                             pico_pka_result *results, unsigned *done);

/*
 * Logs the user in: with signers, reads the PKA policy first (no try spent);
 * then the PIN (unless the device has none: PKA-only), then, when the device
 * has PKA, one GET CHALLENGE and MSE SET AT + EXTERNAL AUTHENTICATE per
 * signer until the required number of keys authenticated. A refused PKA key
 * costs no PIN try; errors name the missing factor. A PIN in f->refused is
 * not sent: PICO_E_PIN_INCORRECT at once, with the tries left. On success,
 * when held is not NULL, the PIN is copied there (PICO_PIN_MAX bytes) so that
 * the device layer can log in again after a reset; the caller cleanses it.
 */
pico_err pico_auth_login(pico_card *card, const pico_auth_factors *f, uint8_t *held,
                         size_t *held_len);

#endif
