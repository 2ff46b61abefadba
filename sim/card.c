/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual Pico HSM: framing (extended length, command chaining, 61xx and
 * GET RESPONSE), SELECT, INITIALIZE, files and keys. PINs and PKA are in
 * card_auth.c. Section numbers refer to sc-hsm-protocol.md.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"

static const uint8_t hsm_aid[11] = {0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01,
                                    0x81, 0xC3, 0x1F, 0x02, 0x01};
static const uint8_t atr[] = {0x3B, 0xFE, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE,
                              0x45, 0x80, 0x31, 0x81, 0x54, 0x48, 0x53, 0x4D,
                              0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0xFA};
static const char default_dev_name[] = "ESPICOHSMTR00001";
#define FW_MAJOR 6
#define FW_MINOR 6

/* Key record (content of CCxx, never readable): TLVs
 * 80 type, 81 bits (2), 90 use counter (4), 91 allowed algorithms, 92 key domain,
 * 99 the PKCS#8 private key sealed under the MKEK. */
#define KREC_TYPE 0x80
#define KREC_BITS 0x81
#define KREC_COUNTER 0x90
#define KREC_ALGS 0x91
#define KREC_DOMAIN 0x92
#define KREC_SEALED 0x99

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
    OPENSSL_cleanse(c->dkek_pending, sizeof(c->dkek_pending));
    memset(c->dkek_pending_set, 0, sizeof(c->dkek_pending_set));
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
    *name = (const uint8_t *)default_dev_name;
    *len = strlen(default_dev_name);
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
        if (sim_state_put(c->st, rec_fid == FID_USER_PIN ? FID_MKEK_USER : FID_MKEK_SO,
                          sealed.data, sealed.len) != 0)
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

/* ------------------------------------------------------------------ keys */

static int key_record(sim_card *c, uint8_t ref, const uint8_t **rec, size_t *len)
{
    sim_file *f = sim_state_find(c->st, (uint16_t)(0xCC00 | ref));

    if (f == NULL || f->data.len == 0)
        return 0;
    *rec = f->data.data;
    *len = f->data.len;
    return 1;
}

static int store_key(sim_card *c, uint8_t ref, int type, int bits, const uint8_t *meta,
                     size_t meta_len, const sim_bytes *priv, const uint8_t mkek[32])
{
    sim_bytes rec = {0}, sealed = {0};
    uint8_t t = (uint8_t)type, b[2] = {(uint8_t)(bits >> 8), (uint8_t)bits};
    const uint8_t *v;
    size_t vl;
    int ret = -1;

    if (sim_tlv_put(&rec, KREC_TYPE, &t, 1) != 0 || sim_tlv_put(&rec, KREC_BITS, b, 2) != 0)
        goto end;
    if (meta != NULL) {
        static const unsigned tags[] = {KREC_COUNTER, KREC_ALGS, KREC_DOMAIN};
        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
            if (sim_tlv_find(meta, meta_len, tags[i], &v, &vl) == 1 && vl > 0 &&
                sim_tlv_put(&rec, tags[i], v, vl) != 0)
                goto end;
    }
    if (sim_seal(mkek, priv->data, priv->len, &sealed) != 0 ||
        sim_tlv_put(&rec, KREC_SEALED, sealed.data, sealed.len) != 0)
        goto end;
    ret = sim_state_put(c->st, (uint16_t)(0xCC00 | ref), rec.data, rec.len);
end:
    sim_bytes_free(&rec);
    sim_bytes_free(&sealed);
    return ret;
}

/* Opens a key with the MKEK; NULL when the MKEK is locked or the record is bad. */
static EVP_PKEY *open_key(sim_card *c, const uint8_t *rec, size_t len, uint16_t *sw)
{
    uint8_t mkek[32];
    const uint8_t *v;
    size_t vl;
    sim_bytes der = {0};
    EVP_PKEY *key = NULL;

    *sw = card_mkek(c, mkek);
    if (*sw != SW_OK)
        return NULL;
    if (sim_tlv_find(rec, len, KREC_SEALED, &v, &vl) == 1 && sim_unseal(mkek, v, vl, &der) == 0)
        key = sim_key_load(der.data, der.len);
    OPENSSL_cleanse(mkek, sizeof(mkek));
    sim_bytes_free(&der);
    if (key == NULL)
        *sw = SW_EXEC_ERROR;
    return key;
}

/*
 * The checks of every private-key operation, in the firmware's order (7):
 * user authenticated, key exists, use counter, allowed algorithm, MKEK.
 */
