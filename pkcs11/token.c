/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C_GetTokenInfo and the mechanisms. The token's label is the device's name
 * (the CHR of its device certificate), its serial that name without the
 * last 5 characters, as OpenSC shows it, so that a pkcs11: URI written for
 * one module names the same token in the other. The PIN flags come from the
 * PIN's state, read without spending a try; the counter the device starts
 * from is not readable, so "count low" means fewer tries than the
 * firmware's default of 3.
 */
#include <string.h>

#include "log.h"
#include "module.h"
#include "schsm.h"

typedef struct pin_info {
    pico_pin_state state;
    int tries;
    pico_pin_state so_state;
    int so_tries;
} pin_info;

static pico_err read_pin_state(void *arg, pico_card *card)
{
    pin_info *p = arg;
    pico_err err;

    if ((err = pico_schsm_pin_status(card, PICO_PIN_USER, &p->state, &p->tries)) != PICO_OK)
        return err;
    /* a device whose SO-PIN state cannot be read still shows its user PIN's */
    pico_err_mark();
    if (pico_schsm_pin_status(card, PICO_PIN_SO, &p->so_state, &p->so_tries) != PICO_OK)
        p->so_state = PICO_PIN_VERIFIED;
    pico_err_pop_to_mark();
    return PICO_OK;
}

/* The SO-PIN's flags: its counter always starts from 15 (3.1, tag 91 is the user's only). */
static CK_FLAGS so_pin_flags(const pin_info *p)
{
    if (p->so_state == PICO_PIN_BLOCKED)
        return CKF_SO_PIN_LOCKED;
    if (p->so_state != PICO_PIN_TRIES)
        return 0;
    return (p->so_tries == 1 ? CKF_SO_PIN_FINAL_TRY : 0) |
           (p->so_tries < 15 ? CKF_SO_PIN_COUNT_LOW : 0);
}

static CK_FLAGS pin_flags(p11_slot *s)
{
    pin_info p = {PICO_PIN_NOT_SET, 0, PICO_PIN_VERIFIED, 0};
    p11_pin_probe probe;
    CK_FLAGS f = 0;
    pico_err err;

    pico_err_mark();
    err = pico_device_run(s->dev, read_pin_state, &p);
    /* a PKA-only device answers the status as one with a PIN: it has none to log in with */
    probe.known = 1; /* the state just read */
    probe.state = p.state;
    if (err == PICO_OK && p.state == PICO_PIN_TRIES && p11_pin_probe_run(s, &probe) == PICO_OK &&
        probe.set == 0)
        p.state = PICO_PIN_NOT_SET;
    pico_err_pop_to_mark();
    if (err != PICO_OK)
        return 0;
    switch (p.state) {
    case PICO_PIN_VERIFIED:
        f = CKF_USER_PIN_INITIALIZED;
        break;
    case PICO_PIN_TRIES:
        f = CKF_USER_PIN_INITIALIZED;
        if (p.tries == 1)
            f |= CKF_USER_PIN_FINAL_TRY;
        if (p.tries < 3)
            f |= CKF_USER_PIN_COUNT_LOW;
        break;
    case PICO_PIN_BLOCKED:
        f = CKF_USER_PIN_INITIALIZED | CKF_USER_PIN_LOCKED;
        break;
    case PICO_PIN_TRANSPORT:
        f = CKF_USER_PIN_INITIALIZED | CKF_USER_PIN_TO_BE_CHANGED;
        break;
    case PICO_PIN_NOT_SET: /* uninitialized, or PKA only: no PIN to log in with */
        break;
    }
    return f | so_pin_flags(&p);
}

static void fill_token(p11_slot *s, CK_TOKEN_INFO *info)
{
    const char *name = pico_device_name(s->dev);
    char serial[17];
    size_t n = strlen(name);
    pico_select_info si = {0};

    memset(info, 0, sizeof(*info));
    snprintf(serial, sizeof(serial), "%.*s", (int)(n > 5 ? n - 5 : n), name);
    p11_pad(info->label, sizeof(info->label), name[0] != '\0' ? name : "Pico HSM");
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "Pico HSM");
    p11_pad(info->model, sizeof(info->model), "SmartCard-HSM");
    p11_pad(info->serialNumber, sizeof(info->serialNumber), serial);
    info->flags = CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED | pin_flags(s);
    /* a configured PIN source: the application logs in without a PIN of its own */
    if (p11.cfg.pin_source != NULL)
        info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
    info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
    info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
    info->ulMaxPinLen = PICO_PIN_MAX;
    info->ulMinPinLen = 6;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pico_err_mark();
    if (pico_device_select_info(s->dev, &si) == PICO_OK) {
        info->firmwareVersion.major = si.major;
        info->firmwareVersion.minor = si.minor;
    }
    pico_err_pop_to_mark();
}

CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
    p11_slot *s;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((s = p11_slot_get(id)) == NULL)
        rv = CKR_SLOT_ID_INVALID;
    else if (!s->present || s->dev == NULL)
        rv = CKR_TOKEN_NOT_PRESENT;
    else if (info == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        fill_token(s, info);
    p11_leave();
    return rv;
}

#define EC_FLAGS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
/* eddsa: only on firmware built with EdDSA (pico_device_supports). Sizes of the curves of
 * RFC 7748 and RFC 8032 in bits of their fields: 255 and 448. */
static const struct {
    CK_MECHANISM_TYPE type;
    CK_MECHANISM_INFO info;
    int eddsa;
} mechs[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, {1024, 4096, CKF_HW | CKF_GENERATE_KEY_PAIR}, 0},
    {CKM_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN | CKF_DECRYPT}, 0},
    {CKM_RSA_X_509, {1024, 4096, CKF_HW | CKF_SIGN | CKF_DECRYPT}, 0},
    {CKM_RSA_PKCS_OAEP, {1024, 4096, CKF_HW | CKF_DECRYPT}, 0},
    {CKM_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA1_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA224_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA256_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA384_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA512_RSA_PKCS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA1_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA224_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA256_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA384_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_SHA512_RSA_PKCS_PSS, {1024, 4096, CKF_HW | CKF_SIGN}, 0},
    {CKM_EC_KEY_PAIR_GEN, {192, 521, CKF_HW | CKF_GENERATE_KEY_PAIR | EC_FLAGS}, 0},
    {CKM_ECDSA, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDSA_SHA1, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDSA_SHA224, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDSA_SHA256, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDSA_SHA384, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDSA_SHA512, {192, 521, CKF_HW | CKF_SIGN | EC_FLAGS}, 0},
    {CKM_ECDH1_DERIVE, {192, 521, CKF_HW | CKF_DERIVE | EC_FLAGS}, 0},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
     {255, 448, CKF_HW | CKF_GENERATE_KEY_PAIR | CKF_EC_NAMEDCURVE},
     0},
    {CKM_EC_EDWARDS_KEY_PAIR_GEN,
     {255, 448, CKF_HW | CKF_GENERATE_KEY_PAIR | CKF_EC_NAMEDCURVE},
     1},
    {CKM_EDDSA, {255, 448, CKF_HW | CKF_SIGN | CKF_EC_NAMEDCURVE}, 1},
};
#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

static CK_RV slot_ok(CK_SLOT_ID id)
{
    p11_slot *s = p11_slot_get(id);

    return s == NULL ? CKR_SLOT_ID_INVALID : !s->present ? CKR_TOKEN_NOT_PRESENT : CKR_OK;
}

/*
 * Whether the token has mechanism i: the EdDSA ones only when the device can (asked once per
 * device, no PIN try: an Ed key on it says yes, else with this process's login a probe; not
 * knowing yet, before a login on a device without an Ed key, is no).
 */
static int has_mech(CK_SLOT_ID id, size_t i)
{
    p11_slot *s = p11_slot_get(id);
    int yes;

    if (!mechs[i].eddsa)
        return 1;
    if (s == NULL || s->dev == NULL)
        return 0;
    pico_err_mark();
    yes = pico_device_supports(s->dev, PICO_KEY_ED25519);
    pico_err_pop_to_mark();
    return yes;
}

CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
    CK_MECHANISM_TYPE have[N_MECHS];
    size_t i, n = 0;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((rv = slot_ok(id)) != CKR_OK)
        goto end;
    if (count == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    for (i = 0; i < N_MECHS; i++)
        if (has_mech(id, i))
            have[n++] = mechs[i].type;
    if (list != NULL && *count < n)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (list != NULL)
        memcpy(list, have, n * sizeof(have[0]));
    *count = n;
end:
    p11_leave();
    return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
    size_t i;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((rv = slot_ok(id)) != CKR_OK)
        goto end;
    rv = CKR_MECHANISM_INVALID;
    for (i = 0; i < N_MECHS; i++)
        if (mechs[i].type == type && info != NULL && has_mech(id, i)) {
            *info = mechs[i].info;
            rv = CKR_OK;
        }
end:
    p11_leave();
    return rv;
}
