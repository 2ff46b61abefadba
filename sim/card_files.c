/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual device's files: SELECT, READ BINARY, UPDATE BINARY, DELETE FILE,
 * LIST KEYS, and the EFs it builds on demand (2.x of sc-hsm-protocol.md).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"

static const uint8_t hsm_aid[11] = {0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01,
                                    0x81, 0xC3, 0x1F, 0x02, 0x01};

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

/*
 * The metadata of a key (file_process_fci, find_and_store_meta_key): tags 90, 91, 92, 93 of
 * its record, in that order, as the firmware keeps them for CCxx. 0 bytes when none.
 */
static size_t key_meta(sim_card *c, uint16_t fid, uint8_t *out, size_t cap)
{
    sim_file *f = (fid >> 8) == 0xCC ? sim_state_find(c->st, fid) : NULL;
    const uint8_t *v;
    size_t vl, n = 0;
    unsigned t;

    for (t = KREC_COUNTER; f != NULL && t <= KREC_META93; t++)
        if (sim_tlv_find(f->data.data, f->data.len, t, &v, &vl) == 1 && vl > 0 && vl < 0x80 &&
            n + 2 + vl <= cap) {
            out[n++] = (uint8_t)t;
            out[n++] = (uint8_t)vl;
            memcpy(out + n, v, vl);
            n += vl;
        }
    return n;
}

/* 62 L { 81 size, 82 01 desc, 83 FID, 8A 01 05 [, A5 81 L metadata] } (1.2) */
static void put_fcp_ef(sim_card *c, uint16_t fid, size_t size, uint8_t desc)
{
    uint8_t fcp[16 + 3 + 200] = {0x62, 0x0E, 0x81, 0x02, (uint8_t)(size >> 8), (uint8_t)size, 0x82,
                                 0x01, desc, 0x83, 0x02, (uint8_t)(fid >> 8),  (uint8_t)fid,  0x8A,
                                 0x01, 0x05};
    size_t n = 16, m = key_meta(c, fid, fcp + 19, 200);

    if (m > 0) { /* the firmware writes the length in the long form, always */
        fcp[n++] = 0xA5;
        fcp[n++] = 0x81;
        fcp[n++] = (uint8_t)m;
        n += m;
        fcp[1] = (uint8_t)(n - 2);
    }
    sim_bytes_set(&c->resp, fcp, n);
}

/*
 * The size the firmware's FCP shows for its PIN EFs (1081 user, 1088 SO; pico-hsm 6.6): 34
 * bytes (length, format, verifier) once a PIN is set, 33 zero bytes before (the default it
 * writes at boot, which a PKA-only INITIALIZE keeps). A host tells a PIN-less PKA device by it
 * without spending a try (sc-hsm-protocol.md 2.1). The record itself stays unreadable.
 */
static size_t pin_ef_size(sim_card *c, uint16_t fid)
{
    sim_file *f = sim_state_find(c->st, fid);

    return f != NULL && f->data.len == PIN_REC_LEN && f->data.data[0] > 0 ? 34 : 33;
}

uint16_t cmd_select(sim_card *c, const sim_apdu *a)
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
        uint8_t fcp[] = {0x62, 0x22, 0x81, 0x02, 0x00, 0x00, 0x82, 0x01,     0x01,
                         0x83, 0x02, 0x00, 0x00, 0x84, 0x0B, 0,    0,        0,
                         0,    0,    0,    0,    0,    0,    0,    0,        0x8A,
                         0x01, 0x05, 0x85, 0x05, 0,    0,    0xFF, FW_MAJOR, FW_MINOR};
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
        uint16_t sw;

        if (fid == FID_USER_PIN || fid == FID_SO_PIN) { /* static files: always there */
            c->current_ef = fid;
            put_fcp_ef(c, fid, pin_ef_size(c, fid), 0x08); /* 08: an internal EF */
            return SW_OK;
        }
        sw = readable_ef(c, fid, &d, &len, &scratch);
        if (sw == SW_NOT_FOUND) {
            sim_bytes_free(&scratch);
            return sw;
        }
        if (sw != SW_OK) /* internal files exist but show no size */
            len = 0;
        c->current_ef = fid;
        put_fcp_ef(c, fid, len, 0x01);
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

uint16_t cmd_read_binary(sim_card *c, const sim_apdu *a)
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

uint16_t cmd_update_binary(sim_card *c, const sim_apdu *a)
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
    if (get_offset(a->data, a->nc, &off) != 0 || sim_tlv_find(a->data, a->nc, 0x53, &v, &vl) < 0)
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

uint16_t cmd_delete_file(sim_card *c, const sim_apdu *a)
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

uint16_t cmd_list_keys(sim_card *c, const sim_apdu *a)
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
