/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual Pico HSM: framing (extended length, command chaining, 61xx and
 * GET RESPONSE) and the dispatch of commands, the card state shared by every command.
 * Files are in card_files.c, INITIALIZE and key domains in card_init.c, keys in
 * card_keys.c, PINs and PKA in card_auth.c. Section numbers refer to sc-hsm-protocol.md.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"

static const uint8_t atr[] = {0x3B, 0xFE, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE,
                              0x45, 0x80, 0x31, 0x81, 0x54, 0x48, 0x53, 0x4D,
                              0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0xFA};

const uint8_t *sim_card_atr(size_t *len)
{
    *len = sizeof(atr);
    return atr;
}

/* ------------------------------------------------------------ state helpers */

void card_security_reset(sim_card *c)
{
    c->user_auth = 0;
    c->user_session = c->so_session = 0;
    OPENSSL_cleanse(c->user_tok, sizeof(c->user_tok));
    OPENSSL_cleanse(c->so_tok, sizeof(c->so_tok));
    c->pka_selected = -1;
    c->challenge_len = 0;
    memset(c->pka_round, 0, sizeof(c->pka_round));
    c->current_ef = 0;
    c->chaining = 0;
    sim_bytes_clear(&c->chain);
}

int card_initialized(sim_card *c)
{
    return sim_state_find(c->st, FID_USER_PIN) != NULL || sim_state_find(c->st, FID_SO_PIN) != NULL;
}

uint16_t card_options(sim_card *c)
{
    sim_file *f = sim_state_find(c->st, FID_OPTIONS);

    if (f == NULL || f->data.len < 2)
        return 0;
    return (uint16_t)(f->data.data[0] << 8 | f->data.data[1]);
}

int card_pka_configured(sim_card *c, uint8_t conf[3])
{
    sim_file *f = sim_state_find(c->st, FID_PKA_CONF);

    if (f == NULL || f->data.len != 3)
        return 0;
    if (conf != NULL)
        memcpy(conf, f->data.data, 3);
    return 1;
}

void card_dev_name(sim_card *c, const uint8_t **name, size_t *len)
{
    sim_file *f = sim_state_find(c->st, FID_DEVCERT);
    sim_cvc cvc;

    if (f != NULL && f->data.len > 0 && sim_cvc_parse(f->data.data, f->data.len, &cvc) == 0 &&
        cvc.chr != NULL && cvc.chr_len > 0) {
        *name = cvc.chr;
        *len = cvc.chr_len;
        return;
    }
    *name = (const uint8_t *)SIM_DEFAULT_DEV_NAME;
    *len = strlen(SIM_DEFAULT_DEV_NAME);
}

uint16_t card_mkek(sim_card *c, uint8_t mkek[32])
{
    sim_bytes out = {0};
    sim_file *f = NULL;
    const uint8_t *tok = NULL;
    uint16_t sw = SW_EXEC_ERROR;

    if (c->user_session) {
        f = sim_state_find(c->st, FID_MKEK_USER);
        tok = c->user_tok;
    }
    if ((f == NULL || f->data.len == 0) && c->so_session) {
        f = sim_state_find(c->st, FID_MKEK_SO);
        tok = c->so_tok;
    }
    if (f != NULL && f->data.len > 0 && sim_unseal(tok, f->data.data, f->data.len, &out) == 0 &&
        out.len == 32) {
        memcpy(mkek, out.data, 32);
        sw = SW_OK;
    }
    sim_bytes_free(&out);
    return sw;
}

int card_set_pin(sim_card *c, uint16_t rec_fid, const uint8_t *pin, size_t len, uint8_t retries,
                 const uint8_t mkek[32])
{
    uint8_t rec[PIN_REC_LEN], key[32];
    sim_bytes sealed = {0};
    uint8_t *tok = rec_fid == FID_USER_PIN ? c->user_tok : c->so_tok;
    int ret = -1;

    memset(rec, 0, sizeof(rec));
    rec[0] = (uint8_t)len;
    rec[1] = retries;
    rec[2] = retries;
    if (sim_random(rec + 3, 16) != 0)
        goto end;
    if (len > 0) {
        if (sim_pin_derive(pin, len, rec + 3, "verifier", rec + 19) != 0 ||
            sim_pin_derive(pin, len, rec + 3, "mkek", key) != 0)
            goto end;
        if (sim_seal(key, mkek, 32, &sealed) != 0)
            goto end;
        if (sim_state_put(c->st, rec_fid == FID_USER_PIN ? FID_MKEK_USER : FID_MKEK_SO, sealed.data,
                          sealed.len) != 0)
            goto end;
        memcpy(tok, key, 32);
        if (rec_fid == FID_USER_PIN)
            c->user_session = 1;
        else
            c->so_session = 1;
    }
    if (sim_state_put(c->st, rec_fid, rec, sizeof(rec)) != 0)
        goto end;
    ret = 0;
end:
    OPENSSL_cleanse(key, sizeof(key));
    sim_bytes_free(&sealed);
    return ret;
}

