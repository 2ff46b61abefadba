/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DKEK shares and key domains on the shared device object (device_dkek.h).
 * None of these changes the device's keys or files: what the object caches
 * to keep true is its login state, which the card's own answer corrects.
 */
#include "device_dkek.h"

#include <string.h>

#include "device_int.h"

/*
 * The user PIN verified in this card session, else a login again with the
 * held factors (pico-cache-pin), else an error: never a share imported (or a
 * domain changed) outside a PIN session.
 */
static pico_err need_pin_session(pico_device *d, const char *op)
{
    pico_pin_state state;
    int tries;
    pico_err err;

    if ((err = pico_schsm_pin_status(d->card, PICO_PIN_USER, &state, &tries)) != PICO_OK)
        return err;
    if (state == PICO_PIN_VERIFIED)
        return PICO_OK;
    /* another client's SELECT or a reset since the login (4.6) */
    d->logged_in = 0;
    if (d->can_relogin && (err = pico_dev_relogin_locked(d)) == PICO_OK && d->login_had_pin)
        return PICO_OK;
    return pico_err_raise(PICO_E_NOT_LOGGED_IN,
                          "%s needs the user pin verified in the same session: log in first (a "
                          "share imported without it is sealed only at the next verify)",
                          op);
}

static pico_err status_locked(pico_device *d, uint8_t domain, pico_dkek_state *st)
{
    pico_pin_state state;
    int tries;
    pico_err err;

    memset(st, 0, sizeof(*st));
    if ((err = pico_schsm_pin_status(d->card, PICO_PIN_USER, &state, &tries)) != PICO_OK)
        return err;
    st->pin_session = state == PICO_PIN_VERIFIED;
    if (!st->pin_session)
        d->logged_in = 0;
    err = pico_schsm_dkek_status(d->card, domain, &st->info);
    if (err == PICO_E_NOT_FOUND) /* not set up: a state, not a failure */
        return PICO_OK;
    st->set_up = err == PICO_OK;
    return err;
}

pico_err pico_device_dkek_status(pico_device *d, uint8_t domain, pico_dkek_state *st)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = status_locked(d, domain, st);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_dkek_import(pico_device *d, uint8_t domain, const uint8_t share[32],
                                 pico_dkek_state *st)
{
    pico_err err;

    memset(st, 0, sizeof(*st));
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = need_pin_session(d, "a dkek share import")) == PICO_OK &&
        (err = pico_schsm_dkek_import(d->card, domain, share, &st->info)) == PICO_OK) {
        st->set_up = 1;
        st->pin_session = 1;
    }
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_domain_create(pico_device *d, uint8_t domain, uint8_t shares,
                                   pico_dkek_state *st)
{
    pico_err err;

    memset(st, 0, sizeof(*st));
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = need_pin_session(d, "a key domain change")) != PICO_OK)
        goto end;
    /* the firmware answers 6A86 both for a domain set up already and one it does not have */
    err = pico_schsm_dkek_status(d->card, domain, &st->info);
    if (err == PICO_OK) {
        err = pico_err_raise(PICO_E_CONDITIONS, "key domain %u is set up already: delete it first",
                             domain);
        goto end;
    }
    if (err != PICO_E_NOT_FOUND)
        goto end;
    if ((err = pico_schsm_domain_create(d->card, domain, shares, &st->info)) == PICO_OK) {
        st->set_up = 1;
        st->pin_session = 1;
    }
end:
    pico_dev_leave(d);
    return err;
}

/* The device entered for a change of a key domain that is set up (its status in info); on
 * a failure it is given back. The firmware answers 6A86 for a domain that is not set up
 * (and "forgets" one into a state of 255 shares): said plainly instead. */
static pico_err enter_set_up_domain(pico_device *d, uint8_t domain, pico_dkek_info *info)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = need_pin_session(d, "a key domain change")) == PICO_OK &&
        (err = pico_schsm_dkek_status(d->card, domain, info)) == PICO_E_NOT_FOUND)
        err = pico_err_raise(PICO_E_NOT_FOUND, "key domain %u is not set up", domain);
    if (err != PICO_OK)
        pico_dev_leave(d);
    return err;
}

pico_err pico_device_domain_delete(pico_device *d, uint8_t domain)
{
    pico_dkek_info info;
    pico_err err;

    if ((err = enter_set_up_domain(d, domain, &info)) != PICO_OK)
        return err;
    err = pico_schsm_domain_delete(d->card, domain);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_domain_forget(pico_device *d, uint8_t domain, pico_dkek_state *st)
{
    pico_err err;

    memset(st, 0, sizeof(*st));
    if ((err = enter_set_up_domain(d, domain, &st->info)) != PICO_OK)
        return err;
    if ((err = pico_schsm_domain_forget(d->card, domain, &st->info)) == PICO_OK) {
        st->set_up = 1;
        st->pin_session = 1;
    }
    pico_dev_leave(d);
    return err;
}
