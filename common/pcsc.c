/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PC/SC transport (pcsc-lite). One context and one card handle per
 * transport; the device layer above serialises use with its own lock.
 */
#include <PCSC/winscard.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "transport.h"

typedef struct pcsc_transport {
    pico_transport base;
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD protocol;
    int have_ctx, have_card;
    /* A connection after the first one is a new card session: pcscd powers the card up
     * again when it restarts, a reset or a new card dropped the old handle. Nothing is
     * selected there: the first begin or transmit on it says PICO_E_RESET. */
    int opened, fresh;
    pid_t pid; /* the process that owns ctx: a forked child must not use it */
} pcsc_transport;

static pico_err map_rc(LONG rc, const char *what, const char *reader)
{
    switch (rc) {
    case SCARD_S_SUCCESS:
        return PICO_OK;
    case SCARD_W_RESET_CARD:
        return pico_err_raise(PICO_E_RESET, "reader '%s'", reader);
    case SCARD_W_REMOVED_CARD:
    case SCARD_E_NO_SMARTCARD:
    case SCARD_E_READER_UNAVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNRESPONSIVE_CARD:
        return pico_err_raise(PICO_E_REMOVED, "reader '%s': %s: %s", reader, what,
                              pcsc_stringify_error(rc));
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_E_NO_READERS_AVAILABLE:
        return pico_err_raise(PICO_E_NO_READER, "%s: %s", what, pcsc_stringify_error(rc));
    case SCARD_E_TIMEOUT:
        return pico_err_raise(PICO_E_TIMEOUT, "reader '%s': %s", reader, what);
    case SCARD_E_NO_MEMORY:
        return pico_err_raise(PICO_E_NOMEM, "%s", what);
    default:
        return pico_err_raise(PICO_E_COMM, "reader '%s': %s: %s", reader, what,
                              pcsc_stringify_error(rc));
    }
}

/* After fork the inherited context belongs to the parent's socket: forget it unused. */
static void forget_if_forked(pcsc_transport *t)
{
    if (t->pid != getpid()) {
        t->have_ctx = t->have_card = 0;
        t->pid = getpid();
    }
}

static pico_err pcsc_connect(pcsc_transport *t)
{
    LONG rc;

    forget_if_forked(t);
    if (!t->have_ctx) {
        rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &t->ctx);
        if (rc != SCARD_S_SUCCESS)
            return map_rc(rc, "establish context", t->base.name);
        t->have_ctx = 1;
    }
    if (!t->have_card) {
        rc = SCardConnect(t->ctx, t->base.name, SCARD_SHARE_SHARED,
                          SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &t->card, &t->protocol);
        if (rc == SCARD_E_NO_SERVICE || rc == SCARD_E_INVALID_HANDLE) {
            /* pcscd restarted under us: a new context, then once more */
            SCardReleaseContext(t->ctx);
            t->have_ctx = 0;
            rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &t->ctx);
            if (rc != SCARD_S_SUCCESS)
                return map_rc(rc, "establish context", t->base.name);
            t->have_ctx = 1;
            rc = SCardConnect(t->ctx, t->base.name, SCARD_SHARE_SHARED,
                              SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &t->card, &t->protocol);
        }
        if (rc != SCARD_S_SUCCESS)
            return map_rc(rc, "connect", t->base.name);
        t->have_card = 1;
        t->fresh = t->opened;
        t->opened = 1;
        pico_log("PCSC", "connect reader='%s' protocol=T%d", t->base.name,
                 t->protocol == SCARD_PROTOCOL_T1 ? 1 : 0);
    }
    return PICO_OK;
}

/* The card answered "reset" or "removed": drop the handle so the next call reconnects. */
static void drop_card(pcsc_transport *t, LONG rc)
{
    if (!t->have_card)
        return;
    pico_log("PCSC", "drop reader='%s': %s", t->base.name, pcsc_stringify_error(rc));
    SCardDisconnect(t->card, SCARD_LEAVE_CARD);
    t->have_card = 0;
    if (rc == SCARD_E_NO_SERVICE || rc == SCARD_E_SERVICE_STOPPED) {
        SCardReleaseContext(t->ctx);
        t->have_ctx = 0;
    }
}

