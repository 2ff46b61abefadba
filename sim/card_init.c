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

/*
 * As pico-hsm's kek.c keeps it: EF FID_DKEK+d holds the XOR of the shares
 * imported so far in the clear (32 bytes), and the complete DKEK sealed under
 * the MKEK once a PIN session allows it; FID_KDOM holds two bytes per domain,
 * shares total and shares imported (FF FF: not set up).
 */
#define DKEK_LEN 32

static int kcv_of(const uint8_t dkek[32], uint8_t kcv[8])
{
    uint8_t h[32];
    unsigned int n = 0;

    if (EVP_Digest(dkek, 32, h, &n, EVP_sha256(), NULL) != 1)
        return -1;
    memcpy(kcv, h, 8);
    return 0;
}

static uint16_t dkek_seal_store(sim_card *c, uint8_t dom, const uint8_t dkek[32],
                                const uint8_t mkek[32])
{
    sim_bytes sealed = {0};
    uint16_t sw = SW_EXEC_ERROR;

    if (sim_seal(mkek, dkek, DKEK_LEN, &sealed) == 0 &&
        sim_state_put(c->st, (uint16_t)(FID_DKEK + dom), sealed.data, sealed.len) == 0)
        sw = SW_OK;
    sim_bytes_free(&sealed);
    return sw;
}

static uint16_t set_dkek_random(sim_card *c, uint8_t dom, const uint8_t mkek[32])
{
    uint8_t dkek[32];
    uint16_t sw;

    if (sim_random(dkek, sizeof(dkek)) != 0)
        return SW_EXEC_ERROR;
    sw = dkek_seal_store(c, dom, dkek, mkek);
    OPENSSL_cleanse(dkek, sizeof(dkek));
    return sw;
}

/* The domain table entry: total and imported shares; NULL when the domain is beyond it. */
static uint8_t *kdom_entry(sim_card *c, uint8_t dom)
{
    sim_file *f = sim_state_find(c->st, FID_KDOM);

    if (f == NULL || 2 * (size_t)dom >= f->data.len)
        return NULL;
    return f->data.data + 2 * dom;
}

static int dkek_complete(sim_card *c, uint8_t dom)
{
    const uint8_t *e = kdom_entry(c, dom);

    return e != NULL && e[0] != 0 && e[0] != 0xFF && e[1] >= e[0];
}

/*
 * A 32-byte file is what the firmware takes for its old format, encrypted in
 * place under the MKEK (AES-CFB): it "decrypts" it, so a partial XOR shows a
 * meaningless KCV in a PIN session, and a complete one never sealed (a power
 * loss before the VERIFY that seals it) becomes garbage, sealed as the DKEK.
 */
static int legacy_decrypt(const uint8_t mkek[32], const uint8_t in[32], uint8_t out[32])
{
    static const uint8_t iv[16] = {0};
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok;

    ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_cfb128(), NULL, mkek, iv) == 1 &&
         EVP_DecryptUpdate(ctx, out, &n, in, DKEK_LEN) == 1 && n == DKEK_LEN;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* kek.c load_dkek: the DKEK of a domain, through the MKEK of this session. */
static int dkek_load(sim_card *c, uint8_t dom, uint8_t dkek[32])
{
    sim_file *f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    sim_bytes out = {0};
    uint8_t mkek[32];
    int r = -1;

    if (f == NULL || f->data.len == 0 || card_mkek(c, mkek) != SW_OK)
        return -1;
    if (f->data.len == DKEK_LEN) {
        r = legacy_decrypt(mkek, f->data.data, dkek);
        if (r == 0 && dkek_complete(c, dom))
            r = dkek_seal_store(c, dom, dkek, mkek) == SW_OK ? 0 : -1;
    } else if (sim_unseal(mkek, f->data.data, f->data.len, &out) == 0 && out.len == DKEK_LEN) {
        memcpy(dkek, out.data, DKEK_LEN);
        r = 0;
    }
    sim_bytes_free(&out);
    OPENSSL_cleanse(mkek, sizeof(mkek));
    return r;
}

