/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WRAP (80 72 <ref> 92) and UNWRAP (80 74 <ref> 93) of the virtual device, with the checks
 * and status words of the firmware's cmd_key_wrap.c and cmd_key_unwrap.c in their order
 * (sc-hsm-protocol.md 8.2, 8.3). The blob itself is sim/crypto_wrap.c.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"
#include "crypto_wrap.h"

#define ALG_WRAP 0x92
#define FID_UNWRAP_DATA 0x2F10 /* the blob of a "new style" UNWRAP (OpenSC) */

/* The complete DKEK of a domain (EF_KEY_DOMAIN: total = imported, not 0 or FF) for WRAP:
 * SW_OK, SW_REF_NOT_FOUND (none, incomplete), SW_EXEC_ERROR (cannot be loaded). */
static uint16_t domain_dkek(sim_card *c, uint8_t dom, uint8_t dkek[32])
{
    if (!card_dkek_complete(c, dom))
        return SW_REF_NOT_FOUND;
    return card_dkek_load(c, dom, dkek) == 0 ? SW_OK : SW_EXEC_ERROR;
}

/* A key record's private key, unsealed with mkek; NULL when it cannot be opened. */
static EVP_PKEY *record_key(const uint8_t *rec, size_t len, const uint8_t mkek[32])
{
    const uint8_t *v;
    size_t vl;
    sim_bytes der = {0};
    EVP_PKEY *key = NULL;

    if (sim_tlv_find(rec, len, KREC_SEALED, &v, &vl) == 1 && sim_unseal(mkek, v, vl, &der) == 0)
        key = sim_key_load(der.data, der.len);
    sim_bytes_free(&der);
    return key;
}

/* The key of a WRAP after its checks; *sw says why not. */
static EVP_PKEY *wrap_key(sim_card *c, uint8_t ref, uint8_t *dom, const uint8_t **algs,
                          size_t *algs_len, uint16_t *sw)
{
    sim_file *k = sim_state_find(c->st, (uint16_t)(0xCC00 | ref));
    sim_file *prkd = sim_state_find(c->st, (uint16_t)(0xC400 | ref));
    const uint8_t *v;
    size_t vl;
    uint8_t mkek[32];
    EVP_PKEY *key = NULL;

    *sw = SW_NOT_FOUND;
    if (k == NULL || k->data.len == 0)
        return NULL;
    *dom = 0; /* get_key_domain: tag 92 of the metadata, else domain 0 */
    if (sim_tlv_find(k->data.data, k->data.len, KREC_DOMAIN, &v, &vl) == 1 && vl >= 1)
        *dom = v[0];
    *sw = SW_REF_NOT_FOUND;
    if (!card_dkek_complete(c, *dom))
        return NULL;
    /* sim_tlv_find leaves the last TLV it read in v when the tag is not there */
    *algs = NULL;
    *algs_len = 0;
    if (sim_tlv_find(k->data.data, k->data.len, KREC_ALGS, &v, &vl) == 1) {
        if (memchr(v, ALG_WRAP, vl) == NULL) {
            *sw = SW_CONDITIONS; /* key_has_purpose(ALGO_WRAP) */
            return NULL;
        }
        *algs = v;
        *algs_len = vl;
    }
    *sw = SW_NOT_FOUND;
    if (prkd == NULL || prkd->data.len == 0)
        return NULL;
    *sw = SW_OK;
    /* The firmware picks the key type from the PrKD's first byte; another answers 9000 with
     * no data */
    if (prkd->data.data[0] != 0x30 && prkd->data.data[0] != 0xA0)
        return NULL;
    *sw = SW_EXEC_ERROR;
    if (card_mkek(c, mkek) != SW_OK)
        return NULL;
    key = record_key(k->data.data, k->data.len, mkek);
    OPENSSL_cleanse(mkek, sizeof(mkek));
    if (key != NULL && EVP_PKEY_is_a(key, "RSA") != (prkd->data.data[0] == 0x30)) {
        EVP_PKEY_free(key); /* load_private_key_rsa/_ec of the other type fails */
        key = NULL;
    }
    if (key != NULL)
        *sw = SW_OK;
    return key;
}

uint16_t cmd_wrap(sim_card *c, const sim_apdu *a)
{
    const uint8_t *algs = NULL;
    size_t algs_len = 0;
    uint8_t dom = 0, dkek[32];
    EVP_PKEY *key;
    uint16_t sw;

    if (a->p2 != ALG_WRAP)
        return SW_WRONG_P1P2_ISO;
    if (!c->user_auth)
        return SW_SECURITY;
    key = wrap_key(c, a->p1, &dom, &algs, &algs_len, &sw);
    if (key == NULL)
        return sw;
    sw = domain_dkek(c, dom, dkek) == SW_OK &&
                 sim_dkek_blob_encode(dkek, key, algs, algs_len, &c->resp) == 0
             ? SW_OK
             : SW_EXEC_ERROR;
    OPENSSL_cleanse(dkek, sizeof(dkek));
    EVP_PKEY_free(key);
    return sw;
}

