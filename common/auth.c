/* SPDX-License-Identifier: Apache-2.0 */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cvc.h"
#include "log.h"
#include "pka_signer.h"
#include "secret.h"

/* Where the PIN comes from, first match wins: the URI's own factors, then the
 * configuration, then a prompt. Returns 1 when a PIN was obtained, 0 when there is
 * no source at all, or an error. */
static pico_err get_pin(const pico_auth_factors *f, int tries, char *pin, size_t cap, size_t *len,
                        int *interactive)
{
    const pico_uri *uri = f->uri;
    const char *source = NULL;
    char info[256];

    *len = 0;
    *interactive = 0;
    if ((uri != NULL && uri->pin_value != NULL) || f->pin != NULL) {
        const char *given = uri != NULL && uri->pin_value != NULL ? uri->pin_value : f->pin;
        *len = strlen(given);
        if (*len + 1 > cap)
            return pico_err_raise(PICO_E_ARGS, "the pin is longer than %d characters",
                                  PICO_PIN_MAX);
        memcpy(pin, given, *len + 1);
        return PICO_OK;
    }
    if (uri != NULL && uri->pin_source != NULL)
        source = uri->pin_source;
    else if (f->pin_source != NULL)
        source = f->pin_source;
    if (source != NULL)
        return pico_secret_read(source, pin, cap, len);
    if (f->prompt == NULL || f->prompt->ask == NULL)
        return pico_err_raise(PICO_E_PIN_REQUIRED, "%s", f->device);
    snprintf(info, sizeof(info), "User PIN for %s (%d %s left%s)", f->device, tries,
             tries == 1 ? "try" : "tries", tries == 1 ? ", the last: a wrong PIN blocks it" : "");
    if (!f->prompt->ask(f->prompt->arg, info, pin, cap))
        return pico_err_raise(PICO_E_PIN_REQUIRED, "%s: no pin entered", f->device);
    *len = strlen(pin);
    *interactive = 1;
    return PICO_OK;
}

/* The salt of the refused-PIN digests: random, once per process, so that a digest
 * found in memory is not one of a precomputed table (as pkcs11-provider keeps its PIN
 * state). A 6-digit PIN can still be found from a digest and this salt: every copy of
 * a digest is cleansed. */
static uint8_t refused_salt[32];
static int refused_salted;
static pthread_mutex_t refused_salt_lock = PTHREAD_MUTEX_INITIALIZER;

static pico_err pin_digest(const char *pin, size_t len, uint8_t md[32])
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EVP_MD_CTX *ctx = NULL;
    EVP_MD *sha256 = NULL;
    unsigned md_len = 0;
    pico_err err = PICO_OK;

    pthread_mutex_lock(&refused_salt_lock);
    if (!refused_salted)
        refused_salted = RAND_priv_bytes_ex(libctx, refused_salt, sizeof(refused_salt), 0) == 1;
    pthread_mutex_unlock(&refused_salt_lock);
    if (!refused_salted || (sha256 = EVP_MD_fetch(libctx, "SHA256", propq)) == NULL ||
        (ctx = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(ctx, sha256, NULL) ||
        !EVP_DigestUpdate(ctx, refused_salt, sizeof(refused_salt)) ||
        !EVP_DigestUpdate(ctx, pin, len) || !EVP_DigestFinal_ex(ctx, md, &md_len) || md_len != 32)
        err = pico_err_raise(PICO_E_INTERNAL, "pin digest");
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(sha256);
    return err;
}

static int refused_has(const pico_refused_pins *r, const uint8_t md[32])
{
    unsigned i;
    int found = 0;

    for (i = 0; i < r->n && i < PICO_REFUSED_PINS; i++)
        found |= CRYPTO_memcmp(r->digest[i], md, 32) == 0;
    return found;
}

static void refused_add(pico_refused_pins *r, const uint8_t md[32])
{
    if (refused_has(r, md))
        return;
    memcpy(r->digest[r->next % PICO_REFUSED_PINS], md, 32);
    r->next = (r->next + 1) % PICO_REFUSED_PINS;
    if (r->n < PICO_REFUSED_PINS)
        r->n++;
}

void pico_refused_pins_clear(pico_refused_pins *r)
{
    OPENSSL_cleanse(r, sizeof(*r));
}

pico_err pico_refused_pins_add(pico_refused_pins *r, const char *pin, size_t len)
{
    uint8_t md[32];
    pico_err err;

    if ((err = pin_digest(pin, len, md)) == PICO_OK)
        refused_add(r, md);
    OPENSSL_cleanse(md, sizeof(md));
    return err;
}

