/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual device's APDU handler (sim/card.c, sim_card_process) over
 * sequences of command frames, each on a fresh in-memory state. The input is
 *
 *   <start> then <length, 2 bytes BE> <frame> ...
 *
 * start & 3 picks the state: blank, initialized (PIN 648219, an EC P-256
 * key 1 and an RSA-1024 key 2), the same with the applet selected, or with
 * the PIN verified too; start & 4 models a firmware built with EdDSA (pico-hsm-sim
 * --eddsa). Length FFFF is a card reset. Beyond the sanitizers:
 * every answer has a status word and at most Ne data bytes.
 *
 * RSA key generation is left out (a GENERATE whose OID selects RSA, and any
 * chained GENERATE): 4096-bit keys take seconds, which would make the
 * fuzzer measure OpenSSL instead of the card.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "card.h"
#include "crypto_int.h"
#include "state.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static sim_state initialized;

static const uint8_t select_aid[] = {0x00, 0xA4, 0x04, 0x00, 0x0B, 0xE8, 0x2B, 0x06, 0x01,
                                     0x04, 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01, 0x00};
static const uint8_t verify_pin[] = {0x00, 0x20, 0x00, 0x81, 0x06, '6', '4', '8', '2', '1', '9'};
/* 3.1: options 0001, PIN 648219, SO-PIN 3537363231373439, 3 retries */
static const uint8_t initialize[] = {0x80, 0x50, 0x00, 0x00, 0x19, 0x80, 0x02, 0x00, 0x01, 0x81,
                                     0x06, '6',  '4',  '8',  '2',  '1',  '9',  0x82, 0x08, '5',
                                     '7',  '6',  '2',  '1',  '7',  '4',  '9',  0x91, 0x01, 0x03};
/* 6.2: key 1 on P-256 (the prime alone picks the curve), key 2 RSA-1024 */
static const uint8_t gakp_ec[] = {
    0x00, 0x46, 0x01, 0x00, 0x00, 0x00, 0x35, 0x5F, 0x29, 0x01, 0x00, 0x7F, 0x49, 0x2E, 0x06, 0x0A,
    0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03, 0x81, 0x20, 0xFF, 0xFF, 0xFF, 0xFF,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00};
static const uint8_t gakp_rsa[] = {0x00, 0x46, 0x02, 0x00, 0x00, 0x00, 0x1C, 0x5F, 0x29, 0x01,
                                   0x00, 0x7F, 0x49, 0x15, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00,
                                   0x07, 0x02, 0x02, 0x02, 0x01, 0x02, 0x82, 0x03, 0x01, 0x00,
                                   0x01, 0x02, 0x02, 0x04, 0x00, 0x00, 0x00};

static void send_ok(sim_card *c, const uint8_t *frame, size_t len)
{
    sim_bytes r = {0};

    if (sim_card_process(c, frame, len, &r) != 0 || r.len < 2 || r.data[r.len - 2] != 0x90)
        abort(); /* the set-up itself must work */
    sim_bytes_free(&r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sim_card *c;

    sim_state_init(&initialized);
    if ((c = sim_card_new(&initialized, NULL)) == NULL)
        abort();
    send_ok(c, select_aid, sizeof(select_aid));
    send_ok(c, initialize, sizeof(initialize));
    send_ok(c, select_aid, sizeof(select_aid));
    send_ok(c, verify_pin, sizeof(verify_pin));
    send_ok(c, gakp_ec, sizeof(gakp_ec));
    send_ok(c, gakp_rsa, sizeof(gakp_rsa));
    sim_card_free(c);
    return 0;
}

static void copy_state(sim_state *dst, const sim_state *src)
{
    size_t i;

    sim_state_init(dst);
    for (i = 0; i < src->nfiles; i++)
        if (sim_state_put(dst, src->files[i].fid, src->files[i].data.data,
                          src->files[i].data.len) != 0)
            abort();
}

/* A GENERATE that would make an RSA key: the OID tests of sim_key_generate. */
static int rsa_keygen(const sim_apdu *a)
{
    const uint8_t *tmpl, *oid;
    size_t tmpl_len, oid_len;

    if (a->ins != 0x46)
        return 0;
    if (a->cla & 0x10)
        return 1;
    if (sim_tlv_find(a->data, a->nc, 0x7F49, &tmpl, &tmpl_len) != 1 ||
        sim_tlv_find(tmpl, tmpl_len, 0x06, &oid, &oid_len) != 1 || oid_len == 0)
        return 0;
    return oid_len <= SIM_OID_TA_LEN && memcmp(oid, sim_oid_ta_rsa_v15_sha256, oid_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sim_state st;
    sim_card *c;
    sim_bytes r = {0};
    int start;

    if (size < 1)
        return 0;
    start = data[0] & 3;
    sim_set_eddsa((data[0] & 4) != 0);
    data++;
    size--;
    if (start == 0)
        sim_state_init(&st);
    else
        copy_state(&st, &initialized);
    if ((c = sim_card_new(&st, NULL)) == NULL)
        abort();
    if (start >= 2)
        send_ok(c, select_aid, sizeof(select_aid));
    if (start == 3)
        send_ok(c, verify_pin, sizeof(verify_pin));
    while (size >= 2) {
        size_t len = (size_t)data[0] << 8 | data[1];
        sim_apdu a;

        data += 2;
        size -= 2;
        if (len == 0xFFFF) {
            sim_card_reset(c);
            continue;
        }
        if (len > size)
            len = size;
        if (sim_apdu_parse(data, len, &a) == 0 && !rsa_keygen(&a)) {
            if (sim_card_process(c, data, len, &r) != 0)
                abort(); /* a frame that parses gets an answer */
            if (r.len < 2 || r.len - 2 > a.ne)
                abort();
            /* the last part of a chain hides the whole chained data: never negative */
            if (sim_card_last_secret(c) < 0 || sim_card_last_secret(c) > 2038)
                abort();
        } else if (sim_apdu_parse(data, len, &a) != 0 && sim_card_process(c, data, len, &r) != -1) {
            abort(); /* and one that does not, none (1.4) */
        }
        data += len;
        size -= len;
    }
    sim_bytes_free(&r);
    sim_card_free(c);
    sim_state_free(&st);
    return 0;
}
