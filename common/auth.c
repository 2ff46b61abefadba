/* SPDX-License-Identifier: Apache-2.0 */
#include "auth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
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

pico_err pico_auth_login(pico_card *card, const pico_auth_factors *f, uint8_t *held,
                         size_t *held_len)
{
    char pin[PICO_PIN_MAX + 2];
    size_t len = 0;
    pico_pin_state state;
    int tries, interactive;
    pico_err err;

    /* 2.1: the state first; it spends no try */
    if ((err = pico_schsm_pin_status(card, PICO_PIN_USER, &state, &tries)) != PICO_OK)
        goto end;
    switch (state) {
    case PICO_PIN_VERIFIED:
        err = PICO_OK;
        goto end;
    case PICO_PIN_BLOCKED:
        err = pico_err_raise(PICO_E_PIN_BLOCKED, "%s", f->device);
        goto end;
    case PICO_PIN_NOT_SET:
        err = pico_err_raise(PICO_E_PIN_NOT_SET, "%s: initialize it with pico-hsm-tool init",
                             f->device);
        goto end;
    case PICO_PIN_TRANSPORT:
        err = pico_err_raise(PICO_E_DEVICE, "%s: the transport pin is set; change the pin first",
                             f->device);
        goto end;
    case PICO_PIN_TRIES:
        break;
    }
    if ((err = get_pin(f, tries, pin, sizeof(pin), &len, &interactive)) != PICO_OK)
        goto end;
    /* The last try is spent only on request: pin-last-try=yes, or a person who was told
     * so at the prompt. */
    if (tries == 1 && !interactive && (f->uri == NULL || f->uri->pin_last_try != 1)) {
        err = pico_err_raise(PICO_E_PIN_LAST_TRY, "%s", f->device);
        goto end;
    }
    if (len == 0 || len > PICO_PIN_MAX) {
        err = pico_err_raise(PICO_E_ARGS, "%s: a pin has 1 to %d characters", f->device,
                             PICO_PIN_MAX);
        goto end;
    }
    /* One VERIFY, never repeated: a wrong PIN is reported with the tries left */
    err = pico_schsm_verify(card, PICO_PIN_USER, (const uint8_t *)pin, len, &tries);
    if (err == PICO_E_PIN_INCORRECT)
        pico_log("AUTH", "pin refused, %d tries left", tries);
    if (err == PICO_OK && held != NULL) {
        memcpy(held, pin, len);
        *held_len = len;
    }
end:
    OPENSSL_cleanse(pin, sizeof(pin));
    return err;
}
