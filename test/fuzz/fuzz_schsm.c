/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every command of common/schsm.c against a card whose answers are the
 * fuzzer's bytes. The input is a sequence of
 *
 *   <command byte> <argument byte> <answer record>...
 *
 * where the command consumes as many answer records as it sends APDUs, each
 *
 *   <repeat> <length, 2 bytes BE> <answer bytes (data || SW1 SW2)>
 *
 * given repeat + 1 times (repeat FF: 1000 times, so that one record is an
 * endless 61xx chain). Length FFFF is a transport error instead (reset,
 * removal or failure, by repeat & 3). When the input ends the transport
 * fails. Beyond the sanitizers: no command sends more APDUs than the chain
 * bound allows, and lengths handed back stay within the caller's buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_transport {
    pico_transport base;
    const uint8_t *p;
    size_t left;
    const uint8_t *answer; /* the record being repeated */
    size_t answer_len;
    unsigned repeats;
} fuzz_transport;

static pico_err ft_transmit(pico_transport *base, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                            size_t *resp_len)
{
    static const pico_err errs[] = {PICO_E_RESET, PICO_E_REMOVED, PICO_E_COMM, PICO_E_TIMEOUT};
    fuzz_transport *t = (fuzz_transport *)base;
    size_t len;
    uint8_t r;

    if (cmd_len < 4 || cmd_len > PICO_APDU_MAX_CMD)
        abort(); /* the command layer never sends a frame without a header */
    if (t->repeats == 0) {
        if (t->left < 3)
            return PICO_E_COMM;
        r = t->p[0];
        len = (size_t)t->p[1] << 8 | t->p[2];
        t->p += 3;
        t->left -= 3;
        if (len == 0xFFFF)
            return errs[r & 3];
        if (len > t->left)
            len = t->left;
        t->answer = t->p;
        t->answer_len = len;
        t->p += len;
        t->left -= len;
        t->repeats = r == 0xFF ? 1000 : (unsigned)r + 1;
    }
    t->repeats--;
    if (t->answer_len > *resp_len)
        abort(); /* the card buffer holds any answer of 64 KB + SW */
    memcpy(resp, t->answer, t->answer_len);
    *resp_len = t->answer_len;
    return PICO_OK;
}

static pico_err ft_nop(pico_transport *base)
{
    return PICO_OK;
}

static void ft_free(pico_transport *base)
{
}

static const pico_transport_ops ft_ops = {ft_transmit, ft_nop, ft_nop, ft_nop, ft_free};

static const uint8_t pin[] = "648219", so[8] = "57621749", req[] = {0x5F, 0x29, 0x00};

/* A buffer of exactly n bytes on the heap, so that ASan sees one byte too far. */
static uint8_t *exact(size_t n)
{
    uint8_t *b = malloc(n > 0 ? n : 1);

    if (b == NULL)
        abort();
    return b;
}

static size_t out_cap(uint8_t arg)
{
    static const size_t caps[] = {0, 1, 2, 4, 64, 72, 132, 256, 257, 512, 4096, 65536};
    return caps[arg % (sizeof(caps) / sizeof(caps[0]))];
}