static pico_err pcsc_transmit(pico_transport *base, const uint8_t *cmd, size_t cmd_len,
                              uint8_t *resp, size_t *resp_len)
{
    pcsc_transport *t = (pcsc_transport *)base;
    const SCARD_IO_REQUEST *pci;
    DWORD rlen = (DWORD)*resp_len;
    pico_err err;
    LONG rc;

    if ((err = pcsc_connect(t)) != PICO_OK)
        return err;
    if (t->fresh) {
        /* not sent: on a new session nothing is selected, so a command for the
         * application would get 6D00, or a VERIFY reach whatever answers there */
        t->fresh = 0;
        return pico_err_raise(PICO_E_RESET, "reader '%s': new pc/sc connection", base->name);
    }
    pci = t->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
    rc = SCardTransmit(t->card, pci, cmd, (DWORD)cmd_len, NULL, resp, &rlen);
    if (rc != SCARD_S_SUCCESS) {
        drop_card(t, rc);
        return map_rc(rc, "transmit", base->name);
    }
    *resp_len = rlen;
    return PICO_OK;
}

static pico_err pcsc_begin(pico_transport *base)
{
    pcsc_transport *t = (pcsc_transport *)base;
    pico_err err;
    LONG rc;

    if ((err = pcsc_connect(t)) != PICO_OK)
        return err;
    rc = SCardBeginTransaction(t->card);
    if (rc == SCARD_E_NO_SERVICE || rc == SCARD_E_SERVICE_STOPPED || rc == SCARD_E_INVALID_HANDLE) {
        /* The handle of a pcscd that is gone (restarted since our last exchange): a new
         * context (its context is stale too, whatever rc said) and connection, once;
         * the caller hears of the new session below. */
        drop_card(t, SCARD_E_NO_SERVICE);
        if ((err = pcsc_connect(t)) != PICO_OK)
            return err;
        rc = SCardBeginTransaction(t->card);
    }
    if (rc == SCARD_S_SUCCESS && t->fresh) {
        t->fresh = 0;
        pico_log("PCSC", "reader '%s': new card session", base->name);
        return PICO_E_RESET; /* a notice with the access taken, not a failure: not raised */
    }
    if (rc == SCARD_W_RESET_CARD) {
        /* Someone reset the card since our last exchange: reconnect, then report it so
         * that the caller knows the login is gone. */
        DWORD proto;
        rc = SCardReconnect(t->card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0,
                            SCARD_LEAVE_CARD, &proto);
        if (rc == SCARD_S_SUCCESS) {
            t->protocol = proto;
            rc = SCardBeginTransaction(t->card);
            if (rc == SCARD_S_SUCCESS)
                return PICO_E_RESET; /* as for a new connection */
        }
    }
    if (rc != SCARD_S_SUCCESS) {
        drop_card(t, rc);
        return map_rc(rc, "begin transaction", base->name);
    }
    return PICO_OK;
}

static pico_err pcsc_end(pico_transport *base)
{
    pcsc_transport *t = (pcsc_transport *)base;
    LONG rc;

    forget_if_forked(t);
    if (!t->have_card)
        return PICO_OK;
    rc = SCardEndTransaction(t->card, SCARD_LEAVE_CARD);
    if (rc != SCARD_S_SUCCESS) {
        drop_card(t, rc);
        return map_rc(rc, "end transaction", base->name);
    }
    return PICO_OK;
}

/* After fork: the child's own connection to the card session the parent has (4.6). */
static pico_err pcsc_reconnect(pico_transport *base)
{
    pcsc_transport *t = (pcsc_transport *)base;
    pico_err err;

    forget_if_forked(t);
    if (t->have_card) {
        SCardDisconnect(t->card, SCARD_LEAVE_CARD);
        t->have_card = 0;
    }
    err = pcsc_connect(t);
    t->fresh = 0;
    return err;
}

static void pcsc_free(pico_transport *base)
{
    pcsc_transport *t = (pcsc_transport *)base;

    if (t == NULL)
        return;
    forget_if_forked(t);
    if (t->have_card)
        SCardDisconnect(t->card, SCARD_LEAVE_CARD);
    if (t->have_ctx)
        SCardReleaseContext(t->ctx);
    free(t->base.name);
    free(t);
}

static const pico_transport_ops pcsc_ops = {
    pcsc_transmit, pcsc_begin, pcsc_end, pcsc_reconnect, pcsc_free,
};