pico_err pico_auth_pka_round(pico_card *card, const pico_auth_factors *f, const uint8_t st[4],
                             pico_pka_result *results, unsigned *done_out)
{
    uint8_t challenge[16], msg[64 + sizeof(challenge)], sig[1024];
    size_t name_len = f->dev_name != NULL ? strlen(f->dev_name) : 0, i, sig_len;
    unsigned done = 0, required = st[2];
    pico_err err, first = PICO_OK;
    pico_pka_result r;
    char chr[17];
    int already;

    for (i = 0; results != NULL && i < f->n_signers; i++)
        results[i] = PICO_PKA_NOT_TRIED;
    if (done_out != NULL)
        *done_out = 0;
    if (st[3] >= required) /* 2.3: this session is already authenticated */
        return PICO_OK;
    if (f->n_signers == 0)
        return pico_err_raise(PICO_E_PKA_REQUIRED,
                              "%s needs %u of %u pka keys: give them with pka-key=", f->device,
                              required, st[0]);
    if (name_len == 0 || name_len > 64)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: no device name to sign", f->device);
    /* 5.7: one challenge for the whole round; every key signs name || challenge */
    if ((err = pico_schsm_get_challenge(card, challenge, sizeof(challenge))) != PICO_OK)
        return err;
    memcpy(msg, f->dev_name, name_len);
    memcpy(msg + name_len, challenge, sizeof(challenge));
    /* a key that fails while others make up the count leaves no error behind (libssl
     * treats any leftover error as fatal) */
    pico_err_mark();
    for (i = 0; i < f->n_signers && done < required; i++) {
        pico_pka_signer *s = f->signers[i];
        r = PICO_PKA_AUTHENTICATED;
        if ((err = pico_pka_chr(pico_pka_signer_public(s), chr)) != PICO_OK) {
            r = PICO_PKA_SIGNER_FAILED;
        } else if ((err = pico_schsm_mse_set_pka(card, (const uint8_t *)chr, strlen(chr),
                                                 &already)) != PICO_OK) {
            if (err != PICO_E_NOT_FOUND) { /* the device or the link failed: no use going on */
                pico_err_clear_mark();
                return err;
            }
            r = PICO_PKA_NOT_REGISTERED;
            err = pico_err_raise(PICO_E_PKA_FAILED, "pka key %s (%s) is not registered on %s",
                                 pico_pka_signer_name(s), chr, f->device);
        } else if (already) {
            r = PICO_PKA_ALREADY;
        } else {
            sig_len = sizeof(sig);
            if ((err = pico_pka_signer_sign(s, msg, name_len + sizeof(challenge), sig, &sig_len)) !=
                PICO_OK)
                r = PICO_PKA_SIGNER_FAILED;
            else if ((err = pico_schsm_external_authenticate(card, sig, sig_len)) != PICO_OK) {
                if (err != PICO_E_PKA_FAILED) {
                    pico_err_clear_mark();
                    return err;
                }
                r = PICO_PKA_REFUSED;
            }
        }
        if (results != NULL)
            results[i] = r;
        if (r == PICO_PKA_AUTHENTICATED || r == PICO_PKA_ALREADY) {
            pico_log("AUTH", "pka key %s authenticated", pico_pka_signer_name(s));
            done++;
        } else {
            pico_log("AUTH", "pka key %s: not accepted", pico_pka_signer_name(s));
            first = first != PICO_OK ? first : err;
        }
    }
    if (done_out != NULL)
        *done_out = done;
    if (done >= required) {
        pico_err_pop_to_mark();
        return PICO_OK;
    }
    pico_err_clear_mark();
    return pico_err_raise(first == PICO_E_PKA_FAILED || first == PICO_OK ? PICO_E_PKA_FAILED
                                                                         : first,
                          "%s: %u of %u pka keys authenticated", f->device, done, required);
}

/* 2.3: the PKA policy, when PKA factors were given (it spends nothing); *pka: configured. */
static pico_err pka_policy(pico_card *card, const pico_auth_factors *f, uint8_t st[4], int *pka)
{
    pico_err err;

    *pka = 0;
    if (f->n_signers == 0)
        return PICO_OK;
    err = pico_schsm_pka_status(card, st);
    if (err == PICO_OK)
        *pka = 1;
    else if (err == PICO_E_UNSUPPORTED)
        pico_log("AUTH", "%s has no pka: the pka keys given are not used", f->device);
    else
        return err;
    /* too few keys: said before the PIN is touched */
    if (*pka && st[3] < st[2] && f->n_signers < st[2])
        return pico_err_raise(PICO_E_PKA_REQUIRED, "%s needs %u pka keys, %zu given", f->device,
                              st[2], f->n_signers);
    return PICO_OK;
}