/* kek.c dkek_kcv: zeros when the DKEK cannot be loaded (no file, no PIN session). */
static void dkek_kcv(sim_card *c, uint8_t dom, uint8_t kcv[8])
{
    uint8_t dkek[32];

    memset(kcv, 0, 8);
    if (dkek_load(c, dom, dkek) == 0 && kcv_of(dkek, kcv) != 0)
        memset(kcv, 0, 8);
    OPENSSL_cleanse(dkek, sizeof(dkek));
}

/* ---------------------------------------------------------- INITIALIZE */

/*
 * cmd_initialize.c: tag 92 N > 0 expects N shares (table N 00); 0 makes a
 * random DKEK (01 01); no tag 92 leaves domain 0 without one (00 00). Tag 97
 * then overwrites the table: that many domains, none set up (FF FF), even
 * though the random DKEK of 92 00 stays in its file.
 */
static uint16_t init_domains(sim_card *c, const uint8_t *dkeks, const uint8_t *kds,
                             const uint8_t mkek[32])
{
    uint8_t kd[2 * MAX_KEY_DOMAINS] = {0, 0};
    size_t kd_len = 2;

    c->dkek_save_pending = 0;
    if (dkeks != NULL && dkeks[0] > 0) {
        kd[0] = dkeks[0];
    } else if (dkeks != NULL) {
        if (set_dkek_random(c, 0, mkek) != SW_OK)
            return SW_EXEC_ERROR;
        kd[0] = kd[1] = 1;
    }
    if (kds != NULL) {
        kd_len = 2 * (size_t)(kds[0] > MAX_KEY_DOMAINS ? MAX_KEY_DOMAINS : kds[0]);
        memset(kd, 0xFF, kd_len);
    }
    return sim_state_put(c->st, FID_KDOM, kd, kd_len) == 0 ? SW_OK : SW_EXEC_ERROR;
}

static int keep_on_initialize(uint16_t fid)
{
    /* The chip serial, the device key and its certificate survive; whether the
     * key stays usable depends on the MKEK (3.4). Old MKEK copies are kept
     * until the new PIN records replace them. */
    return fid == FID_SERIAL || fid == 0xCC00 || fid == 0xC400 || fid == FID_DEVCERT ||
           fid == FID_MKEK_USER || fid == FID_MKEK_SO;
}

/* The tags of INITIALIZE DEVICE (3.1) the device uses; NULL when absent. */
typedef struct init_tlvs {
    const uint8_t *pin, *sopin, *dkeks, *pka, *kds, *opts, *retries;
    size_t pin_len, sopin_len, opts_len;
} init_tlvs;

static void parse_init(const sim_apdu *a, init_tlvs *t)
{
    const uint8_t *p = a->data, *v;
    size_t left = a->nc, vl;
    unsigned tag;

    memset(t, 0, sizeof(*t));
    while (sim_tlv_next(&p, &left, &tag, &v, &vl) == 1) {
        if (tag == 0x80) {
            t->opts = v;
            t->opts_len = vl;
        } else if (tag == 0x81) {
            t->pin = v;
            t->pin_len = vl;
        } else if (tag == 0x82) {
            t->sopin = v;
            t->sopin_len = vl;
        } else if (tag == 0x91 && vl >= 1) {
            t->retries = v;
        } else if (tag == 0x92 && vl >= 1) {
            t->dkeks = v;
        } else if (tag == 0x93 && vl >= 2) {
            t->pka = v;
        } else if (tag == 0x97 && vl >= 1) {
            t->kds = v;
        } /* 95, 96 (bio servers) are ignored */
    }
}