static EVP_PKEY *use_key(sim_card *c, uint8_t ref, uint8_t alg, uint16_t *sw)
{
    const uint8_t *rec, *v;
    size_t len, vl;

    if (!c->user_auth) {
        *sw = SW_SECURITY;
        return NULL;
    }
    if (!key_record(c, ref, &rec, &len)) {
        *sw = SW_NOT_FOUND;
        return NULL;
    }
    if (sim_tlv_find(rec, len, KREC_COUNTER, &v, &vl) == 1 && vl == 4 &&
        (v[0] | v[1] | v[2] | v[3]) == 0) {
        *sw = SW_NO_SPACE;
        return NULL;
    }
    if (sim_tlv_find(rec, len, KREC_ALGS, &v, &vl) == 1 && memchr(v, alg, vl) == NULL) {
        *sw = SW_CONDITIONS;
        return NULL;
    }
    return open_key(c, rec, len, sw);
}

/* Counts one use of a key that has a use counter. */
static void key_used(sim_card *c, uint8_t ref)
{
    sim_file *f = sim_state_find(c->st, (uint16_t)(0xCC00 | ref));
    const uint8_t *v;
    size_t vl;

    if (f == NULL || sim_tlv_find(f->data.data, f->data.len, KREC_COUNTER, &v, &vl) != 1 || vl != 4)
        return;
    uint32_t n = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
    if (n == 0)
        return;
    n--;
    uint8_t *w = (uint8_t *)v;
    w[0] = (uint8_t)(n >> 24);
    w[1] = (uint8_t)(n >> 16);
    w[2] = (uint8_t)(n >> 8);
    w[3] = (uint8_t)n;
    c->st->dirty = 1;
}

static EVP_PKEY *device_key(sim_card *c, uint16_t *sw)
{
    const uint8_t *rec;
    size_t len;

    if (!key_record(c, 0, &rec, &len)) {
        *sw = SW_EXEC_ERROR;
        return NULL;
    }
    return open_key(c, rec, len, sw);
}

/* PrKD of the device key (6.4): label ESPICOHSMTR, a 20-zero-byte ID, P-256. */
static int put_devkey_prkd(sim_card *c)
{
    static const uint8_t prkd[] = {
        0xA0, 0x38, 0x30, 0x0D, 0x0C, 0x0B, 'E',  'S',  'P',  'I',  'C',  'O',  'H',  'S',
        'M',  'T',  'R',  0x30, 0x1B, 0x04, 0x14, 0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x03,
        0x03, 0x07, 0x20, 0x80, 0xA1, 0x0A, 0x30, 0x08, 0x30, 0x02, 0x04, 0x00, 0x02, 0x02,
        0x01, 0x00};
    return sim_state_put(c->st, 0xC400, prkd, sizeof(prkd));
}

static int create_device_key(sim_card *c, const uint8_t mkek[32])
{
    sim_bytes priv = {0}, cert = {0};
    const char *name = c->dev_name_cfg[0] ? c->dev_name_cfg : default_dev_name;
    int ret = -1;

    if (sim_devkey_create((const uint8_t *)name, strlen(name), &priv, &cert) != 0)
        goto end;
    if (store_key(c, 0, SIM_KEY_EC, 256, NULL, 0, &priv, mkek) != 0 ||
        sim_state_put(c->st, FID_DEVCERT, cert.data, cert.len) != 0 || put_devkey_prkd(c) != 0)
        goto end;
    ret = 0;
end:
    sim_bytes_free(&priv);
    sim_bytes_free(&cert);
    return ret;
}

/* ----------------------------------------------------------------- files */

static int is_generated(uint16_t fid)
{
    return fid == 0x2F00 || fid == 0x2F01 || fid == 0x2F03;
}

static int is_internal(uint16_t fid)
{
    uint8_t hi = fid >> 8;
    return hi == 0x10 || hi == 0xCC || hi == 0xC7;
}

/* Content of a generated EF (2.6). */
static void generated_ef(sim_card *c, uint16_t fid, sim_bytes *out)
{
    static const uint8_t label[] = {'P', 'i', 'c', 'o', '-', 'H', 'S', 'M'};
    sim_file *serial = sim_state_find(c->st, FID_SERIAL);
    uint8_t sn[8] = {0};

    sim_bytes_clear(out);
    if (serial != NULL && serial->data.len == 8)
        memcpy(sn, serial->data.data, 8);
    if (fid == 0x2F00) {
        sim_bytes_append_byte(out, 0x61);
        sim_bytes_append_byte(out, 0x17);
        sim_tlv_put(out, 0x4F, hsm_aid, sizeof(hsm_aid));
        sim_tlv_put(out, 0x50, label, sizeof(label));
    } else if (fid == 0x2F03) {
        static const uint8_t mfr[] = "Pol Henarejos";
        uint8_t major = FW_MAJOR;
        sim_bytes_append_byte(out, 0x30);
        sim_bytes_append_byte(out, 0x2A);
        sim_tlv_put(out, 0x02, &major, 1);
        sim_tlv_put(out, 0x04, sn, sizeof(sn));
        sim_tlv_put(out, 0x0C, mfr, sizeof(mfr) - 1);
        sim_tlv_put(out, 0x80, label, sizeof(label));
        sim_tlv_put(out, 0x03, (const uint8_t *)"\x04\x30", 2);
    }
}