/* ---------------------------------------------------------------- dispatch */

static uint16_t dispatch(sim_card *c, const sim_apdu *a)
{
    if (a->ins == 0xA4)
        return cmd_select(c, a);
    if (!c->applet_selected)
        return SW_INS;
    switch (a->ins) {
    case 0x20:
        return cmd_verify(c, a);
    case 0x24:
        return cmd_change_pin(c, a);
    case 0x2C:
        return cmd_reset_retry(c, a);
    case 0x22:
        return cmd_mse(c, a);
    case 0x84:
        return cmd_challenge(c, a);
    case 0x82:
        return cmd_external_auth(c, a);
    case 0x46:
        return cmd_generate(c, a);
    case 0xB0:
    case 0xB1:
        return cmd_read_binary(c, a);
    case 0xD7:
        return cmd_update_binary(c, a);
    case 0xE4:
        return cmd_delete_file(c, a);
    case 0x50:
        return cmd_initialize(c, a);
    case 0x52:
        return cmd_key_domain(c, a);
    case 0x54:
        return cmd_manage_pka(c, a);
    case 0x58:
        return cmd_list_keys(c, a);
    case 0x62:
    case 0x68:
        return cmd_key_op(c, a);
    case 0x64:
        return cmd_extras(c, a);
    case 0x72:
        return cmd_wrap(c, a);
    case 0x74:
        return cmd_unwrap(c, a);
    default:
        return SW_INS;
    }
}

static void answer(sim_bytes *resp, const uint8_t *data, size_t len, uint16_t sw)
{
    sim_bytes_clear(resp);
    sim_bytes_append(resp, data, len);
    sim_bytes_append_byte(resp, (uint8_t)(sw >> 8));
    sim_bytes_append_byte(resp, (uint8_t)sw);
}

/* Sends up to ne bytes of the pending answer; 61xx while more is left (1.6). */
static void send_pending(sim_card *c, size_t ne, sim_bytes *resp)
{
    size_t left = c->pending.len - c->pending_off, n = left < ne ? left : ne;
    const uint8_t *p = c->pending.data + c->pending_off;

    c->pending_off += n;
    left -= n;
    if (left == 0) {
        answer(resp, p, n, c->pending_sw);
        sim_bytes_clear(&c->pending);
        c->pending_off = 0;
    } else {
        answer(resp, p, n, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
    }
}

/*
 * What of a command frame and its answer the log must not show, decided from
 * the instruction alone before the command runs: a command refused early
 * (wrong P1/P2, class, option, length, state) carried its PIN all the same,
 * and a DECIPHER answer is a plaintext or an ECDH shared secret.
 */
static int secret_data(const sim_apdu *a)
{
    switch (a->ins) {
    case 0x20: /* VERIFY: PIN or SO-PIN */
    case 0x24: /* CHANGE REFERENCE DATA: old || new */
    case 0x2C: /* RESET RETRY COUNTER: SO-PIN || new PIN */
    case 0x50: /* INITIALIZE: PIN and SO-PIN TLVs */
    case 0x52: /* KEY DOMAIN: a DKEK share (P1=01 carries a count: hidden as well) */
        return (int)a->nc;
    default:
        return 0;
    }
}

/* Command chaining (1.5): a link is kept (1, answered), a last link joins them into full
 * (0), a chain that breaks is refused (1, answered). */
static int chain(sim_card *c, const sim_apdu *a, sim_apdu *full, sim_bytes *resp)
{
    if (a->ins == 0xA4 && a->p1 == 0x04) {
        c->chaining = 0;
        sim_bytes_clear(&c->chain);
    }
    *full = *a;
    if (a->cla & 0x10) {
        uint8_t hdr[4] = {a->cla & (uint8_t)~0x10, a->ins, a->p1, a->p2};
        if (c->chaining && memcmp(hdr, c->chain_hdr, 4) != 0) {
            c->chaining = 0;
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_CHAIN_MISMATCH);
            return 1;
        }
        if (c->chain.len + a->nc >= MAX_CHAIN) {
            c->chaining = 0;
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_WRONG_LENGTH);
            return 1;
        }
        memcpy(c->chain_hdr, hdr, 4);
        c->chaining = 1;
        sim_bytes_append(&c->chain, a->data, a->nc);
        answer(resp, NULL, 0, SW_OK);
        return 1;
    }
    if (c->chaining) {
        uint8_t hdr[4] = {a->cla, a->ins, a->p1, a->p2};
        c->chaining = 0;
        if (memcmp(hdr, c->chain_hdr, 4) != 0) {
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_CHAIN_MISMATCH);
            return 1;
        }
        if (c->chain.len + a->nc >= MAX_CHAIN) {
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_WRONG_LENGTH);
            return 1;
        }
        sim_bytes_append(&c->chain, a->data, a->nc);
        full->data = c->chain.data;
        full->nc = c->chain.len;
    }
    return 0;
}

