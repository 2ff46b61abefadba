/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PINs and Public Key Authentication of the virtual Pico HSM:
 * VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (sc-hsm-protocol.md 4),
 * MANAGE PKA, MSE SET AT, GET CHALLENGE, EXTERNAL AUTHENTICATE (5).
 */
#include <openssl/crypto.h>
#include <string.h>

#include "card_int.h"

/* ------------------------------------------------------------------ PINs */

static uint8_t *pin_record(sim_card *c, uint16_t fid)
{
    sim_file *f = sim_state_find(c->st, fid);

    return f != NULL && f->data.len == PIN_REC_LEN ? f->data.data : NULL;
}

static uint16_t tries_sw(const uint8_t *rec)
{
    return rec[2] == 0 ? SW_PIN_BLOCKED : (uint16_t)(0x63C0 | (rec[2] & 0x0F));
}

/*
 * Checks a PIN against its record, spending a try when it is wrong (the try
 * that exhausts the counter answers 6983, never 63C0). On success the counter
 * is reset and tok receives the key that opens this PIN's MKEK copy.
 */
static uint16_t check_pin(sim_card *c, uint16_t fid, const uint8_t *pin, size_t len,
                          uint8_t tok[32])
{
    uint8_t *rec = pin_record(c, fid), ver[32];
    int ok;

    if (rec == NULL)
        return SW_REF_NOT_FOUND;
    if (rec[2] == 0)
        return SW_PIN_BLOCKED;
    ok = rec[0] != 0 && len == rec[0] && sim_pin_derive(pin, len, rec + 3, "verifier", ver) == 0 &&
         CRYPTO_memcmp(ver, rec + 19, 32) == 0;
    OPENSSL_cleanse(ver, sizeof(ver));
    c->st->dirty = 1;
    if (!ok) {
        rec[2]--;
        return tries_sw(rec);
    }
    rec[2] = rec[1];
    if (sim_pin_derive(pin, len, rec + 3, "mkek", tok) != 0)
        return SW_EXEC_ERROR;
    return SW_OK;
}

/* The MKEK through one PIN's copy, with that PIN's derived key. */
static uint16_t mkek_by(sim_card *c, uint16_t pin_fid, const uint8_t tok[32], uint8_t mkek[32])
{
    sim_file *f = sim_state_find(c->st, pin_fid == FID_USER_PIN ? FID_MKEK_USER : FID_MKEK_SO);
    sim_bytes out = {0};
    uint16_t sw = SW_EXEC_ERROR;

    if (f != NULL && sim_unseal(tok, f->data.data, f->data.len, &out) == 0 && out.len == 32) {
        memcpy(mkek, out.data, 32);
        sw = SW_OK;
    }
    sim_bytes_free(&out);
    return sw;
}

static void open_session(sim_card *c, uint16_t fid, const uint8_t tok[32])
{
    uint8_t *dst = fid == FID_USER_PIN ? c->user_tok : c->so_tok;

    if (dst != tok)
        memcpy(dst, tok, 32);
    if (fid == FID_USER_PIN)
        c->user_session = 1;
    else
        c->so_session = 1;
    /* Without PKA a PIN (user or SO) also authenticates the user (4.1). */
    if (!card_pka_configured(c, NULL))
        c->user_auth = 1;
    card_flush_pending_dkek(c);
}

uint16_t cmd_verify(sim_card *c, const sim_apdu *a)
{
    uint16_t fid;
    uint8_t *rec, tok[32];
    uint16_t sw;

    if (a->p1 != 0x00 || (a->p2 & 0x60))
        return SW_WRONG_P1P2_ISO;
    if (a->p2 == 0x81)
        fid = FID_USER_PIN;
    else if (a->p2 == 0x88)
        fid = FID_SO_PIN;
    else
        return SW_REF_NOT_FOUND;
    rec = pin_record(c, fid);
    if (rec == NULL)
        return SW_REF_NOT_FOUND;
    if (fid == FID_USER_PIN && (card_options(c) & OPT_TRANSPORT_PIN))
        return SW_DATA_INVALID;
    if (a->nc == 0) { /* status: spends no try (2.1) */
        if (fid == FID_USER_PIN ? c->user_session : c->so_session)
            return SW_OK;
        return tries_sw(rec);
    }
    /* Any VERIFY with data drops both PIN sessions first (4.1). */
    c->user_session = c->so_session = 0;
    OPENSSL_cleanse(c->user_tok, sizeof(c->user_tok));
    OPENSSL_cleanse(c->so_tok, sizeof(c->so_tok));
    sw = check_pin(c, fid, a->data, a->nc, tok);
    if (sw == SW_OK)
        open_session(c, fid, tok);
    else if (!card_pka_configured(c, NULL))
        c->user_auth = 0;
    OPENSSL_cleanse(tok, sizeof(tok));
    return sw;
}

