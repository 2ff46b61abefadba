/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual device's INITIALIZE and key domains: DKEK shares, their check values,
 * domains created, deleted and forgotten (3.x and 8.x of sc-hsm-protocol.md).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "card_int.h"

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

/* ---------------------------------------------------------- INITIALIZE */

static int keep_on_initialize(uint16_t fid)
{
    /* The chip serial, the device key and its certificate survive; whether the
     * key stays usable depends on the MKEK (3.4). Old MKEK copies are kept
     * until the new PIN records replace them. */
    return fid == FID_SERIAL || fid == 0xCC00 || fid == 0xC400 || fid == FID_DEVCERT ||
           fid == FID_MKEK_USER || fid == FID_MKEK_SO;
}

/* The tags of INITIALIZE (3.1) the device uses; NULL when absent. */
typedef struct init_tlvs {
    const uint8_t *pin, *sopin, *dkeks, *pka, *kds, *opts, *retries;
    size_t pin_len, sopin_len, opts_len;
} init_tlvs;

static void init_parse(const sim_apdu *a, init_tlvs *t)
{
    const uint8_t *p = a->data, *v;
    size_t left = a->nc, vl;
    unsigned tag;

    memset(t, 0, sizeof(*t));
    while (sim_tlv_next(&p, &left, &tag, &v, &vl) == 1) {
        switch (tag) {
        case 0x80:
            t->opts = v;
            t->opts_len = vl;
            break;
        case 0x81:
            t->pin = v;
            t->pin_len = vl;
            break;
        case 0x82:
            t->sopin = v;
            t->sopin_len = vl;
            break;
        case 0x91:
            if (vl >= 1)
                t->retries = v;
            break;
        case 0x92:
            if (vl >= 1)
                t->dkeks = v;
            break;
        case 0x93:
            if (vl >= 2)
                t->pka = v;
            break;
        case 0x97:
            if (vl >= 1)
                t->kds = v;
            break;
        default:
            break; /* 95, 96 (bio servers) are ignored */
        }
    }
}

/* The PKA configuration, key domains or DKEK of a new initialization. 0 ok, -1 error. */
static int init_domains(sim_card *c, const init_tlvs *t, const uint8_t mkek[32])
{
    if (t->pka != NULL) {
        uint8_t conf[3] = {t->pka[0] > MAX_PKA ? MAX_PKA : t->pka[0], 0, t->pka[1]};
        conf[1] = conf[0];
        if (sim_state_put(c->st, FID_PKA_CONF, conf, sizeof(conf)) != 0)
            return -1;
    }
    if (t->kds != NULL) {
        /* Tag 97: that many key domains, none set up; overrides tag 92. */
        uint8_t k = t->kds[0] > MAX_KEY_DOMAINS ? MAX_KEY_DOMAINS : t->kds[0];
        return sim_state_put(c->st, FID_KDOM_COUNT, &k, 1) != 0 ? -1 : 0;
    }
    if (t->dkeks == NULL)
        return 0;
    if (t->dkeks[0] > 0)
        return dkek_record(c, 0, t->dkeks[0], t->dkeks[0], NULL, NULL) == SW_OK ? 0 : -1;
    return set_dkek_random(c, 0, mkek) == SW_OK ? 0 : -1;
}

