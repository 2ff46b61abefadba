/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport below the command layer: one raw APDU exchange, and the
 * PC/SC transaction around a sequence of them. PC/SC is the real one
 * (pcsc.c); unit tests plug in a scripted one.
 */
#ifndef PICO_TRANSPORT_H
#define PICO_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct pico_transport pico_transport;

typedef struct pico_transport_ops {
    /*
     * Sends cmd and receives the answer with its status word into resp
     * (*resp_len in: capacity, out: length). PICO_E_RESET when the card was
     * reset (the security state is gone: the caller re-selects and logs in
     * again), PICO_E_REMOVED when it is gone; both leave the transport ready
     * to reconnect at the next call. PICO_E_RESET too, cmd not sent, when the
     * transport had to connect again (pcscd restarted, the card came back):
     * a new connection is a new card session, with nothing selected.
     */
    pico_err (*transmit)(pico_transport *t, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                         size_t *resp_len);
    /* Exclusive access for a sequence of APDUs. PICO_E_RESET, not raised (a
     * notice: the access is taken), when the card was reset since the last
     * exchange or the connection is new: the caller selects again. */
    pico_err (*begin)(pico_transport *t);
    pico_err (*end)(pico_transport *t);
    /* A connection of this process's own to the same card session (after fork). */
    pico_err (*reconnect)(pico_transport *t);
    void (*free)(pico_transport *t);
} pico_transport_ops;

struct pico_transport {
    const pico_transport_ops *ops;
    char *name; /* reader name, for messages */
};

/*
 * PC/SC: lists the readers (a malloc'ed array of malloc'ed names). No reader
 * with pcscd running is an empty list; PICO_E_NO_READER when the PC/SC
 * service cannot be reached (SCARD_E_NO_SERVICE: pcscd not running).
 */
pico_err pico_pcsc_list_readers(char ***names, size_t *count);
void pico_pcsc_free_readers(char **names, size_t count);

/* PC/SC: connects to the card in the reader with exactly this name. */
pico_err pico_pcsc_open(const char *reader, pico_transport **out);

/* Each reader's card events without connecting (one pcscd call): pcscd's event counter
 * of the reader (card inserted or removed) << 1, bit 0 a card present. A value that
 * changed is another card, or none. */
pico_err pico_pcsc_reader_events(char *const *names, size_t n, unsigned long *events);

#endif
