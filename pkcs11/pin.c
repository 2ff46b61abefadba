/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PINs: C_SetPIN, C_InitPIN and the Security Officer's login. Each goes
 * through the device layer's operations (common/device_admin.c), which keep
 * the device object true; before each command the PIN it checks is read
 * without spending a try (VERIFY without data, 2.1): a blocked PIN sends
 * nothing, and the last try is kept unless pin-last-try=yes, as at C_Login.
 * A wrong PIN spends the one try of its command: it is never sent again here.
 *
 * The SO-PIN is 8 bytes, given as 16 hexadecimal characters as sc-hsm-tool
 * and OpenSC take it. The SO login is a VERIFY 88; the SO-PIN is then held
 * (secure heap) for C_InitPIN, whose RESET RETRY COUNTER carries it (4.3),
 * and released at C_Logout or the close of the slot's last session.
 */
#include <openssl/crypto.h>
#include <string.h>

#include "log.h"
#include "module.h"
#include "schsm.h"
#include "secret.h"

#define SO_PIN_LEN 8
#define USER_PIN_MIN 6 /* as pico-hsm-tool and C_GetTokenInfo's ulMinPinLen */

/* The PIN about to be checked: its state, no try spent (the check step of the change). */
static pico_err pin_guard(void *arg, pico_card *card)
{
    uint8_t ref = *(const uint8_t *)arg;
    const char *which = ref == PICO_PIN_SO ? "so-pin" : "user pin";
    pico_pin_state state;
    int tries;
    pico_err err;

    if ((err = pico_schsm_pin_status(card, ref, &state, &tries)) != PICO_OK)
        return err;
    if (state == PICO_PIN_BLOCKED)
        err = pico_err_raise(PICO_E_PIN_BLOCKED, "the %s is blocked", which);
    else if (state == PICO_PIN_NOT_SET)
        err = pico_err_raise(PICO_E_PIN_NOT_SET, "the device has no %s", which);
    else if (state == PICO_PIN_TRIES && tries == 1 && !p11.pin_last_try)
        err = pico_err_raise(PICO_E_PIN_LAST_TRY,
                             "one %s try left: kept (pin-last-try=yes spends it)", which);
    return err;
}