/* The answer of a command (in c->resp) with its status word, or its start and 61xx. */
static void respond(sim_card *c, const sim_apdu *a, uint16_t sw, sim_bytes *resp)
{
    if (sw != SW_OK && sw != SW_PKA_AUTHENTICATED)
        sim_bytes_clear(&c->resp);
    if (c->resp.len > a->ne) {
        /* More than the host asked for (or a case 3 command): 61xx (1.4, 1.6). */
        sim_bytes_set(&c->pending, c->resp.data, c->resp.len);
        c->pending_off = 0;
        c->pending_sw = sw;
        c->pending_secret = c->answer_secret;
        if (a->ne == 0) {
            size_t left = c->pending.len;
            answer(resp, NULL, 0, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
        } else {
            send_pending(c, a->ne, resp);
        }
    } else {
        answer(resp, c->resp.data, c->resp.len, sw);
    }
    sim_bytes_clear(&c->resp);
}

int sim_card_process(sim_card *c, const uint8_t *frame, size_t len, sim_bytes *resp)
{
    sim_apdu a, full;

    if (sim_apdu_parse(frame, len, &a) != 0)
        return -1;
    c->last_secret = secret_data(&a);
    c->answer_secret = a.ins == 0x62;
    if ((a.cla & 0x0C) && !(a.cla & 0x10)) {
        answer(resp, NULL, 0, SW_CLA);
        return 0;
    }
    if (a.ins == 0xC0) {
        /* the rest of a pending answer is as secret as its start */
        c->answer_secret = c->pending_secret;
        if (c->pending.len > c->pending_off)
            send_pending(c, a.ne, resp);
        else
            answer(resp, NULL, 0, SW_INS);
        return 0;
    }
    sim_bytes_clear(&c->pending);
    c->pending_off = 0;
    if (chain(c, &a, &full, resp))
        return 0;
    sim_bytes_clear(&c->resp);
    respond(c, &a, dispatch(c, &full), resp);
    sim_bytes_clear(&c->chain);
    return 0;
}

int sim_card_last_secret(const sim_card *c)
{
    return c->last_secret;
}

int sim_card_answer_secret(const sim_card *c)
{
    return c->answer_secret;
}

void sim_card_reset(sim_card *c)
{
    card_security_reset(c);
    c->applet_selected = 0;
    sim_bytes_clear(&c->pending);
    c->pending_off = 0;
}

sim_card *sim_card_new(sim_state *st, const char *dev_name)
{
    sim_card *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->st = st;
    if (dev_name != NULL)
        snprintf(c->dev_name_cfg, sizeof(c->dev_name_cfg), "%s", dev_name);
    c->pka_selected = -1;
    if (sim_state_find(st, FID_SERIAL) == NULL) {
        uint8_t sn[8];
        if (sim_random(sn, sizeof(sn)) != 0 || sim_state_put(st, FID_SERIAL, sn, sizeof(sn)) != 0) {
            free(c);
            return NULL;
        }
    }
    return c;
}

void sim_card_free(sim_card *c)
{
    if (c == NULL)
        return;
    card_security_reset(c);
    sim_bytes_free(&c->pending);
    sim_bytes_free(&c->chain);
    sim_bytes_free(&c->resp);
    free(c);
}