/* The record of an unwrapped key: type, bits, 91 from the blob (when not empty), 92 domain. */
static int put_unwrapped(sim_card *c, uint8_t ref, const sim_blob_key *k, uint8_t dom,
                         const uint8_t mkek[32])
{
    sim_bytes rec = {0}, der = {0}, sealed = {0};
    int type, bits, ret = -1;
    uint8_t t, b[2];

    if (sim_key_info(k->stored, &type, &bits) != 0 || sim_blob_key_der(k->stored, &der) != 0)
        goto end;
    t = (uint8_t)type;
    b[0] = (uint8_t)(bits >> 8);
    b[1] = (uint8_t)bits;
    if (sim_tlv_put(&rec, KREC_TYPE, &t, 1) != 0 || sim_tlv_put(&rec, KREC_BITS, b, 2) != 0 ||
        (k->algs_len > 0 && sim_tlv_put(&rec, KREC_ALGS, k->algs, k->algs_len) != 0) ||
        sim_tlv_put(&rec, KREC_DOMAIN, &dom, 1) != 0 ||
        sim_seal(mkek, der.data, der.len, &sealed) != 0 ||
        sim_tlv_put(&rec, KREC_SEALED, sealed.data, sealed.len) != 0)
        goto end;
    ret = sim_state_put(c->st, (uint16_t)(0xCC00 | ref), rec.data, rec.len);
end:
    sim_bytes_free(&rec);
    sim_bytes_free(&der);
    sim_bytes_free(&sealed);
    return ret;
}

/* Every domain's DKEK in turn until one has the blob's KCV (cmd_key_unwrap.c): a domain
 * whose DKEK file is missing is skipped (load_dkek: file not found), as is one whose KCV is
 * another's; the firmware does not ask for the DKEK to be complete here. */
static uint16_t unwrap_decode(sim_card *c, const uint8_t *in, size_t len, sim_blob_key *k,
                              uint8_t *dom)
{
    uint8_t dkek[32];
    int r = SIM_BLOB_WRONG_DKEK;

    for (unsigned d = 0; d < MAX_KEY_DOMAINS && r == SIM_BLOB_WRONG_DKEK; d++) {
        if (card_dkek_load(c, (uint8_t)d, dkek) != 0)
            continue;
        r = sim_dkek_blob_decode(dkek, in, len, k);
        *dom = (uint8_t)d;
    }
    OPENSSL_cleanse(dkek, sizeof(dkek));
    return r == SIM_BLOB_OK ? SW_OK : SW_EXEC_ERROR;
}

uint16_t cmd_unwrap(sim_card *c, const sim_apdu *a)
{
    const uint8_t *in = a->data, *name;
    size_t len = a->nc, name_len;
    sim_blob_key k = {0};
    sim_bytes cvreq = {0}, prkd = {0}, copy = {0};
    EVP_PKEY *devkey = NULL;
    sim_file *f;
    uint8_t dom = 0, mkek[32];
    int type, bits;
    uint16_t sw;

    if (a->p2 != 0x93)
        return SW_WRONG_P1P2_ISO;
    if (!c->user_auth)
        return SW_SECURITY;
    if (len == 0) { /* new style: the blob was written to EF 2F10 */
        f = sim_state_find(c->st, FID_UNWRAP_DATA);
        if (f == NULL || f->data.len == 0)
            return SW_NOT_FOUND;
        if (sim_bytes_set(&copy, f->data.data, f->data.len) != 0)
            return SW_MEMORY;
        in = copy.data;
        len = copy.len;
    }
    sw = SW_DATA_INVALID; /* dkek_type_key: too short or an unknown key type */
    if (len <= 8 || (in[8] != 5 && in[8] != 6 && in[8] != 12 && in[8] != 15))
        goto end;
    if ((sw = unwrap_decode(c, in, len, &k, &dom)) != SW_OK)
        goto end;
    sw = SW_EXEC_ERROR;
    if (card_mkek(c, mkek) != SW_OK)
        goto end;
    f = sim_state_find(c->st, 0xCC00);
    devkey = f != NULL ? record_key(f->data.data, f->data.len, mkek) : NULL;
    card_dev_name(c, &name, &name_len);
    /* store_keys replaces whatever the reference held: the firmware has no "slot in use" */
    if (devkey == NULL || sim_key_cvreq(k.cvkey, devkey, name, name_len, &cvreq) != 0 ||
        sim_key_info(k.stored, &type, &bits) != 0 ||
        sim_prkd_default(type, a->p1, bits, &prkd) != 0 ||
        put_unwrapped(c, a->p1, &k, dom, mkek) != 0 ||
        sim_state_put(c->st, (uint16_t)(0xC400 | a->p1), prkd.data, prkd.len) != 0 ||
        sim_state_put(c->st, (uint16_t)(0xCE00 | a->p1), cvreq.data, cvreq.len) != 0)
        goto end;
    sw = SW_OK; /* the request goes to CExx; the answer has no data */
end:
    OPENSSL_cleanse(mkek, sizeof(mkek));
    EVP_PKEY_free(devkey);
    sim_blob_key_free(&k);
    sim_bytes_free(&cvreq);
    sim_bytes_free(&prkd);
    sim_bytes_free(&copy);
    return sw;
}