pico_err pico_pcsc_open(const char *reader, pico_transport **out)
{
    pcsc_transport *t = calloc(1, sizeof(*t));
    pico_err err;

    *out = NULL;
    if (t == NULL || (t->base.name = strdup(reader)) == NULL) {
        free(t);
        return pico_err_raise(PICO_E_NOMEM, "pcsc transport");
    }
    t->base.ops = &pcsc_ops;
    t->pid = getpid();
    if ((err = pcsc_connect(t)) != PICO_OK) {
        pcsc_free(&t->base);
        return err;
    }
    *out = &t->base;
    return PICO_OK;
}

/*
 * libpcsclite fills one reader table per process (readerStates in
 * winscard_clnt.c) at every SCardListReaders, guarded only by the lock of the
 * context it was called on: threads listing on their own contexts (keys loaded
 * at once) write it together. Listings go one at a time.
 */
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;

pico_err pico_pcsc_list_readers(char ***names, size_t *count)
{
    SCARDCONTEXT ctx;
    DWORD len = 0;
    char *buf = NULL, *p;
    char **list = NULL;
    size_t n = 0, i;
    pico_err err = PICO_OK;
    LONG rc;

    *names = NULL;
    *count = 0;
    rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
    if (rc != SCARD_S_SUCCESS)
        return map_rc(rc, "establish context", "");
    pthread_mutex_lock(&list_lock);
    rc = SCardListReaders(ctx, NULL, NULL, &len);
    if (rc == SCARD_E_NO_READERS_AVAILABLE) {
        /* pcscd runs, without readers: an empty list (callers say what it means for them) */
        list = calloc(1, sizeof(*list));
        if (list == NULL)
            err = pico_err_raise(PICO_E_NOMEM, "reader list");
        *names = list;
        goto end;
    }
    if (rc != SCARD_S_SUCCESS || (buf = malloc(len)) == NULL) {
        err = rc != SCARD_S_SUCCESS ? map_rc(rc, "list readers", "")
                                    : pico_err_raise(PICO_E_NOMEM, "reader list");
        goto end;
    }
    rc = SCardListReaders(ctx, NULL, buf, &len);
    if (rc == SCARD_E_NO_READERS_AVAILABLE) {
        /* the last reader went away between the two calls */
        if ((*names = calloc(1, sizeof(**names))) == NULL)
            err = pico_err_raise(PICO_E_NOMEM, "reader list");
        goto end;
    }
    if (rc != SCARD_S_SUCCESS) {
        err = map_rc(rc, "list readers", "");
        goto end;
    }
    for (p = buf; *p != '\0'; p += strlen(p) + 1)
        n++;
    list = calloc(n ? n : 1, sizeof(*list));
    if (list == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "reader list");
        goto end;
    }
    for (i = 0, p = buf; i < n; i++, p += strlen(p) + 1) {
        if ((list[i] = strdup(p)) == NULL) {
            pico_pcsc_free_readers(list, i);
            list = NULL;
            err = pico_err_raise(PICO_E_NOMEM, "reader list");
            goto end;
        }
    }
    *names = list;
    *count = n;
end:
    pthread_mutex_unlock(&list_lock);
    free(buf);
    SCardReleaseContext(ctx);
    return err;
}

pico_err pico_pcsc_reader_events(char *const *names, size_t n, unsigned long *events)
{
    SCARD_READERSTATE *st;
    SCARDCONTEXT ctx;
    pico_err err = PICO_OK;
    size_t i;
    LONG rc;

    if (n == 0)
        return PICO_OK;
    if ((st = calloc(n, sizeof(*st))) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "reader states");
    if ((rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) != SCARD_S_SUCCESS) {
        free(st);
        return map_rc(rc, "establish context", "");
    }
    for (i = 0; i < n; i++) {
        st[i].szReader = names[i];
        st[i].dwCurrentState = SCARD_STATE_UNAWARE;
    }
    /* the same per-process reader table as a listing (list_lock) */
    pthread_mutex_lock(&list_lock);
    rc = SCardGetStatusChange(ctx, 0, st, (DWORD)n);
    pthread_mutex_unlock(&list_lock);
    if (rc != SCARD_S_SUCCESS && rc != SCARD_E_TIMEOUT)
        err = map_rc(rc, "reader states", "");
    for (i = 0; i < n; i++)
        events[i] = err != PICO_OK ? 0
                                   : ((st[i].dwEventState >> 16) & 0xFFFF) << 1 |
                                         ((st[i].dwEventState & SCARD_STATE_PRESENT) != 0);
    SCardReleaseContext(ctx);
    free(st);
    return err;
}

void pico_pcsc_free_readers(char **names, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        free(names[i]);
    free(names);
}
