/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WRAP, UNWRAP and key import on the device object (device_wrap.h).
 */
#include "device_wrap.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "device_int.h"
#include "keyblob.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"

void pico_wrapped_free(pico_wrapped *w)
{
    if (w == NULL)
        return;
    free(w->blob);
    free(w->prkd);
    free(w->cert);
    memset(w, 0, sizeof(*w));
}

static pico_err wrap_locked(pico_key *k, pico_wrapped *w)
{
    pico_device *d = k->dev;
    pico_err err;

    if (!d->logged_in)
        return pico_err_raise(PICO_E_NOT_LOGGED_IN, "wrap on %s: log in first", d->desc);
    if ((err = pico_schsm_wrap(d->card, k->keyref, &w->blob, &w->blob_len)) != PICO_OK)
        return err;
    /* the firmware wraps only a key with a description (cmd_key_wrap.c), so C4xx is there */
    if ((err = pico_schsm_read_file(d->card, (uint16_t)(PICO_PREFIX_PRKD << 8 | k->keyref),
                                    &w->prkd, &w->prkd_len)) != PICO_OK)
        return err;
    pico_err_mark(); /* a key may have no CExx */
    err = pico_schsm_read_file(d->card, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | k->keyref), &w->cert,
                               &w->cert_len);
    pico_err_pop_to_mark();
    if (err == PICO_E_NOT_FOUND) {
        free(w->cert);
        w->cert = NULL;
        w->cert_len = 0;
        err = PICO_OK;
    } else if (err != PICO_OK) {
        err = pico_err_raise(err, "key %u: its certificate could not be read", k->keyref);
    }
    return err;
}

pico_err pico_device_wrap(pico_key *k, pico_wrapped *w)
{
    pico_err err;

    memset(w, 0, sizeof(*w));
    if ((err = pico_dev_enter(k->dev)) != PICO_OK)
        return err;
    err = wrap_locked(k, w);
    pico_dev_leave(k->dev);
    if (err != PICO_OK)
        pico_wrapped_free(w);
    else
        pico_log("DEVICE", "wrapped key=%u blob=%zu bytes", k->keyref, w->blob_len);
    return err;
}

/* The description the new key gets: the file's (label replaced) or one built for it. */
static pico_err new_prkd(const pico_unwrap_spec *s, pico_prkd *p, int *rewrite)
{
    memset(p, 0, sizeof(*p));
    *rewrite = s->prkd == NULL || s->label != NULL;
    if (s->prkd != NULL && pico_prkd_decode(s->prkd, s->prkd_len, p) != 0)
        return pico_err_raise(PICO_E_FILE, "the key's description (prkd) is unreadable");
    if (s->label != NULL) {
        if (strlen(s->label) >= sizeof(p->label))
            return pico_err_raise(PICO_E_ARGS, "label too long");
        snprintf(p->label, sizeof(p->label), "%s", s->label);
    }
    if (p->label[0] == '\0')
        return pico_err_raise(PICO_E_ARGS, "the key has no label: give one");
    return PICO_OK;
}

/* The key as the device object lists it, once its files are written. */
static pico_err add_key(pico_device *d, uint8_t ref, const pico_prkd *p, EVP_PKEY *pub,
                        int cert_written, pico_key **key)
{
    pico_key *k = calloc(1, sizeof(*k)), **nk;

    if (k == NULL || (p->label[0] != '\0' && (k->label = strdup(p->label)) == NULL) ||
        (nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
        pico_dev_key_free(k);
        return pico_err_raise(PICO_E_NOMEM, "key list");
    }
    k->dev = d;
    k->keyref = ref;
    k->type = p->type != 0 ? p->type : PICO_KEY_RSA;
    k->bits = p->size;
    memcpy(k->id, p->id, p->id_len);
    k->id_len = p->id_len;
    memcpy(k->algid, p->algid, p->algid_len);
    k->algid_len = p->algid_len;
    k->desc_loaded = 1;
    if (!cert_written && EVP_PKEY_up_ref(pub)) { /* else read again, the certificate with it */
        k->pub = pub;
        k->pub_loaded = 1;
        if (p->type == PICO_KEY_EC)
            EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, k->curve,
                                           sizeof(k->curve), NULL);
    }
    d->keys = nk;
    d->keys[d->nkeys++] = k;
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_KEY << 8 | ref);
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_PRKD << 8 | ref);
    *key = k;
    return PICO_OK;
}