/* The device set up anew from the tags, under mkek: options, PINs, PKA, domains. */
static uint16_t init_from(sim_card *c, const init_tlvs *t, const uint8_t mkek[32])
{
    uint8_t user_retries = t->retries ? t->retries[0] : 3;

    if (t->opts != NULL && sim_state_put(c->st, FID_OPTIONS, t->opts, t->opts_len) != 0)
        return SW_EXEC_ERROR;
    sim_state_delete(c->st, FID_MKEK_USER);
    sim_state_delete(c->st, FID_MKEK_SO);
    /* Without tag 81 on a PKA device the user PIN exists but never matches (2.1). */
    if ((t->pin != NULL || t->pka != NULL) &&
        card_set_pin(c, FID_USER_PIN, t->pin, t->pin ? t->pin_len : 0, user_retries, mkek) != 0)
        return SW_EXEC_ERROR;
    if (t->sopin != NULL &&
        card_set_pin(c, FID_SO_PIN, t->sopin, t->sopin_len, SO_PIN_RETRIES, mkek) != 0)
        return SW_EXEC_ERROR;
    if (t->pka != NULL) {
        uint8_t conf[3] = {t->pka[0] > MAX_PKA ? MAX_PKA : t->pka[0], 0, t->pka[1]};
        conf[1] = conf[0];
        if (sim_state_put(c->st, FID_PKA_CONF, conf, sizeof(conf)) != 0)
            return SW_EXEC_ERROR;
    }
    return init_domains(c, t->dkeks, t->kds, mkek);
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
    parse_init(a, &t);
    have_mkek = card_mkek(c, mkek) == SW_OK;
    if (!have_mkek && sim_random(mkek, sizeof(mkek)) != 0)
        return SW_EXEC_ERROR;

    sim_state_filter(c->st, keep_on_initialize);
    card_security_reset(c);
    c->applet_selected = 1;
    if (init_from(c, &t, mkek) != SW_OK)
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
    /* sc_hsm.c, after a successful VERIFY: save_dkek_key(pending_save_dkek) */
    uint8_t dom, mkek[32];
    sim_file *f;

    if (c->dkek_save_pending == 0)
        return;
    dom = (uint8_t)(c->dkek_save_pending - 1);
    c->dkek_save_pending = 0;
    f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    if (f == NULL || f->data.len != DKEK_LEN || card_mkek(c, mkek) != SW_OK)
        return;
    uint8_t dkek[32];
    memcpy(dkek, f->data.data, DKEK_LEN);
    dkek_seal_store(c, dom, dkek, mkek);
    OPENSSL_cleanse(dkek, sizeof(dkek));
    OPENSSL_cleanse(mkek, sizeof(mkek));
}

/* kek.c import_dkek_share: XOR into the file, in the clear. */
static uint16_t dkek_xor_share(sim_card *c, uint8_t dom, const uint8_t *share)
{
    sim_file *f = sim_state_find(c->st, (uint16_t)(FID_DKEK + dom));
    uint8_t acc[32] = {0};
    uint16_t sw = SW_OK;

    if (f != NULL && f->data.len == DKEK_LEN)
        memcpy(acc, f->data.data, DKEK_LEN);
    for (int i = 0; i < DKEK_LEN; i++)
        acc[i] ^= share[i];
    if (sim_state_put(c->st, (uint16_t)(FID_DKEK + dom), acc, DKEK_LEN) != 0)
        sw = SW_EXEC_ERROR;
    OPENSSL_cleanse(acc, sizeof(acc));
    return sw;
}

/* P1=00 with data: one more share; sealed once complete, or at the next VERIFY. */
static uint16_t domain_import(sim_card *c, const sim_apdu *a, uint8_t *e)
{
    uint8_t mkek[32];
    sim_file *f;

    if (a->nc < 32)
        return SW_WRONG_LENGTH;
    if (e[1] == e[0])
        return SW_NOT_ALLOWED;
    if (dkek_xor_share(c, a->p2, a->data) != SW_OK)
        return SW_EXEC_ERROR;
    if (++e[1] >= e[0]) {
        f = sim_state_find(c->st, (uint16_t)(FID_DKEK + a->p2));
        if (card_mkek(c, mkek) == SW_OK) {
            uint8_t dkek[32];
            memcpy(dkek, f->data.data, DKEK_LEN);
            dkek_seal_store(c, a->p2, dkek, mkek);
            OPENSSL_cleanse(dkek, sizeof(dkek));
            OPENSSL_cleanse(mkek, sizeof(mkek));
        } else if (!c->user_session && !c->so_session) {
            /* PICOKEYS_NO_LOGIN: in RAM only until the next VERIFY (field-notes.md) */
            c->dkek_save_pending = a->p2 + 1;
        }
    }
    return SW_OK;
}