/* 2.1: the PIN's state first; it spends no try. *verify: a VERIFY is needed (tries left). */
static pico_err pin_state_step(pico_card *card, const pico_auth_factors *f, int pka, int *tries,
                               int *verify)
{
    pico_pin_state state;
    pico_err err;
    int set;

    *verify = 0;
    if ((err = pico_schsm_pin_status(card, PICO_PIN_USER, &state, tries)) != PICO_OK)
        return err;
    switch (state) {
    case PICO_PIN_VERIFIED:
        if (f->pin_verified != NULL)
            *f->pin_verified = 1;
        return PICO_OK;
    case PICO_PIN_BLOCKED:
        return pico_err_raise(PICO_E_PIN_BLOCKED, "%s", f->device);
    case PICO_PIN_NOT_SET:
        if (pka) {
            /* 4.5: a PKA-only device; PKA alone leaves the MKEK locked, which key use
             * reports (6400) */
            pico_log("AUTH", "%s has no user pin: pka only", f->device);
            return PICO_OK;
        }
        return pico_err_raise(PICO_E_PIN_NOT_SET, "%s: initialize it with pico-hsm-tool init",
                              f->device);
    case PICO_PIN_TRANSPORT:
        return pico_err_raise(PICO_E_DEVICE, "%s: the transport pin is set; change the pin first",
                              f->device);
    case PICO_PIN_TRIES:
        break;
    }
    /* 2.1: a PKA-only device answers tries left too, and a VERIFY would spend one on a PIN
     * that is none: its user PIN's EF tells (firmware 6.6 or later) */
    if (pka && f->si != NULL && pico_schsm_user_pin_ef(card, f->si, &set) == PICO_OK && set == 0) {
        pico_log("AUTH", "%s has no user pin: pka only", f->device);
        return PICO_OK;
    }
    *verify = 1;
    return PICO_OK;
}

/* Whether this PIN may be sent: not one the device refused, not the last try unasked. */
static pico_err pin_may_be_sent(const pico_auth_factors *f, const char *pin, size_t len, int tries,
                                int interactive, uint8_t md[32])
{
    pico_err err;

    /* A PIN this device refused is not sent again: a source that still holds the old
     * PIN (changed under a running process) would spend a try at every operation. A
     * different PIN (the source now has the new one) goes on as usual. */
    if (f->refused != NULL) {
        if ((err = pin_digest(pin, len, md)) != PICO_OK)
            return err;
        if (refused_has(f->refused, md)) {
            pico_log("AUTH", "pin refused earlier, not sent again, %d %s left", tries,
                     tries == 1 ? "try" : "tries");
            return pico_err_raise(PICO_E_PIN_INCORRECT,
                                  "%s: pin refused earlier by this device: %d %s left; not sent "
                                  "again",
                                  f->device, tries, tries == 1 ? "try" : "tries");
        }
    }
    /* The last try is spent only on request: pin-last-try=yes, or a person who was told
     * so at the prompt. */
    if (tries == 1 && !interactive && (f->uri == NULL || f->uri->pin_last_try != 1))
        return pico_err_raise(PICO_E_PIN_LAST_TRY, "%s", f->device);
    if (len == 0 || len > PICO_PIN_MAX)
        return pico_err_raise(PICO_E_ARGS, "%s: a pin has 1 to %d characters", f->device,
                              PICO_PIN_MAX);
    return PICO_OK;
}

pico_err pico_auth_login(pico_card *card, const pico_auth_factors *f, uint8_t *held,
                         size_t *held_len)
{
    char pin[PICO_PIN_MAX + 2];
    uint8_t md[32];
    size_t len = 0;
    uint8_t st[4];
    int tries, interactive, pka = 0, verify = 0;
    pico_err err;

    if ((err = pka_policy(card, f, st, &pka)) != PICO_OK ||
        (err = pin_state_step(card, f, pka, &tries, &verify)) != PICO_OK || !verify)
        goto pka;
    if ((err = get_pin(f, tries, pin, sizeof(pin), &len, &interactive)) != PICO_OK ||
        (err = pin_may_be_sent(f, pin, len, tries, interactive, md)) != PICO_OK)
        goto end;
    /* One VERIFY, never repeated: a wrong PIN is reported with the tries left */
    err = pico_schsm_verify(card, PICO_PIN_USER, (const uint8_t *)pin, len, &tries);
    if (err == PICO_E_PIN_INCORRECT)
        pico_log("AUTH", "pin refused, %d %s left", tries, tries == 1 ? "try" : "tries");
    if ((err == PICO_E_PIN_INCORRECT || err == PICO_E_PIN_BLOCKED) && f->refused != NULL)
        refused_add(f->refused, md);
    if (err != PICO_OK)
        goto end;
    if (f->pin_verified != NULL)
        *f->pin_verified = 1;
    if (held != NULL) {
        memcpy(held, pin, len);
        *held_len = len;
    }
pka:
    /* 5.8: PKA after the PIN (a wrong PIN is reported before any signer is bothered) */
    if (err == PICO_OK && pka)
        err = pico_auth_pka_round(card, f, st, NULL, NULL);
end:
    OPENSSL_cleanse(pin, sizeof(pin));
    OPENSSL_cleanse(md, sizeof(md));
    return err;
}