uint16_t cmd_change_pin(sim_card *c, const sim_apdu *a)
{
    uint16_t fid;
    uint8_t *rec, tok[32], mkek[32];
    size_t old_len;
    uint16_t sw;

    if (a->p1 != 0x00)
        return SW_WRONG_P1P2_ISO;
    if (a->p2 == 0x81)
        fid = FID_USER_PIN;
    else if (a->p2 == 0x88)
        fid = FID_SO_PIN;
    else
        return SW_WRONG_P1P2_ISO;
    rec = pin_record(c, fid);
    if (rec == NULL)
        return SW_REF_NOT_FOUND;
    old_len = rec[0];
    if (a->nc <= old_len || a->nc - old_len > 16)
        return SW_WRONG_LENGTH;
    sw = check_pin(c, fid, a->data, old_len, tok);
    if (sw != SW_OK)
        return sw;
    sw = mkek_by(c, fid, tok, mkek);
    if (sw == SW_OK) {
        uint8_t max = rec[1];
        if (card_set_pin(c, fid, a->data + old_len, a->nc - old_len, max, mkek) != 0)
            sw = SW_MEMORY;
        else
            open_session(c, fid, fid == FID_USER_PIN ? c->user_tok : c->so_tok);
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return sw;
}

/* Gives the device a new user PIN under the MKEK, keeping the retry maximum. */
static uint16_t new_user_pin(sim_card *c, const uint8_t *pin, size_t len, const uint8_t mkek[32])
{
    uint8_t *rec = pin_record(c, FID_USER_PIN);
    uint8_t max = rec ? rec[1] : 3;

    if (card_set_pin(c, FID_USER_PIN, pin, len, max, mkek) != 0)
        return SW_MEMORY;
    open_session(c, FID_USER_PIN, c->user_tok);
    return SW_OK;
}

static uint16_t reset_counter(sim_card *c)
{
    uint8_t *rec = pin_record(c, FID_USER_PIN);

    if (rec == NULL)
        return SW_REF_NOT_FOUND;
    rec[2] = rec[1];
    c->st->dirty = 1;
    return SW_OK;
}

uint16_t cmd_reset_retry(sim_card *c, const sim_apdu *a)
{
    uint16_t opts = card_options(c), sw;
    uint8_t *so = pin_record(c, FID_SO_PIN), tok[32], mkek[32];
    size_t so_len = so ? so[0] : 0;

    if (a->p2 != 0x81)
        return SW_REF_NOT_FOUND;
    if (!(opts & OPT_RRC))
        return SW_NOT_ALLOWED;
    switch (a->p1) {
    case 0x00: /* SO-PIN || new PIN */
        if (so == NULL)
            return SW_REF_NOT_FOUND;
        if (a->nc < so_len + 2 || a->nc - so_len > 16)
            return SW_WRONG_LENGTH;
        sw = check_pin(c, FID_SO_PIN, a->data, so_len, tok);
        if (sw == SW_OK)
            sw = mkek_by(c, FID_SO_PIN, tok, mkek);
        if (sw == SW_OK)
            sw = new_user_pin(c, a->data + so_len, a->nc - so_len, mkek);
        break;
    case 0x01: /* SO-PIN: counter only */
        if (!(opts & OPT_RRC_COUNTER_ONLY))
            return SW_NOT_ALLOWED;
        if (so == NULL)
            return SW_REF_NOT_FOUND;
        if (a->nc != so_len)
            return SW_WRONG_LENGTH;
        sw = check_pin(c, FID_SO_PIN, a->data, so_len, tok);
        if (sw == SW_OK)
            sw = reset_counter(c);
        break;
    case 0x02: /* new PIN, SO-PIN verified before */
        if (!c->so_session)
            return SW_CONDITIONS;
        if (a->nc == 0 || a->nc > 16)
            return SW_WRONG_LENGTH;
        sw = mkek_by(c, FID_SO_PIN, c->so_tok, mkek);
        if (sw == SW_OK)
            sw = new_user_pin(c, a->data, a->nc, mkek);
        break;
    case 0x03: /* counter only, SO-PIN verified before */
        if (!(opts & OPT_RRC_COUNTER_ONLY))
            return SW_NOT_ALLOWED;
        if (!c->so_session)
            return SW_CONDITIONS;
        sw = reset_counter(c);
        break;
    default:
        return SW_WRONG_P1P2;
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return sw;
}

/* ------------------------------------------------------------------- PKA */

static sim_file *pka_slot(sim_card *c, unsigned slot)
{
    sim_file *f = sim_state_find(c->st, (uint16_t)(FID_PKA_SLOT + slot));

    return f != NULL && f->data.len > 0 ? f : NULL;
}

static unsigned round_count(sim_card *c)
{
    unsigned n = 0;

    for (int i = 0; i < MAX_PKA; i++)
        n += c->pka_round[i] ? 1 : 0;
    return n;
}

static void put_status(sim_card *c, const uint8_t conf[3])
{
    uint8_t st[4] = {conf[0], conf[1], conf[2], (uint8_t)round_count(c)};

    sim_bytes_set(&c->resp, st, sizeof(st));
}

static uint16_t register_key(sim_card *c, unsigned slot, const sim_apdu *a)
{
    sim_cvc cvc;

    if (sim_cvc_parse(a->data, a->nc, &cvc) != 0 || cvc.chr == NULL || cvc.chr_len == 0)
        return SW_WRONG_LENGTH;
    if (sim_state_put(c->st, (uint16_t)(FID_PKA_SLOT + slot), a->data, a->nc) != 0)
        return SW_MEMORY;
    return SW_OK;
}

uint16_t cmd_manage_pka(sim_card *c, const sim_apdu *a)
{
    uint8_t conf[3];
    sim_file *f;
    sim_cvc cvc;
    uint16_t sw;

    if (!card_pka_configured(c, conf)) {
        if (a->p1 == 0x00 && a->nc > 0)
            return SW_NOT_FOUND;
        return SW_WRONG_P1P2;
    }
    switch (a->p1) {
    case 0x00:
        if (a->nc > 0) {
            if (!c->user_session && !c->so_session)
                return SW_SECURITY;
            if (conf[1] == 0)
                return SW_NO_SPACE;
            sw = register_key(c, (unsigned)(conf[0] - conf[1]), a);
            if (sw != SW_OK)
                return sw;
            conf[1]--;
            if (sim_state_put(c->st, FID_PKA_CONF, conf, 3) != 0)
                return SW_MEMORY;
        }
        put_status(c, conf);
        return SW_OK;
    case 0x01:
        if (!(card_options(c) & OPT_PKA_REPLACEABLE))
            return SW_CONDITIONS;
        if (a->p2 >= conf[0])
            return SW_WRONG_P1P2;
        if (!c->user_session && !c->so_session)
            return SW_SECURITY;
        int was_empty = pka_slot(c, a->p2) == NULL;
        sw = register_key(c, a->p2, a);
        if (sw != SW_OK)
            return sw;
        if (was_empty && conf[1] > 0) {
            conf[1]--;
            if (sim_state_put(c->st, FID_PKA_CONF, conf, 3) != 0)
                return SW_MEMORY;
        }
        c->pka_round[a->p2] = 0;
        put_status(c, conf);
        return SW_OK;
    case 0x02:
        if (a->p2 >= conf[0])
            return SW_WRONG_P1P2;
        f = pka_slot(c, a->p2);
        if (f == NULL)
            return SW_REF_NOT_FOUND;
        if (sim_cvc_parse(f->data.data, f->data.len, &cvc) != 0 || cvc.chr == NULL)
            return SW_EXEC_ERROR;
        sim_bytes_set(&c->resp, cvc.chr, cvc.chr_len);
        return c->pka_round[a->p2] ? SW_PKA_AUTHENTICATED : SW_OK;
    default:
        return SW_WRONG_P1P2;
    }
}

/* Calls fn on each CV certificate the card holds: those in 2F02 and the CAxx files. */
static int each_cert(sim_card *c, int (*fn)(void *, const uint8_t *, size_t), void *arg)
{
    for (size_t i = 0; i < c->st->nfiles; i++) {
        const sim_file *f = &c->st->files[i];
        if (f->fid != FID_DEVCERT && (f->fid >> 8) != 0xCA)
            continue;
        const uint8_t *p = f->data.data, *start, *v;
        size_t left = f->data.len, vl;
        unsigned tag;
        for (;;) {
            start = p;
            if (sim_tlv_next(&p, &left, &tag, &v, &vl) != 1)
                break;
            if (tag == 0x7F21 && fn(arg, start, (size_t)(p - start)))
                return 1;
        }
    }
    return 0;
}

struct cert_search {
    const uint8_t *chr;
    size_t chr_len;
    const uint8_t *cert;
    size_t cert_len;
};

static int match_chr(void *arg, const uint8_t *cert, size_t len)
{
    struct cert_search *s = arg;
    sim_cvc cvc;

    if (sim_cvc_parse(cert, len, &cvc) != 0 || cvc.chr == NULL || cvc.chr_len != s->chr_len ||
        memcmp(cvc.chr, s->chr, s->chr_len) != 0)
        return 0;
    s->cert = cert;
    s->cert_len = len;
    return 1;
}

static int lookup_cert(void *ctx, const uint8_t *chr, size_t chr_len, const uint8_t **cert,
                       size_t *cert_len)
{
    struct cert_search s = {chr, chr_len, NULL, 0};

    if (!each_cert(ctx, match_chr, &s))
        return 0;
    *cert = s.cert;
    *cert_len = s.cert_len;
    return 1;
}

uint16_t cmd_mse(sim_card *c, const sim_apdu *a)
{
    static const uint8_t p2_ok[] = {0xA4, 0xA6, 0xAA, 0xB4, 0xB6, 0xB8};
    const uint8_t *ref, *cert;
    size_t ref_len, cert_len;
    uint8_t conf[3];

    if (!(a->p1 & 0x01) || memchr(p2_ok, a->p2, sizeof(p2_ok)) == NULL)
        return SW_WRONG_P1P2;
    if (sim_tlv_find(a->data, a->nc, 0x83, &ref, &ref_len) != 1) {
        /* Chip authentication (tag 80) and other templates: accepted, no effect here. */
        return SW_OK;
    }
    if (a->p2 == 0xB6) /* issuer for PSO VERIFY CERTIFICATE */
        return lookup_cert(c, ref, ref_len, &cert, &cert_len) ? SW_OK : SW_REF_NOT_FOUND;
    if (a->p2 != 0xA4)
        return SW_OK;
    if (!card_pka_configured(c, conf))
        return SW_REF_NOT_FOUND;
    for (unsigned slot = 0; slot < conf[0]; slot++) {
        sim_file *f = pka_slot(c, slot);
        sim_cvc cvc;
        if (f == NULL || sim_cvc_parse(f->data.data, f->data.len, &cvc) != 0 || cvc.chr == NULL)
            continue;
        /* The firmware compares over the stored CHR's length only (5.2). */
        if (cvc.chr_len > ref_len || memcmp(cvc.chr, ref, cvc.chr_len) != 0)
            continue;
        if (c->pka_round[slot])
            return SW_CONDITIONS;
        c->pka_selected = (int)slot;
        return SW_OK;
    }
    return SW_REF_NOT_FOUND;
}

uint16_t cmd_challenge(sim_card *c, const sim_apdu *a)
{
    size_t n = a->ne;

    if (n == 0 || n > 1024)
        return SW_WRONG_LENGTH;
    if (sim_bytes_reserve(&c->resp, n) != 0)
        return SW_MEMORY;
    if (sim_random(c->resp.data, n) != 0)
        return SW_EXEC_ERROR;
    c->resp.len = n;
    /* A new challenge restarts the PKA round, not an achieved login (2.3, 5.5). */
    memset(c->pka_round, 0, sizeof(c->pka_round));
    if (n <= sizeof(c->challenge)) {
        memcpy(c->challenge, c->resp.data, n);
        c->challenge_len = n;
    } else {
        c->challenge_len = 0;
    }
    return SW_OK;
}

uint16_t cmd_external_auth(sim_card *c, const sim_apdu *a)
{
    uint8_t conf[3], msg[64 + sizeof(c->challenge)];
    const uint8_t *name;
    size_t name_len;
    sim_file *f;
    uint16_t sw;

    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (!card_pka_configured(c, conf) || c->pka_selected < 0)
        return SW_REF_NOT_FOUND;
    if (a->nc == 0)
        return SW_WRONG_LENGTH;
    if (c->challenge_len == 0)
        return SW_CONDITIONS;
    f = pka_slot(c, (unsigned)c->pka_selected);
    if (f == NULL)
        return SW_REF_NOT_FOUND;
    card_dev_name(c, &name, &name_len);
    if (name_len > 64)
        return SW_EXEC_ERROR;
    memcpy(msg, name, name_len);
    memcpy(msg + name_len, c->challenge, c->challenge_len);
    sw = sim_pka_verify(f->data.data, f->data.len, lookup_cert, c, msg, name_len + c->challenge_len,
                        a->data, a->nc);
    if (sw != SW_OK)
        return sw; /* the challenge stays valid (5.1) */
    c->pka_round[c->pka_selected] = 1;
    if (round_count(c) >= conf[2]) {
        c->user_auth = 1;
        c->challenge_len = 0;
    }
    return SW_OK;
}