uint16_t cmd_initialize(sim_card *c, const sim_apdu *a)
{
    init_tlvs t;
    uint8_t mkek[32];
    int have_mkek;
    uint16_t sw = SW_EXEC_ERROR;

    if (a->nc == 0) {
        static const uint8_t version[] = {0x00, 0x10, 0x00, 0x00, 0x00, FW_MAJOR, FW_MINOR};
        sim_bytes_set(&c->resp, version, sizeof(version));
        return SW_OK;
    }
    init_parse(a, &t);
    have_mkek = card_mkek(c, mkek) == SW_OK;
    if (!have_mkek && sim_random(mkek, sizeof(mkek)) != 0)
        return SW_EXEC_ERROR;

    sim_state_filter(c->st, keep_on_initialize);
    card_security_reset(c);
    c->applet_selected = 1;

    if (t.opts != NULL && sim_state_put(c->st, FID_OPTIONS, t.opts, t.opts_len) != 0)
        goto end;
    uint8_t user_retries = t.retries ? t.retries[0] : 3;
    sim_state_delete(c->st, FID_MKEK_USER);
    sim_state_delete(c->st, FID_MKEK_SO);
    if (t.pin != NULL || t.pka != NULL) {
        /* Without tag 81 on a PKA device the user PIN exists but never matches (2.1). */
        if (card_set_pin(c, FID_USER_PIN, t.pin, t.pin ? t.pin_len : 0, user_retries, mkek) != 0)
            goto end;
    }
    if (t.sopin != NULL &&
        card_set_pin(c, FID_SO_PIN, t.sopin, t.sopin_len, SO_PIN_RETRIES, mkek) != 0)
        goto end;
    if (init_domains(c, &t, mkek) != 0)
        goto end;
    if (!have_mkek || sim_state_find(c->st, 0xCC00) == NULL ||
        sim_state_find(c->st, FID_DEVCERT) == NULL) {
        if (card_create_device_key(c, mkek) != 0)
            goto end;
    }
    /* The session ends fully authenticated (3.4). */
    c->user_auth = 1;
    sw = SW_OK;
end:
    OPENSSL_cleanse(mkek, sizeof(mkek));
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

/* P1=01: the domain created, with a random DKEK (0 shares) or n shares to import. */
static uint16_t domain_create(sim_card *c, const sim_apdu *a, uint8_t dom)
{
    uint8_t mkek[32];
    uint16_t sw;

    if (sim_state_find(c->st, (uint16_t)(FID_DKEK + dom)) != NULL)
        return SW_NOT_ALLOWED;
    if (a->nc < 1)
        return SW_WRONG_LENGTH;
    if (a->data[a->nc - 1] != 0)
        return dkek_record(c, dom, a->data[a->nc - 1], a->data[a->nc - 1], NULL, NULL);
    if (card_mkek(c, mkek) != SW_OK)
        return SW_EXEC_ERROR;
    sw = set_dkek_random(c, dom, mkek);
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return sw;
}

/* P1=03: an empty domain deleted (one with a key stays: 6A89); 6A88 afterwards. */
static uint16_t domain_delete(sim_card *c, uint8_t dom)
{
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
}

/* The XOR of the shares imported so far: in RAM, or unsealed from the record. */
static uint16_t shares_so_far(sim_card *c, uint8_t dom, const sim_file *f, int have_mkek,
                              const uint8_t mkek[32], uint8_t acc[32])
{
    sim_bytes old = {0};

    memset(acc, 0, 32);
    if (c->dkek_pending_set[dom]) {
        memcpy(acc, c->dkek_pending[dom], 32);
    } else if (f->data.len > 10) {
        if (!have_mkek || sim_unseal(mkek, f->data.data + 10, f->data.len - 10, &old) != 0 ||
            old.len != 32) {
            sim_bytes_free(&old);
            return SW_EXEC_ERROR;
        }
        memcpy(acc, old.data, 32);
        sim_bytes_free(&old);
    }
    return SW_OK;
}

/* P1=00 with data: one DKEK share imported into the domain's record f. */
static uint16_t import_share(sim_card *c, const sim_apdu *a, uint8_t dom, sim_file *f)
{
    uint8_t mkek[32], acc[32], total = f->data.data[0], missing = f->data.data[1];
    int have_mkek;
    uint16_t sw;

    if (a->nc < 32)
        return SW_WRONG_LENGTH;
    if (missing == 0)
        return SW_NOT_ALLOWED;
    have_mkek = card_mkek(c, mkek) == SW_OK;
    if ((sw = shares_so_far(c, dom, f, have_mkek, mkek, acc)) != SW_OK)
        goto end;
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
end:
    OPENSSL_cleanse(acc, sizeof(acc));
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return sw;
}

uint16_t cmd_key_domain(sim_card *c, const sim_apdu *a)
{
    uint8_t dom = a->p2;
    sim_file *f;
    uint16_t sw;

    if (!domain_valid(c, dom))
        return SW_WRONG_P1P2;
    switch (a->p1) {
    case 0x00:
        break;
    case 0x01: /* create the domain with n shares */
    case 0x03: /* delete an empty domain */
    case 0x04: /* forget its DKEK */
        if (!c->user_auth || !c->user_session)
            return SW_CONDITIONS;
        if (a->p1 == 0x03)
            return domain_delete(c, dom);
        if (a->p1 == 0x04) {
            sim_state_delete(c->st, (uint16_t)(FID_DKEK + dom));
            return SW_OK;
        }
        if ((sw = domain_create(c, a, dom)) != SW_OK)
            return sw;
        break;
    default:
        return SW_WRONG_P1P2;
    }
    f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    if (f == NULL || f->data.len < 10)
        return SW_REF_NOT_FOUND;
    if (a->p1 == 0x00 && a->nc > 0) { /* import a share */
        if ((sw = import_share(c, a, dom, f)) != SW_OK)
            return sw;
        f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    }
    sim_bytes_set(&c->resp, f->data.data, 10);
    return SW_OK;
}