/* Runs one command; returns the most APDUs it may send. */
static unsigned long run(pico_card *c, uint8_t cmd, uint8_t arg)
{
    unsigned long chain = PICO_CHAIN_MAX_APDUS;
    uint8_t status[4], *buf = NULL, *data = NULL;
    size_t len = 0, cap;
    int tries, done, auth;
    pico_select_info info;
    pico_pin_state st;

    switch (cmd % 23) {
    case 0:
        pico_schsm_select(c, &info);
        break;
    case 1:
        pico_schsm_pin_status(c, arg & 1 ? PICO_PIN_SO : PICO_PIN_USER, &st, &tries);
        break;
    case 2:
        pico_schsm_verify(c, PICO_PIN_USER, pin, 6, &tries);
        break;
    case 3:
        pico_schsm_change_pin(c, PICO_PIN_USER, pin, 6, pin, 6, &tries);
        break;
    case 4:
        pico_schsm_unblock_pin(c, so, 8, pin, 6, &tries);
        break;
    case 5:
        pico_schsm_reset_retry_counter(c, so, 8, &tries);
        break;
    case 6: {
        size_t n = (size_t)arg % 40 + 1;
        uint16_t *fids = malloc(n * sizeof(*fids));
        if (fids == NULL)
            abort();
        if (pico_schsm_list(c, fids, &n) == PICO_OK && n > (size_t)arg % 40 + 1)
            abort();
        free(fids);
        break;
    }
    case 7:
        /* in pieces of 2028 bytes up to 64 KB, each piece a chain of its own */
        chain = (0x10000 / 2028 + 2) * (unsigned long)PICO_CHAIN_MAX_APDUS;
        if (pico_schsm_read_file(c, arg & 1 ? 0x2F02 : (uint16_t)(0xCE00 | arg), &data, &len) ==
                PICO_OK &&
            len > 0x10000 + 2028)
            abort();
        break;
    case 8:
        cap = (size_t)arg * 12;
        buf = exact(cap);
        memset(buf, 0xA5, cap);
        chain = (cap / 1024 + 1) * (unsigned long)PICO_CHAIN_MAX_APDUS;
        pico_schsm_update_file(c, 0xC401, buf, cap);
        break;
    case 9:
        pico_schsm_delete_file(c, (uint16_t)(0xCC00 | arg));
        break;
    case 10:
        chain = 3 * (unsigned long)PICO_CHAIN_MAX_APDUS;
        pico_schsm_delete_key(c, arg, &done);
        break;
    case 11:
        if (pico_schsm_generate(c, arg, req, sizeof(req), &data, &len) == PICO_OK &&
            (data == NULL || len == 0 || len > 4096))
            abort();
        break;
    case 12:
    case 13:
        cap = len = out_cap(arg);
        buf = exact(cap);
        if ((cmd % 23 == 12 ? pico_schsm_sign(c, 1, PICO_ALG_ECDSA, req, sizeof(req), buf, &len)
                            : pico_schsm_decipher(c, 1, PICO_ALG_ECDH, req, sizeof(req), buf,
                                                  &len)) == PICO_OK &&
            len > cap)
            abort();
        break;
    case 14:
        pico_schsm_pka_status(c, status);
        break;
    case 15:
        pico_schsm_pka_register(c, req, sizeof(req), status);
        break;
    case 16:
        pico_schsm_pka_replace(c, arg, req, sizeof(req), status);
        break;
    case 17: {
        size_t n = (size_t)arg % 80 + 1;
        char *chr = (char *)exact(n);
        if (pico_schsm_pka_query(c, arg, chr, n, &auth) == PICO_OK && strnlen(chr, n) == n)
            abort();
        free(chr);
        break;
    }
    case 18:
        cap = (size_t)arg % 70;
        buf = exact(cap);
        memset(buf, 'C', cap);
        pico_schsm_mse_set_pka(c, buf, cap, &done);
        break;
    case 19:
        cap = (size_t)arg + 1;
        buf = exact(cap);
        pico_schsm_get_challenge(c, buf, cap);
        break;
    case 20:
        cap = (size_t)arg * 2;
        buf = exact(cap);
        memset(buf, 0x3C, cap);
        pico_schsm_external_authenticate(c, buf, cap);
        break;
    case 21: {
        pico_init_spec spec = {0};
        spec.options = arg;
        spec.pin = arg & 1 ? NULL : "648219";
        spec.so_pin = so;
        spec.retries = arg % 16;
        spec.dkek_shares = arg & 2 ? -1 : arg % 5;
        spec.pka_total = arg & 1 ? 2 : 0;
        spec.pka_required = arg & 1 ? 1 : 0;
        pico_schsm_initialize(c, &spec);
        break;
    }
    default: {
        pico_apdu a = {0x80, 0x58, 0x00, 0x00, NULL, 0, out_cap(arg), arg & 1};
        uint16_t sw;
        cap = len = out_cap(arg);
        buf = exact(cap);
        if (pico_schsm_xfer(c, "XFER", &a, 0, buf, &len, &sw) == PICO_OK && len > cap)
            abort();
        break;
    }
    }
    free(buf);
    free(data);
    return chain;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pico_card card; /* 64 KB of answer buffer: not on the stack */
    fuzz_transport t;

    memset(&t, 0, sizeof(t));
    t.base.ops = &ft_ops;
    t.base.name = "fuzz";
    t.p = data;
    t.left = size;
    memset(&card, 0, sizeof(card));
    card.t = &t.base;
    while (t.left >= 2) {
        uint8_t cmd = t.p[0], arg = t.p[1];
        unsigned long before = card.apdus, most;

        t.p += 2;
        t.left -= 2;
        t.repeats = 0; /* a new command starts with a new record */
        most = run(&card, cmd, arg);
        if (card.apdus - before > most)
            abort(); /* a chain that did not end at its bound */
    }
    return 0;
}