/* The device's type for a key OpenSSL holds (RSA when it is none of the table's). */
static pico_key_type key_type_of(const EVP_PKEY *pkey)
{
    const pico_key_type_info *t = pico_key_type_by_name(EVP_PKEY_get0_type_name(pkey));

    return t != NULL ? t->type : PICO_KEY_RSA;
}

/* After the UNWRAP: the device's new public key checked, the PrKD and certificate written. */
static pico_err after_unwrap(pico_device *d, uint8_t ref, const pico_unwrap_spec *s, pico_prkd *p,
                             int rewrite, pico_key **key)
{
    uint8_t *cv = NULL, der[512];
    size_t cv_len = 0, der_len = s->prkd_len;
    const uint8_t *prkd = s->prkd;
    EVP_PKEY *pub = NULL;
    char curve[32];
    int bits = 0;
    pico_err err;

    if ((err = pico_schsm_read_file(d->card, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | ref), &cv,
                                    &cv_len)) != PICO_OK ||
        (err = pico_cvc_public_key(cv, cv_len, &pub, curve, sizeof(curve), &bits)) != PICO_OK)
        goto end;
    if (s->expect != NULL && EVP_PKEY_eq(pub, s->expect) != 1) {
        err = pico_err_raise(PICO_E_DEVICE, "the device holds another public key than the one "
                                            "imported: key removed again");
        goto end;
    }
    if (p->id_len == 0 && (err = pico_dev_key_intrinsic_id(pub, p->id)) == PICO_OK)
        p->id_len = 20;
    if (err != PICO_OK ||
        (err = pico_dev_check_label_id(d, p->label, p->id, p->id_len, "")) != PICO_OK)
        goto end;
    p->type = key_type_of(pub);
    if (rewrite) {
        p->size = p->type == PICO_KEY_EC ? EVP_PKEY_get_bits(pub) : bits;
        if ((der_len = pico_prkd_encode(p, der, sizeof(der))) == 0) {
            err = pico_err_raise(PICO_E_ARGS, "label too long");
            goto end;
        }
        prkd = der;
    }
    if ((err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_PRKD << 8 | ref), prkd,
                                      der_len)) != PICO_OK ||
        (s->cert != NULL &&
         (err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | ref), s->cert,
                                       s->cert_len)) != PICO_OK))
        goto end;
    err = add_key(d, ref, p, pub, s->cert != NULL, key);
end:
    EVP_PKEY_free(pub);
    free(cv);
    return err;
}

pico_err pico_device_unwrap(pico_device *d, const pico_unwrap_spec *s, pico_key **key)
{
    pico_prkd p;
    unsigned ref;
    int rewrite, made = 0;
    pico_err err;

    *key = NULL;
    if ((err = new_prkd(s, &p, &rewrite)) != PICO_OK)
        return err;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if (!d->logged_in) {
        err = pico_err_raise(PICO_E_NOT_LOGGED_IN, "unwrap on %s: log in first", d->desc);
        goto end;
    }
    if ((err = pico_dev_check_label_id(d, p.label, p.id, p.id_len, "")) != PICO_OK)
        goto end;
    /* The first free reference from 1, as for generation; the firmware would replace a key */
    for (ref = 1; ref < 256 && pico_dev_has_fid(d, (uint16_t)(PICO_PREFIX_KEY << 8 | ref)); ref++)
        ;
    if (ref == 256 || d->nfids + 3 > MAX_FIDS) {
        err = pico_err_raise(PICO_E_DEVICE, "no free key reference on %s", d->desc);
        goto end;
    }
    err = s->use_ef ? pico_schsm_unwrap_ef(d->card, (uint8_t)ref, s->blob, s->blob_len)
                    : pico_schsm_unwrap(d->card, (uint8_t)ref, s->blob, s->blob_len);
    if (err != PICO_OK)
        goto end;
    made = 1;
    if ((err = after_unwrap(d, (uint8_t)ref, s, &p, rewrite, key)) == PICO_OK)
        pico_log("DEVICE", "unwrapped key=%u", ref);
end:
    if (err != PICO_OK && made) {
        /* No orphan: the key and the files the device and this call wrote go again */
        pico_err_mark();
        pico_err derr = pico_schsm_delete_key(d->card, (uint8_t)ref, NULL);
        pico_err_pop_to_mark();
        pico_log("DEVICE", "key=%u removed after the failed unwrap: %s", ref,
                 derr == PICO_OK ? "done" : pico_err_reason(derr));
    }
    pico_dev_leave(d);
    return err;
}

