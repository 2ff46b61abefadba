/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The card side of the virtual Pico HSM: one object per device, fed with
 * command APDU frames, answering response APDUs (data || SW1 SW2) the way the
 * Pico HSM firmware does (sc-hsm-protocol.md). Persistent data lives in a
 * sim_state; the security state (PIN sessions, PKA round, pending response)
 * lives in the card object and ends with a SELECT or a reset, as on the
 * device.
 */
#ifndef SIM_CARD_H
#define SIM_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "util.h"

typedef struct sim_card sim_card;

/*
 * A card working on st (which it does not own). dev_name is the name the card
 * puts into its self-issued device certificate at INITIALIZE (NULL: the
 * firmware's ESPICOHSMTR00001). A new state gets its chip serial here.
 */
sim_card *sim_card_new(sim_state *st, const char *dev_name);
void sim_card_free(sim_card *c);

/* The ATR of the Pico HSM (the first SC-HSM ATR of OpenSC's table). */
const uint8_t *sim_card_atr(size_t *len);

/* Power on or reset: no applet selected, the security state cleared. */
void sim_card_reset(sim_card *c);

/*
 * Processes one command frame. Returns 0 with the answer in *resp (replaced),
 * or -1 when the frame is malformed and the card stays silent (1.4).
 */
int sim_card_process(sim_card *c, const uint8_t *frame, size_t len, sim_bytes *resp);

/*
 * How many leading bytes of the last command's data are secret (PINs,
 * SO-PINs, DKEK shares) and must not be logged: 0 for most commands. Decided
 * by the instruction, whatever the command's outcome.
 */
int sim_card_last_secret(const sim_card *c);

/*
 * 1 when the last answer's data (all but its status word) is secret and must
 * not be logged: a DECIPHER plaintext or ECDH shared secret, also when it
 * comes in pieces through GET RESPONSE.
 */
int sim_card_answer_secret(const sim_card *c);

#endif