/* The content of an EF for READ BINARY; SW_OK or an access error. */
static uint16_t readable_ef(sim_card *c, uint16_t fid, const uint8_t **data, size_t *len,
                            sim_bytes *scratch)
{
    sim_file *f;

    if (is_generated(fid)) {
        generated_ef(c, fid, scratch);
        *data = scratch->data;
        *len = scratch->len;
        return SW_OK;
    }
    if (is_internal(fid))
        return sim_state_find(c->st, fid) != NULL ? SW_SECURITY : SW_NOT_FOUND;
    f = sim_state_find(c->st, fid);
    if (f == NULL)
        return SW_NOT_FOUND;
    if ((fid >> 8) == 0xCD && !c->user_auth)
        return SW_SECURITY;
    *data = f->data.data;
    *len = f->data.len;
    return SW_OK;
}

static void put_fcp_ef(sim_card *c, uint16_t fid, size_t size)
{
    uint8_t fcp[16] = {0x62, 0x0E, 0x81, 0x02, (uint8_t)(size >> 8), (uint8_t)size, 0x82, 0x01,
                       0x01, 0x83, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid, 0x8A, 0x01, 0x05};
    sim_bytes_set(&c->resp, fcp, sizeof(fcp));
}

static uint16_t cmd_select(sim_card *c, const sim_apdu *a)
{
    if (a->p1 == 0x04) {
        if (a->nc != sizeof(hsm_aid) || memcmp(a->data, hsm_aid, sizeof(hsm_aid)) != 0)
            return SW_NOT_FOUND;
        if (a->p2 == 0x0C)
            return c->applet_selected ? SW_WRONG_P1P2 : SW_NOT_FOUND;
        if (a->p2 != 0x00 && a->p2 != 0x04)
            return SW_WRONG_P1P2;
        /* Selecting the application resets the whole security state (4.6). */
        card_security_reset(c);
        c->applet_selected = 1;
        uint16_t opts = card_options(c);
        uint8_t fcp[] = {0x62, 0x22, 0x81, 0x02, 0x00, 0x00, 0x82, 0x01, 0x01, 0x83, 0x02, 0x00,
                         0x00, 0x84, 0x0B, 0,    0,    0,    0,    0,    0,    0,    0,    0,
                         0,    0,    0x8A, 0x01, 0x05, 0x85, 0x05, 0,    0,    0xFF, FW_MAJOR,
                         FW_MINOR};
        /* The firmware's tag 84 copies 11 bytes from the AID's second byte on. */
        memcpy(fcp + 15, hsm_aid + 1, sizeof(hsm_aid) - 1);
        fcp[31] = (uint8_t)(opts >> 8);
        fcp[32] = (uint8_t)opts;
        sim_bytes_set(&c->resp, fcp, sizeof(fcp));
        return SW_OK;
    }
    if (!c->applet_selected)
        return SW_NOT_FOUND;
    if (a->p1 == 0x00 || a->p1 == 0x02) {
        if (a->p2 == 0x0C)
            return SW_WRONG_P1P2;
        if (a->nc != 2)
            return SW_NOT_FOUND;
        uint16_t fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
        const uint8_t *d;
        size_t len;
        sim_bytes scratch = {0};
        uint16_t sw = readable_ef(c, fid, &d, &len, &scratch);
        if (sw == SW_NOT_FOUND) {
            sim_bytes_free(&scratch);
            return sw;
        }
        if (sw != SW_OK) /* internal files exist but show no size */
            len = 0;
        c->current_ef = fid;
        put_fcp_ef(c, fid, len);
        sim_bytes_free(&scratch);
        return SW_OK;
    }
    return SW_WRONG_P1P2;
}

/* Offset from the 54 tag of READ/UPDATE BINARY (1..4 bytes BE). */
static int get_offset(const uint8_t *data, size_t len, size_t *off)
{
    const uint8_t *v;
    size_t vl;
    int r = sim_tlv_find(data, len, 0x54, &v, &vl);

    *off = 0;
    if (r < 0 || (r == 1 && (vl == 0 || vl > 4)))
        return -1;
    for (size_t i = 0; r == 1 && i < vl; i++)
        *off = *off << 8 | v[i];
    return 0;
}