static int hex_value(CK_UTF8CHAR c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* 16 hexadecimal characters into the 8 SO-PIN bytes; 0 for anything else. */
static int so_pin_decode(const CK_UTF8CHAR *hex, CK_ULONG len, uint8_t out[SO_PIN_LEN])
{
    int hi, lo;
    size_t i;

    if (hex == NULL || len != 2 * SO_PIN_LEN)
        return 0;
    for (i = 0; i < SO_PIN_LEN; i++) {
        if ((hi = hex_value(hex[2 * i])) < 0 || (lo = hex_value(hex[2 * i + 1])) < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static int has_ro_session(CK_SLOT_ID slot)
{
    size_t i;

    for (i = 0; i < P11_MAX_SESSIONS; i++)
        if (p11.sessions[i].used && p11.sessions[i].slot == slot &&
            !(p11.sessions[i].flags & CKF_RW_SESSION))
            return 1;
    return 0;
}

CK_RV p11_so_login(p11_session *s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    p11_slot *slot = &p11.slots[s->slot];
    uint8_t ref = PICO_PIN_SO, so[SO_PIN_LEN];
    pico_admin_steps check = {pin_guard, NULL, &ref};
    int tries = 0;
    CK_RV rv = CKR_OK;

    if (slot->so_pin != NULL)
        rv = CKR_USER_ALREADY_LOGGED_IN;
    else if (slot->logged_in)
        rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    else if (has_ro_session(s->slot))
        rv = CKR_SESSION_READ_ONLY_EXISTS;
    else if (pin == NULL)
        rv = CKR_ARGUMENTS_BAD; /* no protected path for the SO-PIN */
    else if (len != 2 * SO_PIN_LEN)
        rv = CKR_PIN_LEN_RANGE;
    else if (!so_pin_decode(pin, len, so))
        rv = CKR_PIN_INCORRECT; /* not 16 hex digits: it cannot be the SO-PIN, nothing sent */
    if (rv != CKR_OK)
        goto end;
    p11.in_login = 1;
    rv = p11_rv(pico_device_so_login(slot->dev, so, sizeof(so), &check, &tries));
    p11.in_login = 0;
    if (rv == CKR_OK && (slot->so_pin = pico_secret_hold((const char *)so, sizeof(so))) == NULL)
        rv = CKR_HOST_MEMORY;
    slot->puk_login = rv == CKR_OK && user == CKU_CONTEXT_SPECIFIC;
    pico_log("PKCS11", "so login on '%s': rv=0x%lx", slot->reader, (unsigned long)rv);
end:
    OPENSSL_cleanse(so, sizeof(so));
    return rv;
}

void p11_so_logout(p11_slot *slot)
{
    pico_secret_release(slot->so_pin);
    slot->so_pin = NULL;
    slot->puk_login = 0;
}

/* A new user PIN with the held SO-PIN: RESET RETRY COUNTER P1=00 (4.3), a blocked PIN too. */
static CK_RV init_user_pin(p11_slot *slot, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    uint8_t ref = PICO_PIN_SO;
    pico_admin_steps check = {pin_guard, NULL, &ref};
    int tries = 0;
    CK_RV rv;

    if (pin == NULL)
        return CKR_ARGUMENTS_BAD;
    if (len < USER_PIN_MIN || len > PICO_PIN_MAX)
        return CKR_PIN_LEN_RANGE;
    p11.in_login = 1;
    rv = p11_rv(pico_device_unblock_pin(slot->dev, (const uint8_t *)slot->so_pin, SO_PIN_LEN, pin,
                                        len, &check, &tries));
    p11.in_login = 0;
    pico_log("PKCS11", "init pin on '%s': rv=0x%lx", slot->reader, (unsigned long)rv);
    return rv;
}

void p11_so_release_all(void)
{
    size_t i;

    for (i = 0; i < P11_MAX_SLOTS; i++)
        p11_so_logout(&p11.slots[i]);
}

/* OpenSC's unblock after its PUK login: C_SetPIN(PUK or nothing, new PIN). A PUK other than
 * the one logged in with cannot be right: refused, nothing sent. */
static CK_RV unblock_pin(p11_slot *slot, CK_UTF8CHAR_PTR old, CK_ULONG old_len, CK_UTF8CHAR_PTR new,
                         CK_ULONG new_len)
{
    uint8_t puk[SO_PIN_LEN];
    CK_RV rv;

    if (old != NULL && old_len > 0 &&
        (!so_pin_decode(old, old_len, puk) || CRYPTO_memcmp(puk, slot->so_pin, SO_PIN_LEN) != 0))
        rv = CKR_PIN_INCORRECT;
    else
        rv = init_user_pin(slot, new, new_len);
    OPENSSL_cleanse(puk, sizeof(puk));
    return rv;
}

/* C_SetPIN in an SO session: CHANGE REFERENCE DATA 88 with the old and the new SO-PIN. */
static CK_RV set_so_pin(p11_slot *slot, CK_UTF8CHAR_PTR old, CK_ULONG old_len, CK_UTF8CHAR_PTR new,
                        CK_ULONG new_len)
{
    uint8_t ref = PICO_PIN_SO, o[SO_PIN_LEN], n[SO_PIN_LEN];
    pico_admin_steps check = {pin_guard, NULL, &ref};
    char *held;
    int tries = 0;
    CK_RV rv;

    if (!so_pin_decode(old, old_len, o) || !so_pin_decode(new, new_len, n)) {
        rv = CKR_PIN_INVALID; /* 16 hex digits each: nothing sent */
        goto end;
    }
    p11.in_login = 1;
    rv = p11_rv(
        pico_device_change_pin(slot->dev, PICO_PIN_SO, o, sizeof(o), n, sizeof(n), &check, &tries));
    p11.in_login = 0;
    if (rv == CKR_OK) {
        /* C_InitPIN sends the SO-PIN the device now has; never the old one (a try spent) */
        held = pico_secret_hold((const char *)n, sizeof(n));
        p11_so_logout(slot);
        slot->so_pin = held; /* NULL (out of memory): the SO session ends here */
    }
end:
    OPENSSL_cleanse(o, sizeof(o));
    OPENSSL_cleanse(n, sizeof(n));
    return rv;
}

/* C_SetPIN of the user PIN (a user or a public session): CHANGE REFERENCE DATA 81. */
static CK_RV set_user_pin(p11_slot *slot, CK_UTF8CHAR_PTR old, CK_ULONG old_len,
                          CK_UTF8CHAR_PTR new, CK_ULONG new_len)
{
    uint8_t ref = PICO_PIN_USER;
    pico_admin_steps check = {pin_guard, NULL, &ref};
    int tries = 0;
    pico_err err;
    CK_RV rv;

    if (old == NULL || new == NULL)
        return CKR_ARGUMENTS_BAD; /* no protected path for a change */
    if (old_len == 0 || old_len > PICO_PIN_MAX || new_len < USER_PIN_MIN || new_len > PICO_PIN_MAX)
        return CKR_PIN_LEN_RANGE;
    p11.in_login = 1;
    err = pico_device_change_pin(slot->dev, PICO_PIN_USER, old, old_len, new, new_len, &check,
                                 &tries);
    p11.in_login = 0;
    rv = p11_rv(err);
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
        slot->logged_in = 0; /* the card dropped its login before checking the old PIN (4.2) */
    else if (rv == CKR_OK && !slot->logged_in)
        pico_device_forget(slot->dev); /* the new PIN's session (4.2): no login asked for */
    return rv;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old, CK_ULONG old_len, CK_UTF8CHAR_PTR new,
               CK_ULONG new_len)
{
    p11_session *s;
    p11_slot *slot;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    if (rv != CKR_OK)
        goto end;
    slot = &p11.slots[s->slot];
    if (slot->puk_login)
        rv = unblock_pin(slot, old, old_len, new, new_len);
    else if (slot->so_pin != NULL)
        rv = set_so_pin(slot, old, old_len, new, new_len);
    else
        rv = set_user_pin(slot, old, old_len, new, new_len);
    pico_log("PKCS11", "%s on '%s': rv=0x%lx",
             slot->puk_login        ? "unblock"
             : slot->so_pin != NULL ? "so pin change"
                                    : "pin change",
             slot->reader, (unsigned long)rv);
end:
    p11_leave();
    return rv;
}

/* C_InitPIN: RESET RETRY COUNTER P1=00 with the held SO-PIN and the new user PIN (4.3). */
CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    p11_session *s;
    p11_slot *slot = NULL;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if ((slot = &p11.slots[s->slot])->so_pin == NULL)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (!(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    if (rv == CKR_OK)
        rv = init_user_pin(slot, pin, len);
    p11_leave();
    return rv;
}
