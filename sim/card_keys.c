/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual device's keys: records sealed under the MKEK, the device key, GENERATE
 * ASYMMETRIC KEY PAIR, SIGN and DECIPHER with use counters and allowed algorithms.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"

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
        static const unsigned tags[] = {KREC_COUNTER, KREC_ALGS, KREC_DOMAIN, KREC_META93};
        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
            if (sim_tlv_find(meta, meta_len, tags[i], &v, &vl) == 1 && vl > 0 &&
                sim_tlv_put(&rec, tags[i], v, vl) != 0)
                goto end;
        /* option 0200 (3.2): a key generated without a counter gets FFFFFFFE, as
         * find_and_store_meta_key gives it */
        static const uint8_t all[4] = {0xFF, 0xFF, 0xFF, 0xFE};
        if ((sim_tlv_find(meta, meta_len, KREC_COUNTER, &v, &vl) != 1 || vl == 0) &&
            (card_options(c) & 0x0200) && sim_tlv_put(&rec, KREC_COUNTER, all, 4) != 0)
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
        0xA0, 0x38, 0x30, 0x0D, 0x0C, 0x0B, 'E',  'S',  'P',  'I',  'C',  'O',  'H',  'S',  'M',
        'T',  'R',  0x30, 0x1B, 0x04, 0x14, 0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x03, 0x03, 0x07, 0x20,
        0x80, 0xA1, 0x0A, 0x30, 0x08, 0x30, 0x02, 0x04, 0x00, 0x02, 0x02, 0x01, 0x00};
    return sim_state_put(c->st, 0xC400, prkd, sizeof(prkd));
}

int card_create_device_key(sim_card *c, const uint8_t mkek[32])
{
    sim_bytes priv = {0}, cert = {0};
    const char *name = c->dev_name_cfg[0] ? c->dev_name_cfg : SIM_DEFAULT_DEV_NAME;
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

/* ------------------------------------------------------------ key commands */

uint16_t cmd_generate(sim_card *c, const sim_apdu *a)
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

uint16_t cmd_key_op(sim_card *c, const sim_apdu *a)
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

uint16_t cmd_extras(sim_card *c, const sim_apdu *a)
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