static uint16_t read_ef(sim_card *c, uint16_t fid, size_t off, size_t ne)
{
    const uint8_t *d = NULL;
    size_t len = 0, n;
    sim_bytes scratch = {0};
    uint16_t sw = readable_ef(c, fid, &d, &len, &scratch);

    if (sw != SW_OK)
        goto end;
    c->current_ef = fid;
    if (off > len) {
        sw = is_generated(fid) ? SW_WRONG_P1P2_ISO : SW_EOF;
        goto end;
    }
    /* READ BINARY never chains: it truncates (1.6). Ne 0 (no Le) reads what
     * one APDU can carry and lets the framing answer 61xx. */
    n = len - off;
    if (ne != 0 && n > ne)
        n = ne;
    if (n > MAX_APDU_DATA)
        n = MAX_APDU_DATA;
    /* An empty EF has no buffer at all: NULL + 0 is undefined, so no pointer to it. */
    if (n > 0)
        sim_bytes_set(&c->resp, d + off, n);
end:
    sim_bytes_free(&scratch);
    return sw;
}

static uint16_t cmd_read_binary(sim_card *c, const sim_apdu *a)
{
    uint16_t fid;
    size_t off;

    if (a->ins == 0xB0) {
        if (a->p1 & 0x80) /* short EF identifiers: not used by the firmware */
            return SW_NOT_FOUND;
        if (c->current_ef == 0)
            return SW_NOT_FOUND;
        return read_ef(c, c->current_ef, (size_t)((a->p1 & 0x7F) << 8 | a->p2), a->ne);
    }
    fid = (uint16_t)(a->p1 << 8 | a->p2);
    if (fid == 0)
        fid = c->current_ef;
    if (get_offset(a->data, a->nc, &off) != 0)
        return SW_WRONG_LENGTH;
    return read_ef(c, fid, off, a->ne);
}

static uint16_t cmd_update_binary(sim_card *c, const sim_apdu *a)
{
    uint16_t fid = (uint16_t)(a->p1 << 8 | a->p2);
    const uint8_t *v = NULL;
    size_t vl = 0, off;
    sim_file *f;

    if (!c->user_auth)
        return SW_SECURITY;
    if (fid == 0)
        fid = c->current_ef;
    if (fid == 0)
        return SW_NOT_FOUND;
    if (is_internal(fid))
        return SW_SECURITY;
    if (is_generated(fid))
        return SW_NOT_ALLOWED; /* the firmware would crash on 2F03 (2.6) */
    if (get_offset(a->data, a->nc, &off) != 0 ||
        sim_tlv_find(a->data, a->nc, 0x53, &v, &vl) < 0)
        return SW_WRONG_LENGTH;
    f = sim_state_find(c->st, fid);
    if (off == 0) {
        if (sim_state_put(c->st, fid, v, vl) != 0)
            return SW_MEMORY;
    } else {
        /* as the firmware (cmd_update_ef.c): an offset past the end of the file, or in no
         * file, is invalid data (no gap filled, no file grown to an offset of 4 GB) */
        if (f == NULL || f->data.len == 0 || off > f->data.len)
            return SW_DATA_INVALID;
        sim_bytes buf = {0};
        if (sim_bytes_set(&buf, f->data.data, f->data.len) != 0)
            return SW_MEMORY;
        if (off + vl > buf.len) {
            size_t grow = off + vl - buf.len;
            uint8_t *z = calloc(1, grow);
            if (z == NULL || sim_bytes_append(&buf, z, grow) != 0) {
                free(z);
                sim_bytes_free(&buf);
                return SW_MEMORY;
            }
            free(z);
        }
        memcpy(buf.data + off, v, vl);
        int r = sim_state_put(c->st, fid, buf.data, buf.len);
        sim_bytes_free(&buf);
        if (r != 0)
            return SW_MEMORY;
    }
    c->current_ef = fid;
    return SW_OK;
}

static uint16_t cmd_delete_file(sim_card *c, const sim_apdu *a)
{
    uint16_t fid;

    if (!c->user_auth)
        return SW_SECURITY;
    if (a->nc == 0)
        fid = c->current_ef;
    else if (a->nc == 2)
        fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
    else
        return SW_WRONG_LENGTH;
    if (fid == 0xCC00)
        return SW_SECURITY;
    if (is_generated(fid))
        return SW_NOT_ALLOWED;
    if ((fid >> 8) == 0x10 || (fid >> 8) == 0xC7)
        return SW_SECURITY;
    if (sim_state_delete(c->st, fid) != 0)
        return SW_NOT_FOUND;
    if (c->current_ef == fid)
        c->current_ef = 0;
    return SW_OK;
}

static uint16_t cmd_list_keys(sim_card *c, const sim_apdu *a)
{
    static const uint8_t order[] = {0xCC, 0xC4, 0xC8, 0xC9};
    uint8_t fid[2] = {0xC4, 0x00};

    (void)a;
    sim_bytes_clear(&c->resp);
    sim_bytes_append(&c->resp, fid, 2);
    if (sim_state_find(c->st, 0xCC00) != NULL) {
        fid[0] = 0xCC;
        sim_bytes_append(&c->resp, fid, 2);
    }
    for (size_t k = 0; k < sizeof(order); k++)
        for (size_t i = 0; i < c->st->nfiles; i++) {
            uint16_t f = c->st->files[i].fid;
            /* C400 and CC00 went first; C800 and C900 are ordinary descriptions (the
             * firmware's cmd_list_keys lists every C8xx/C9xx) */
            if ((f >> 8) != order[k] || ((f & 0xFF) == 0 && k < 2))
                continue;
            fid[0] = (uint8_t)(f >> 8);
            fid[1] = (uint8_t)f;
            sim_bytes_append(&c->resp, fid, 2);
        }
    return SW_OK;
}