static void kcv_hex(const uint8_t kcv[8], char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", kcv[i]);
}

/* Before an import: a complete DKEK on the device with the shares' check value, in any key
 * domain (UNWRAP tries them all). The login opened a PIN session, without which the device
 * shows zeros: then the UNWRAP is left to tell. */
static pico_err check_dkek_locked(pico_device *d, const uint8_t kcv[8])
{
    static const uint8_t zeros[8];
    pico_dkek_info info;
    char want[17], have[17] = "";
    unsigned dom, complete = 0;
    int match = 0;
    pico_err err = PICO_OK;

    pico_err_mark(); /* domains not set up, or beyond the device's, are expected */
    for (dom = 0; dom <= PICO_DKEK_MAX_DOMAIN && !match; dom++) {
        err = pico_schsm_dkek_status(d->card, (uint8_t)dom, &info);
        if (err == PICO_E_NOT_FOUND)
            continue;
        if (err != PICO_OK)
            break;
        if (info.total == 0 || info.missing != 0)
            continue;
        complete++;
        match = memcmp(info.kcv, kcv, 8) == 0 || memcmp(info.kcv, zeros, 8) == 0;
        if (have[0] == '\0')
            kcv_hex(info.kcv, have);
    }
    pico_err_pop_to_mark();
    if (match)
        return PICO_OK;
    kcv_hex(kcv, want);
    if (complete == 0)
        return pico_err_raise(PICO_E_NOT_FOUND, "%s has no complete dkek: import its shares first",
                              d->desc);
    return pico_err_raise(PICO_E_ARGS,
                          "the dkek of the shares (check value %s) is not the device's (%s): "
                          "other share files?",
                          want, have);
}

static pico_err check_dkek(pico_device *d, const uint8_t dkek[32])
{
    uint8_t kcv[8];
    pico_err err;

    if ((err = pico_keyblob_kcv(dkek, kcv)) != PICO_OK || (err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = d->logged_in
              ? check_dkek_locked(d, kcv)
              : pico_err_raise(PICO_E_NOT_LOGGED_IN, "import on %s: log in first", d->desc);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_import(pico_device *d, EVP_PKEY *priv, const uint8_t dkek[32],
                            const char *label, const uint8_t *id, size_t id_len,
                            const uint8_t *cert, size_t cert_len, pico_key **key)
{
    pico_unwrap_spec s;
    uint8_t *blob = NULL, prkd[512], kcv[8];
    size_t blob_len = 0;
    pico_prkd p;
    pico_err err;

    *key = NULL;
    memset(&s, 0, sizeof(s));
    memset(&p, 0, sizeof(p));
    if (label == NULL || label[0] == '\0' || strlen(label) >= sizeof(p.label) ||
        id_len > sizeof(p.id))
        return pico_err_raise(PICO_E_ARGS, "import: a label (and an id up to 64 bytes)");
    if ((err = check_dkek(d, dkek)) != PICO_OK ||
        (err = pico_keyblob_build(dkek, priv, NULL, 0, &blob, &blob_len)) != PICO_OK)
        return err;
    s.blob = blob;
    s.blob_len = blob_len;
    s.label = label;
    s.cert = cert;
    s.cert_len = cert != NULL ? cert_len : 0;
    s.expect = priv;
    if (id_len > 0) { /* a PrKD that carries the ID; its label is replaced */
        snprintf(p.label, sizeof(p.label), "%s", label);
        memcpy(p.id, id, id_len);
        p.id_len = id_len;
        p.type = key_type_of(priv);
        p.size = EVP_PKEY_get_bits(priv);
        s.prkd = prkd;
        if ((s.prkd_len = pico_prkd_encode(&p, prkd, sizeof(prkd))) == 0) {
            err = pico_err_raise(PICO_E_ARGS, "label too long");
            goto end;
        }
    }
    err = pico_device_unwrap(d, &s, key);
    if (err == PICO_E_DEVICE && pico_keyblob_kcv(dkek, kcv) == PICO_OK)
        /* the usual cause: other shares than the device's; the KCV tells which */
        pico_err_raise(err,
                       "the dkek of the shares has the check value %02x%02x%02x%02x%02x%02x"
                       "%02x%02x: is it the device's (dkek status)?",
                       kcv[0], kcv[1], kcv[2], kcv[3], kcv[4], kcv[5], kcv[6], kcv[7]);
end:
    free(blob);
    return err;
}
