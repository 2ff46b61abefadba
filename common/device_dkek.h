/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DKEK shares and key domains on a device (sc-hsm-protocol.md 8.1), for
 * pico-hsm-tool: each operation is one PC/SC transaction on the shared device
 * object. The firmware traps the host here (field-notes.md): the check value
 * reads as zeros without a PIN session, and a share imported without one is
 * sealed only at the next VERIFY (a power loss before it corrupts the DKEK).
 * So the import and every domain change first ask the card (VERIFY without
 * data, no try spent) whether this session has the user PIN, log in again
 * with held factors when the card lost it, and refuse otherwise: log in with
 * pico_device_login first.
 */
#ifndef PICO_DEVICE_DKEK_H
#define PICO_DEVICE_DKEK_H

#include <stdint.h>

#include "device.h"
#include "schsm.h"

/* A domain's DKEK state; pin_session: the KCV is the real one (a PIN session exists). */
typedef struct pico_dkek_state {
    int set_up; /* 0: the domain is not set up (6A88) */
    int pin_session;
    pico_dkek_info info;
} pico_dkek_state;

/* Status of a domain (no PIN needed; the KCV only with this process's PIN session). */
pico_err pico_device_dkek_status(pico_device *dev, uint8_t domain, pico_dkek_state *st);
/* Imports one share into domain, inside the PIN session (see above); the new state back. */
pico_err pico_device_dkek_import(pico_device *dev, uint8_t domain, const uint8_t share[32],
                                 pico_dkek_state *st);
/* Key domains (user PIN session needed): create with n shares (0: a domain without a DKEK),
 * delete (refused while keys use it), forget the DKEK (its shares are to import again). */
pico_err pico_device_domain_create(pico_device *dev, uint8_t domain, uint8_t shares,
                                   pico_dkek_state *st);
pico_err pico_device_domain_delete(pico_device *dev, uint8_t domain);
pico_err pico_device_domain_forget(pico_device *dev, uint8_t domain, pico_dkek_state *st);

#endif