/* ---------------------------------------------------------- INITIALIZE */

static int keep_on_initialize(uint16_t fid)
{
    /* The chip serial, the device key and its certificate survive; whether the
     * key stays usable depends on the MKEK (3.4). Old MKEK copies are kept
     * until the new PIN records replace them. */
    return fid == FID_SERIAL || fid == 0xCC00 || fid == 0xC400 || fid == FID_DEVCERT ||
           fid == FID_MKEK_USER || fid == FID_MKEK_SO;
}

static uint16_t set_dkek_random(sim_card *c, uint8_t dom, const uint8_t mkek[32]);
static uint16_t dkek_record(sim_card *c, uint8_t dom, uint8_t total, uint8_t missing,
                            const uint8_t *dkek, const uint8_t mkek[32]);

static uint16_t cmd_initialize(sim_card *c, const sim_apdu *a)
{
    const uint8_t *p = a->data, *v, *pin = NULL, *sopin = NULL, *dkeks = NULL, *pka = NULL,
                  *kds = NULL, *opts = NULL, *retries = NULL;
    size_t left = a->nc, vl, pin_len = 0, sopin_len = 0, opts_len = 0;
    unsigned tag;
    uint8_t mkek[32];
    int have_mkek, r;
    uint16_t sw = SW_EXEC_ERROR;

    if (a->nc == 0) {
        static const uint8_t version[] = {0x00, 0x10, 0x00, 0x00, 0x00, FW_MAJOR, FW_MINOR};
        sim_bytes_set(&c->resp, version, sizeof(version));
        return SW_OK;
    }
    while ((r = sim_tlv_next(&p, &left, &tag, &v, &vl)) == 1) {
        switch (tag) {
        case 0x80: opts = v; opts_len = vl; break;
        case 0x81: pin = v; pin_len = vl; break;
        case 0x82: sopin = v; sopin_len = vl; break;
        case 0x91: if (vl >= 1) retries = v; break;
        case 0x92: if (vl >= 1) dkeks = v; break;
        case 0x93: if (vl >= 2) pka = v; break;
        case 0x97: if (vl >= 1) kds = v; break;
        default: break; /* 95, 96 (bio servers) are ignored */
        }
    }
    have_mkek = card_mkek(c, mkek) == SW_OK;
    if (!have_mkek && sim_random(mkek, sizeof(mkek)) != 0)
        return SW_EXEC_ERROR;

    sim_state_filter(c->st, keep_on_initialize);
    card_security_reset(c);
    c->applet_selected = 1;

    if (opts != NULL && sim_state_put(c->st, FID_OPTIONS, opts, opts_len) != 0)
        goto end;
    uint8_t user_retries = retries ? retries[0] : 3;
    sim_state_delete(c->st, FID_MKEK_USER);
    sim_state_delete(c->st, FID_MKEK_SO);
    if (pin != NULL || pka != NULL) {
        /* Without tag 81 on a PKA device the user PIN exists but never matches (2.1). */
        if (card_set_pin(c, FID_USER_PIN, pin, pin ? pin_len : 0, user_retries, mkek) != 0)
            goto end;
    }
    if (sopin != NULL && card_set_pin(c, FID_SO_PIN, sopin, sopin_len, SO_PIN_RETRIES, mkek) != 0)
        goto end;
    if (pka != NULL) {
        uint8_t conf[3] = {pka[0] > MAX_PKA ? MAX_PKA : pka[0], 0, pka[1]};
        conf[1] = conf[0];
        if (sim_state_put(c->st, FID_PKA_CONF, conf, sizeof(conf)) != 0)
            goto end;
    }
    if (kds != NULL) {
        /* Tag 97: that many key domains, none set up; overrides tag 92. */
        uint8_t k = kds[0] > MAX_KEY_DOMAINS ? MAX_KEY_DOMAINS : kds[0];
        if (sim_state_put(c->st, FID_KDOM_COUNT, &k, 1) != 0)
            goto end;
    } else if (dkeks != NULL) {
        if (dkeks[0] > 0)
            sw = dkek_record(c, 0, dkeks[0], dkeks[0], NULL, NULL);
        else
            sw = set_dkek_random(c, 0, mkek);
        if (sw != SW_OK)
            goto end;
    }
    if (!have_mkek || sim_state_find(c->st, 0xCC00) == NULL ||
        sim_state_find(c->st, FID_DEVCERT) == NULL) {
        if (create_device_key(c, mkek) != 0)
            goto end;
    }
    /* The session ends fully authenticated (3.4). */
    c->user_auth = 1;
    sw = SW_OK;
end:
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return sw;
}

