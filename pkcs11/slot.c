/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slots and tokens: a slot is a PC/SC reader that held a Pico HSM (or
 * SmartCard-HSM) when the slots were listed; its slot ID stays its own for
 * the life of the module, so that a device coming back finds its old slot.
 * The token flags read the user PIN's state without spending a try (VERIFY
 * without data, sc-hsm-protocol.md 2.1). The mechanism table says what the
 * device does, with the sizes the firmware generates and uses.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "module.h"
#include "schsm.h"

static pico_err nothing(void *arg, pico_card *card)
{
    return PICO_OK;
}

static int seen(void *arg, pico_device *dev)
{
    const char *reader = pico_device_reader(dev);
    size_t i;

    /* the device object outlives its card: a transaction (no APDU) says the card is there */
    pico_err_mark();
    if (pico_device_run(dev, nothing, NULL) != PICO_OK) {
        pico_err_pop_to_mark();
        return 0;
    }
    pico_err_pop_to_mark();

    for (i = 0; i < p11.nslots; i++)
        if (strcmp(p11.slots[i].reader, reader) == 0)
            break;
    if (i == p11.nslots) {
        if (p11.nslots == P11_MAX_SLOTS)
            return 1;
        snprintf(p11.slots[i].reader, sizeof(p11.slots[i].reader), "%s", reader);
        p11.nslots++;
    }
    p11.slots[i].dev = dev;
    p11.slots[i].present = 1;
    return 0;
}

void p11_slot_logout(p11_slot *s)
{
    /* the card keeps a login until its application is selected again: forgetting the
     * device makes the next exchange SELECT, which ends it (4.6) */
    if ((s->logged_in || s->so_pin != NULL) && s->dev != NULL)
        pico_device_forget(s->dev);
    s->logged_in = 0;
    p11_so_logout(s);
}

CK_RV p11_slots_refresh(void)
{
    size_t i;
    pico_err err;

    for (i = 0; i < p11.nslots; i++)
        p11.slots[i].present = 0;
    pico_err_mark();
    err = pico_device_foreach_listing(NULL, &p11.cfg, seen, NULL);
    pico_err_pop_to_mark();
    if (err != PICO_OK)
        pico_log("PKCS11", "slot listing: %s", pico_err_reason(err));
    for (i = 0; i < p11.nslots; i++)
        if (!p11.slots[i].present) {
            p11.slots[i].logged_in = 0; /* the device went: so did its login */
            p11.slots[i].probed = 0;    /* and what was known of it (another may come) */
        }
    return CKR_OK;
}

p11_slot *p11_slot_get(CK_SLOT_ID id)
{
    return id < p11.nslots ? &p11.slots[id] : NULL;
}

CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    CK_ULONG n = 0, i;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if (count == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    /* every call lists the readers again: devices come and go (hot plug); p11-kit asks
     * with a buffer at once, without a length query first */
    p11_slots_refresh();
    for (i = 0; i < p11.nslots; i++) {
        p11.slots[i].reported = p11.slots[i].present; /* the application sees them now */
        if (present && !p11.slots[i].present)
            continue;
        if (list != NULL && n < *count)
            list[n] = i;
        n++;
    }
    if (list != NULL && n > *count)
        rv = CKR_BUFFER_TOO_SMALL;
    *count = n;
end:
    p11_leave();
    return rv;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
    p11_slot *s;
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if ((s = p11_slot_get(id)) == NULL) {
        rv = CKR_SLOT_ID_INVALID;
        goto end;
    }
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    memset(info, 0, sizeof(*info));
    p11_pad(info->slotDescription, sizeof(info->slotDescription), s->reader);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "PC/SC");
    info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | (s->present ? CKF_TOKEN_PRESENT : 0);
end:
    p11_leave();
    return rv;
}

/* A slot whose device came or went since the application last heard of it (-1: none). */
static long slot_event(void)
{
    size_t i;

    p11_slots_refresh();
    for (i = 0; i < p11.nslots; i++)
        if (p11.slots[i].present != p11.slots[i].reported) {
            p11.slots[i].reported = p11.slots[i].present;
            return (long)i;
        }
    return -1;
}

/*
 * Hot plug without a PC/SC event API of common/: the readers are listed again every
 * 500 ms, outside the module lock. C_Finalize ends a wait (CKR_CRYPTOKI_NOT_INITIALIZED).
 */
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
    long ev;
    CK_RV rv;

    if (slot == NULL || reserved != NULL)
        return CKR_ARGUMENTS_BAD;
    for (;;) {
        if ((rv = p11_enter()) != CKR_OK)
            return rv;
        ev = slot_event();
        p11_leave();
        if (ev >= 0) {
            *slot = (CK_SLOT_ID)ev;
            return CKR_OK;
        }
        if (flags & CKF_DONT_BLOCK)
            return CKR_NO_EVENT;
        usleep(500 * 1000);
    }
}