/* A key whose metadata names the domain (tag 92): P1=03 refuses to delete it (6A89). */
static int domain_has_keys(sim_card *c, uint8_t dom)
{
    for (size_t i = 0; i < c->st->nfiles; i++) {
        const sim_file *k = &c->st->files[i];
        const uint8_t *v;
        size_t vl;
        if ((k->fid >> 8) == 0xCC &&
            sim_tlv_find(k->data.data, k->data.len, KREC_DOMAIN, &v, &vl) == 1 && vl == 1 &&
            v[0] == dom)
            return 1;
    }
    return 0;
}

/* P1=01 create, 03 delete, 04 forget (after the PIN-session check). */
static uint16_t domain_setup(sim_card *c, const sim_apdu *a, uint8_t *e)
{
    if (a->p1 == 0x01 && a->nc != 1)
        return SW_WRONG_LENGTH;
    if (a->p1 == 0x03 && domain_has_keys(c, a->p2))
        return SW_NOT_EMPTY;
    if (a->p1 == 0x01) {
        if (e[0] != 0xFF || e[1] != 0xFF)
            return SW_WRONG_P1P2;
        /* n shares to import; 0 is a domain without any DKEK (no random one) */
        e[0] = a->data[0];
        e[1] = 0;
    } else if (a->p1 == 0x03) {
        if (e[0] == 0xFF && e[1] == 0xFF)
            return SW_WRONG_P1P2;
        e[0] = e[1] = 0xFF;
    } else {
        e[1] = 0;
    }
    sim_state_delete(c->st, (uint16_t)(FID_DKEK + a->p2));
    return a->p1 == 0x03 ? SW_REF_NOT_FOUND : SW_OK;
}

/* cmd_key_domain.c, check for check and status word for status word. */
uint16_t cmd_key_domain(sim_card *c, const sim_apdu *a)
{
    int mutates = a->p1 == 0x01 || a->p1 == 0x03 || a->p1 == 0x04;
    sim_file *kd;
    uint8_t *e, total, done;
    uint16_t sw = SW_OK;

    if (mutates && (!c->user_session || !c->user_auth))
        return SW_CONDITIONS;
    if (a->p2 >= MAX_KEY_DOMAINS)
        return SW_WRONG_P1P2_ISO;
    if ((kd = sim_state_find(c->st, FID_KDOM)) == NULL)
        return SW_EXEC_ERROR;
    if (kd->data.len == 0)
        return SW_WRONG_P1P2_ISO;
    if ((e = kdom_entry(c, a->p2)) == NULL)
        return SW_WRONG_P1P2;
    if (a->p1 == 0x00 && a->nc > 0)
        sw = domain_import(c, a, e);
    else if (a->p1 == 0x00 && e[1] == 0xFF)
        sw = SW_REF_NOT_FOUND; /* not set up (an XKEK domain would answer) */
    else if (mutates)
        sw = domain_setup(c, a, e);
    else if (a->p1 == 0x02 && a->nc > 0)
        sw = SW_CONDITIONS; /* XKEK domains: no issuer key to verify the certificate with */
    else if (a->p1 > 0x04)
        sw = SW_WRONG_P1P2;
    if (sw != SW_OK)
        return sw;
    total = e[0];
    done = e[1];
    uint8_t r[10] = {total, (uint8_t)(total > done ? total - done : 0)};
    dkek_kcv(c, a->p2, r + 2);
    sim_bytes_set(&c->resp, r, sizeof(r));
    return SW_OK;
}

/* For WRAP and UNWRAP (card_wrap.c) */
int card_dkek_complete(sim_card *c, uint8_t dom)
{
    return dkek_complete(c, dom);
}

int card_dkek_load(sim_card *c, uint8_t dom, uint8_t dkek[32])
{
    return dkek_load(c, dom, dkek);
}