/* ---------------------------------------------------------------- DKEK */

static int kcv_of(const uint8_t dkek[32], uint8_t kcv[8])
{
    uint8_t h[32];
    unsigned int n = 0;

    if (EVP_Digest(dkek, 32, h, &n, EVP_sha256(), NULL) != 1)
        return -1;
    memcpy(kcv, h, 8);
    return 0;
}

/*
 * DKEK record of a domain: total, missing, KCV (8), then the DKEK (or the
 * partial XOR of the shares) sealed under the MKEK, or empty.
 */
static uint16_t dkek_record(sim_card *c, uint8_t dom, uint8_t total, uint8_t missing,
                            const uint8_t *dkek, const uint8_t mkek[32])
{
    sim_bytes rec = {0}, sealed = {0};
    uint8_t hdr[10] = {total, missing};
    uint16_t sw = SW_EXEC_ERROR;

    if (dkek != NULL && missing == 0 && kcv_of(dkek, hdr + 2) != 0)
        goto end;
    if (sim_bytes_append(&rec, hdr, sizeof(hdr)) != 0)
        goto end;
    if (dkek != NULL && mkek != NULL) {
        if (sim_seal(mkek, dkek, 32, &sealed) != 0 ||
            sim_bytes_append(&rec, sealed.data, sealed.len) != 0)
            goto end;
    }
    if (sim_state_put(c->st, (uint16_t)(FID_DKEK + dom), rec.data, rec.len) != 0)
        goto end;
    sw = SW_OK;
end:
    sim_bytes_free(&rec);
    sim_bytes_free(&sealed);
    return sw;
}

static uint16_t set_dkek_random(sim_card *c, uint8_t dom, const uint8_t mkek[32])
{
    uint8_t dkek[32];
    uint16_t sw;

    if (sim_random(dkek, sizeof(dkek)) != 0)
        return SW_EXEC_ERROR;
    sw = dkek_record(c, dom, 1, 0, dkek, mkek);
    OPENSSL_cleanse(dkek, sizeof(dkek));
    return sw;
}

void card_flush_pending_dkek(sim_card *c)
{
    uint8_t mkek[32];

    if (card_mkek(c, mkek) != SW_OK)
        return;
    for (uint8_t d = 0; d < MAX_KEY_DOMAINS; d++) {
        sim_file *f = sim_state_find(c->st, (uint16_t)(FID_DKEK + d));
        if (!c->dkek_pending_set[d] || f == NULL || f->data.len < 10)
            continue;
        uint8_t total = f->data.data[0], missing = f->data.data[1];
        if (dkek_record(c, d, total, missing, c->dkek_pending[d], mkek) == SW_OK) {
            OPENSSL_cleanse(c->dkek_pending[d], 32);
            c->dkek_pending_set[d] = 0;
        }
    }
    OPENSSL_cleanse(mkek, sizeof(mkek));
}

static int domain_valid(sim_card *c, uint8_t dom)
{
    sim_file *f = sim_state_find(c->st, FID_KDOM_COUNT);

    if (f != NULL && f->data.len == 1)
        return dom < f->data.data[0];
    return dom == 0;
}

