/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sessions and the login. C_Login hands the PIN to the device layer's login
 * engine (common/device_login.c) with the module's settings: the PIN first,
 * then the PKA keys of pka-key=, never a wrong PIN again, the last try kept
 * unless pin-last-try=yes. A NULL PIN (the token says it has a protected
 * authentication path when pin-source= is set) takes the PIN from there.
 * C_Logout and the close of a slot's last session end the login on the card
 * (the next exchange selects the application again).
 */
#include <openssl/crypto.h>
#include <string.h>

#include "log.h"
#include "module.h"
#include "schsm.h"

p11_session *p11_session_get(CK_SESSION_HANDLE h)
{
    if (h == 0 || h > P11_MAX_SESSIONS || !p11.sessions[h - 1].used)
        return NULL;
    return &p11.sessions[h - 1];
}

CK_RV p11_enter_session(CK_SESSION_HANDLE h, p11_session **s)
{
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((*s = p11_session_get(h)) == NULL) {
        p11_leave();
        return CKR_SESSION_HANDLE_INVALID;
    }
    return CKR_OK;
}

CK_RV C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE_PTR out)
{
    p11_slot *slot;
    size_t i;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((slot = p11_slot_get(id)) == NULL)
        rv = CKR_SLOT_ID_INVALID;
    else if (!slot->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    else if (!(flags & CKF_SERIAL_SESSION))
        rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    else if (!(flags & CKF_RW_SESSION) && slot->so_pin != NULL)
        rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
    else if (out == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv != CKR_OK)
        goto end;
    for (i = 0; i < P11_MAX_SESSIONS && p11.sessions[i].used; i++)
        ;
    if (i == P11_MAX_SESSIONS) {
        rv = CKR_SESSION_COUNT;
        goto end;
    }
    memset(&p11.sessions[i], 0, sizeof(p11.sessions[i]));
    p11.sessions[i].used = 1;
    p11.sessions[i].slot = id;
    p11.sessions[i].flags = flags;
    *out = i + 1;
end:
    p11_leave();
    return rv;
}

static void session_close(p11_session *s)
{
    CK_SLOT_ID slot = s->slot;
    size_t i;

    p11_op_clear(&s->sign);
    p11_op_clear(&s->decrypt);
    memset(s, 0, sizeof(*s));
    /* the application's login ends with its last session on the token (2.40 5.6) */
    for (i = 0; i < P11_MAX_SESSIONS; i++)
        if (p11.sessions[i].used && p11.sessions[i].slot == slot)
            return;
    p11_slot_logout(&p11.slots[slot]);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    session_close(s);
    p11_leave();
    return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID id)
{
    size_t i;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if (p11_slot_get(id) == NULL) {
        rv = CKR_SLOT_ID_INVALID;
        goto end;
    }
    for (i = 0; i < P11_MAX_SESSIONS; i++)
        if (p11.sessions[i].used && p11.sessions[i].slot == id)
            session_close(&p11.sessions[i]);
end:
    p11_leave();
    return rv;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
    p11_session *s;
    int user, rw;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    user = p11.slots[s->slot].logged_in;
    rw = (s->flags & CKF_RW_SESSION) != 0;
    info->slotID = s->slot;
    info->flags = s->flags;
    info->ulDeviceError = 0;
    info->state = user ? (rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS)
                       : (rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION);
    if (p11.slots[s->slot].so_pin != NULL)
        info->state = CKS_RW_SO_FUNCTIONS; /* no read-only session beside an SO login */
end:
    p11_leave();
    return rv;
}

static pico_err read_pin_set(void *arg, pico_card *card)
{
    p11_pin_probe *p = arg;

    if (p->known)
        return pico_schsm_user_pin_set_known(card, &p->si, p->state, &p->set, &p->pka);
    return pico_schsm_user_pin_set(card, &p->si, &p->state, &p->set, &p->pka);
}

pico_err p11_pin_probe_run(p11_slot *slot, p11_pin_probe *p)
{
    pico_err err;

    p->set = -1;
    p->pka = -1;
    if (!p->known)
        p->state = PICO_PIN_TRIES;
    /* a PIN once set stays (only an INITIALIZE takes it, and the device's keys with it) */
    if (slot->probed && slot->pin_set) {
        p->set = 1;
        p->pka = slot->pka;
        return PICO_OK;
    }
    if ((err = pico_device_select_info(slot->dev, &p->si)) != PICO_OK ||
        (err = pico_device_run(slot->dev, read_pin_set, p)) != PICO_OK)
        return err;
    if (p->set == 1 && p->pka >= 0) {
        slot->probed = 1;
        slot->pin_set = 1;
        slot->pka = p->pka;
    }
    return PICO_OK;
}

static pico_err read_pka_state(void *arg, pico_card *card)
{
    return pico_schsm_pka_status(card, arg);
}

/*
 * A login without PKA keys verifies the PIN only; on a device that also requires public
 * key authentication the keys stay refused: that login is no login (never a false
 * "logged in"), and the user reads which factor is missing.
 */
static pico_err check_pka_done(p11_slot *slot)
{
    uint8_t st[4];
    pico_err err;

    if (slot->probed && slot->pka == 0) /* the probe found no PKA: nothing to be missing */
        return PICO_OK;
    pico_err_mark();
    err = pico_device_run(slot->dev, read_pka_state, st);
    pico_err_pop_to_mark();
    if (err != PICO_OK || st[3] >= st[2]) /* no PKA (6A86), or enough keys authenticated */
        return PICO_OK;
    pico_device_forget(slot->dev);
    return pico_err_raise(PICO_E_PKA_REQUIRED,
                          "%s also requires public key authentication (%u of %u keys): "
                          "name the keys with pka-key=",
                          slot->reader, st[2] - st[3], st[2]);
}

/*
 * 4.5: no user PIN (not initialized, or PKA only, which answers the PIN status as a device
 * with one does: common/ tells it by the PIN's EF): the keys stay locked without one, so no
 * login can make them usable, and a VERIFY would spend a try on a PIN that is none. Said
 * before anything is sent, never "logged in".
 */
static pico_err no_pin(p11_slot *slot)
{
    p11_pin_probe p = {.known = 0};
    pico_err err;

    pico_err_mark(); /* a probe that could not ask: the login finds out the rest */
    err = p11_pin_probe_run(slot, &p);
    pico_err_pop_to_mark();
    if (err != PICO_OK || p.set != 0)
        return PICO_OK;
    p11.in_login = 1; /* what follows is the user's to read */
    if (p.state == PICO_PIN_NOT_SET)
        return pico_err_raise(PICO_E_PIN_NOT_SET,
                              "%s has no user pin: its keys cannot be used until one is set",
                              slot->reader);
    return pico_err_raise(PICO_E_PIN_NOT_SET,
                          "%s has no user pin (pka only): its keys open only with one; set it "
                          "with pico-hsm-tool pin unblock (the so-pin), or verify once with "
                          "pico-hsm-tool pin verify a pin set before firmware 6.6",
                          slot->reader);
}

/* The login itself: the engine with the application's PIN (or the configured source). */
static CK_RV slot_login(p11_slot *slot, const char *pin)
{
    pico_uri uri;
    pico_err err;
    CK_RV rv;

    if (pico_uri_parse("pico:", &uri, NULL) != PICO_URI_OK)
        return CKR_HOST_MEMORY;
    uri.pin_last_try = p11.pin_last_try ? 1 : -1;
    if ((err = no_pin(slot)) != PICO_OK)
        goto end;
    p11.in_login = 1;
    /* a login this process still holds (a C_Logout of another module instance, the parent
     * before fork) must not accept whatever PIN comes now: the PIN given is verified */
    if (pico_device_logged_in(slot->dev))
        pico_device_forget(slot->dev);
    if ((err = pico_device_login(slot->dev, &uri, &p11.cfg, pin, NULL)) == PICO_OK)
        err = check_pka_done(slot);
end:
    p11.in_login = 0;
    pico_uri_free(&uri);
    rv = p11_rv(err);
    if (rv == CKR_OK)
        slot->logged_in = 1;
    pico_log("PKCS11", "login on '%s': rv=0x%lx", slot->reader, (unsigned long)rv);
    return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    char buf[PICO_PIN_MAX + 1];
    p11_session *s;
    p11_slot *slot;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    /* OpenSC's unblock (pkcs11-tool --unlock-pin --login-type context-specific): a
     * context-specific login with no operation to authorize gives the PUK, which is the
     * SO-PIN of a SmartCard-HSM (OpenSC's driver); C_SetPIN then unblocks (pin.c) */
    if (user == CKU_SO || (user == CKU_CONTEXT_SPECIFIC && !s->sign.active && !s->decrypt.active)) {
        rv = p11_so_login(s, user, pin, len);
        goto end;
    }
    if (user != CKU_USER)
        rv = user == CKU_CONTEXT_SPECIFIC ? CKR_USER_TYPE_INVALID : CKR_ARGUMENTS_BAD;
    else if ((slot = &p11.slots[s->slot])->logged_in)
        rv = CKR_USER_ALREADY_LOGGED_IN;
    else if (slot->so_pin != NULL)
        rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    else if (pin == NULL && p11.cfg.pin_source == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (pin != NULL && (len == 0 || len > PICO_PIN_MAX))
        rv = CKR_PIN_LEN_RANGE;
    if (rv != CKR_OK)
        goto end;
    if (pin != NULL) {
        memcpy(buf, pin, len);
        buf[len] = '\0';
    }
    rv = slot_login(slot, pin != NULL ? buf : NULL);
end:
    OPENSSL_cleanse(buf, sizeof(buf));
    p11_leave();
    return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
    p11_session *s;
    size_t i;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!p11.slots[s->slot].logged_in && p11.slots[s->slot].so_pin == NULL) {
        rv = CKR_USER_NOT_LOGGED_IN;
        goto end;
    }
    for (i = 0; i < P11_MAX_SESSIONS; i++)
        if (p11.sessions[i].used && p11.sessions[i].slot == s->slot) {
            p11_op_clear(&p11.sessions[i].sign);
            p11_op_clear(&p11.sessions[i].decrypt);
        }
    p11_slot_logout(&p11.slots[s->slot]);
end:
    p11_leave();
    return rv;
}