static uint16_t cmd_key_domain(sim_card *c, const sim_apdu *a)
{
    uint8_t dom = a->p2, mkek[32], acc[32];
    sim_file *f;
    uint16_t sw;

    if (!domain_valid(c, dom))
        return SW_WRONG_P1P2;
    f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    switch (a->p1) {
    case 0x00:
        break;
    case 0x01: /* create the domain with n shares */
    case 0x04: /* forget its DKEK */
        if (!c->user_auth || !c->user_session)
            return SW_CONDITIONS;
        if (a->p1 == 0x04) {
            sim_state_delete(c->st, (uint16_t)(FID_DKEK + dom));
            return SW_OK;
        }
        if (f != NULL)
            return SW_NOT_ALLOWED;
        if (a->nc < 1)
            return SW_WRONG_LENGTH;
        if (a->data[a->nc - 1] == 0) {
            if (card_mkek(c, mkek) != SW_OK)
                return SW_EXEC_ERROR;
            sw = set_dkek_random(c, dom, mkek);
            OPENSSL_cleanse(mkek, sizeof(mkek));
        } else {
            sw = dkek_record(c, dom, a->data[a->nc - 1], a->data[a->nc - 1], NULL, NULL);
        }
        if (sw != SW_OK)
            return sw;
        f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
        break;
    case 0x03: /* delete an empty domain: always 6A88 afterwards */
        if (!c->user_auth || !c->user_session)
            return SW_CONDITIONS;
        for (size_t i = 0; i < c->st->nfiles; i++) {
            const sim_file *k = &c->st->files[i];
            const uint8_t *v;
            size_t vl;
            if ((k->fid >> 8) == 0xCC &&
                sim_tlv_find(k->data.data, k->data.len, KREC_DOMAIN, &v, &vl) == 1 && vl == 1 &&
                v[0] == dom)
                return SW_NOT_EMPTY;
        }
        sim_state_delete(c->st, (uint16_t)(FID_DKEK + dom));
        return SW_REF_NOT_FOUND;
    default:
        return SW_WRONG_P1P2;
    }
    if (f == NULL || f->data.len < 10)
        return SW_REF_NOT_FOUND;
    if (a->p1 == 0x00 && a->nc > 0) { /* import a share */
        if (a->nc < 32)
            return SW_WRONG_LENGTH;
        uint8_t total = f->data.data[0], missing = f->data.data[1];
        if (missing == 0)
            return SW_NOT_ALLOWED;
        int have_mkek = card_mkek(c, mkek) == SW_OK;
        memset(acc, 0, sizeof(acc));
        if (c->dkek_pending_set[dom]) {
            memcpy(acc, c->dkek_pending[dom], 32);
        } else if (f->data.len > 10) {
            sim_bytes old = {0};
            if (!have_mkek || sim_unseal(mkek, f->data.data + 10, f->data.len - 10, &old) != 0 ||
                old.len != 32) {
                sim_bytes_free(&old);
                OPENSSL_cleanse(mkek, sizeof(mkek));
                return SW_EXEC_ERROR;
            }
            memcpy(acc, old.data, 32);
            sim_bytes_free(&old);
        }
        for (int i = 0; i < 32; i++)
            acc[i] ^= a->data[i];
        missing--;
        if (have_mkek) {
            sw = dkek_record(c, dom, total, missing, acc, mkek);
            c->dkek_pending_set[dom] = 0;
        } else {
            /* Sealed at the next PIN verification; until then only in RAM. */
            memcpy(c->dkek_pending[dom], acc, 32);
            c->dkek_pending_set[dom] = 1;
            sw = dkek_record(c, dom, total, missing, NULL, NULL);
            if (sw == SW_OK && missing == 0) {
                f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
                kcv_of(acc, f->data.data + 2);
            }
        }
        OPENSSL_cleanse(acc, sizeof(acc));
        OPENSSL_cleanse(mkek, sizeof(mkek));
        if (sw != SW_OK)
            return sw;
        f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    }
    sim_bytes_set(&c->resp, f->data.data, 10);
    return SW_OK;
}

/* ------------------------------------------------------------ key commands */

static uint16_t cmd_generate(sim_card *c, const sim_apdu *a)
{
    uint8_t ref = a->p1, mkek[32];
    const uint8_t *name;
    size_t name_len;
    sim_bytes priv = {0}, cvreq = {0}, prkd = {0};
    EVP_PKEY *devkey = NULL;
    int type, bits;
    uint16_t sw;

    if (!c->user_auth)
        return SW_SECURITY;
    sw = card_mkek(c, mkek);
    if (sw != SW_OK)
        return sw;
    devkey = device_key(c, &sw);
    if (devkey == NULL)
        goto end;
    card_dev_name(c, &name, &name_len);
    sw = sim_key_generate(a->data, a->nc, devkey, name, name_len, &type, &bits, &priv, &cvreq);
    if (sw != SW_OK || cvreq.len == 0) /* unsupported OID: 9000, nothing created */
        goto end;
    if (store_key(c, ref, type, bits, a->data, a->nc, &priv, mkek) != 0 ||
        sim_state_put(c->st, (uint16_t)(0xCE00 | ref), cvreq.data, cvreq.len) != 0 ||
        sim_prkd_default(type, ref, bits, &prkd) != 0 ||
        sim_state_put(c->st, (uint16_t)(0xC400 | ref), prkd.data, prkd.len) != 0) {
        sw = SW_MEMORY;
        goto end;
    }
    sim_bytes_set(&c->resp, cvreq.data, cvreq.len);
end:
    OPENSSL_cleanse(mkek, sizeof(mkek));
    EVP_PKEY_free(devkey);
    sim_bytes_free(&priv);
    sim_bytes_free(&cvreq);
    sim_bytes_free(&prkd);
    return sw;
}

static uint16_t cmd_key_op(sim_card *c, const sim_apdu *a)
{
    uint16_t sw;
    EVP_PKEY *key = use_key(c, a->p1, a->p2, &sw);

    if (key == NULL)
        return sw;
    if (a->ins == 0x68)
        sw = sim_key_sign(key, a->p2, a->data, a->nc, &c->resp);
    else
        sw = sim_key_decipher(key, a->p2, a->data, a->nc, &c->resp);
    if (sw == SW_OK)
        key_used(c, a->p1);
    EVP_PKEY_free(key);
    return sw;
}

static uint16_t cmd_extras(sim_card *c, const sim_apdu *a)
{
    uint16_t opts = card_options(c);
    uint8_t o[2];

    if (!c->user_auth)
        return SW_SECURITY;
    if (a->p1 != 0x06)
        return SW_WRONG_P1P2;
    if (a->nc == 1) {
        /* Replaces the high byte of the options; the secure lock bit stays. */
        opts = (uint16_t)((opts & 0x04FF) | ((a->data[0] & 0x03) << 8));
        o[0] = (uint8_t)(opts >> 8);
        o[1] = (uint8_t)opts;
        if (sim_state_put(c->st, FID_OPTIONS, o, 2) != 0)
            return SW_MEMORY;
        return SW_OK;
    }
    o[0] = (uint8_t)(opts >> 8);
    o[1] = (uint8_t)opts;
    sim_bytes_set(&c->resp, o, 2);
    return SW_OK;
}

/* ---------------------------------------------------------------- dispatch */

static uint16_t dispatch(sim_card *c, const sim_apdu *a)
{
    if (a->ins == 0xA4)
        return cmd_select(c, a);
    if (!c->applet_selected)
        return SW_INS;
    switch (a->ins) {
    case 0x20: return cmd_verify(c, a);
    case 0x24: return cmd_change_pin(c, a);
    case 0x2C: return cmd_reset_retry(c, a);
    case 0x22: return cmd_mse(c, a);
    case 0x84: return cmd_challenge(c, a);
    case 0x82: return cmd_external_auth(c, a);
    case 0x46: return cmd_generate(c, a);
    case 0xB0:
    case 0xB1: return cmd_read_binary(c, a);
    case 0xD7: return cmd_update_binary(c, a);
    case 0xE4: return cmd_delete_file(c, a);
    case 0x50: return cmd_initialize(c, a);
    case 0x52: return cmd_key_domain(c, a);
    case 0x54: return cmd_manage_pka(c, a);
    case 0x58: return cmd_list_keys(c, a);
    case 0x62:
    case 0x68: return cmd_key_op(c, a);
    case 0x64: return cmd_extras(c, a);
    default: return SW_INS;
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

int sim_card_process(sim_card *c, const uint8_t *frame, size_t len, sim_bytes *resp)
{
    sim_apdu a, full;
    uint16_t sw;

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

    /* Command chaining (1.5). */
    if (a.ins == 0xA4 && a.p1 == 0x04) {
        c->chaining = 0;
        sim_bytes_clear(&c->chain);
    }
    full = a;
    if (a.cla & 0x10) {
        uint8_t hdr[4] = {a.cla & (uint8_t)~0x10, a.ins, a.p1, a.p2};
        if (c->chaining && memcmp(hdr, c->chain_hdr, 4) != 0) {
            c->chaining = 0;
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_CHAIN_MISMATCH);
            return 0;
        }
        if (c->chain.len + a.nc >= MAX_CHAIN) {
            c->chaining = 0;
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_WRONG_LENGTH);
            return 0;
        }
        memcpy(c->chain_hdr, hdr, 4);
        c->chaining = 1;
        sim_bytes_append(&c->chain, a.data, a.nc);
        answer(resp, NULL, 0, SW_OK);
        return 0;
    }
    if (c->chaining) {
        uint8_t hdr[4] = {a.cla, a.ins, a.p1, a.p2};
        c->chaining = 0;
        if (memcmp(hdr, c->chain_hdr, 4) != 0) {
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_CHAIN_MISMATCH);
            return 0;
        }
        if (c->chain.len + a.nc >= MAX_CHAIN) {
            sim_bytes_clear(&c->chain);
            answer(resp, NULL, 0, SW_WRONG_LENGTH);
            return 0;
        }
        sim_bytes_append(&c->chain, a.data, a.nc);
        full.data = c->chain.data;
        full.nc = c->chain.len;
    }

    sim_bytes_clear(&c->resp);
    sw = dispatch(c, &full);
    if (sw != SW_OK && sw != SW_PKA_AUTHENTICATED)
        sim_bytes_clear(&c->resp);
    if (c->resp.len > a.ne) {
        /* More than the host asked for (or a case 3 command): 61xx (1.4, 1.6). */
        sim_bytes_set(&c->pending, c->resp.data, c->resp.len);
        c->pending_off = 0;
        c->pending_sw = sw;
        c->pending_secret = c->answer_secret;
        if (a.ne == 0) {
            size_t left = c->pending.len;
            answer(resp, NULL, 0, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
        } else {
            send_pending(c, a.ne, resp);
        }
    } else {
        answer(resp, c->resp.data, c->resp.len, sw);
    }
    sim_bytes_clear(&c->resp);
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
