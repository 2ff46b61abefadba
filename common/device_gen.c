/* SPDX-License-Identifier: Apache-2.0 */
/*
 * New keys: the checks before any login (label, id) and generation with the rollback
 * of everything a failed generation wrote.
 */
#include "device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "device_int.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"

/* The check of pico_device_check_new_key, with the device entered. */
static pico_err check_new_key(pico_device *d, const pico_keygen *spec)
{
    size_t i;
    pico_err err;

    if (spec->label == NULL || spec->label[0] == '\0')
        return pico_err_raise(PICO_E_ARGS, "a key on the device needs a label (pico-label)");
    if ((err = pico_dev_list(d)) != PICO_OK)
        return err;
    for (i = 0; i < d->nkeys; i++) {
        pico_key *k = d->keys[i];
        if ((err = pico_dev_key_read_desc(k)) != PICO_OK)
            return err;
        if (k->label != NULL && strcmp(k->label, spec->label) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has the label '%s'", k->keyref,
                                  d->desc, spec->label);
        if (spec->id_len > 0 && k->id_len == spec->id_len &&
            memcmp(k->id, spec->id, spec->id_len) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has that id", k->keyref,
                                  d->desc);
    }
    return PICO_OK;
}

pico_err pico_device_check_new_key(pico_device *d, const pico_keygen *spec)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = check_new_key(d, spec);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_generate(pico_device *d, const pico_keygen *spec, pico_key **key)
{
    uint8_t *req = NULL, *cv = NULL, prkd_der[512], md[EVP_MAX_MD_SIZE];
    size_t req_len = 0, cv_len = 0, prkd_len, i;
    unsigned md_len = 0;
    pico_prkd prkd;
    pico_key *k = NULL, **nk;
    unsigned ref;
    int made = 0;
    pico_err err;

    *key = NULL;
    if (spec->algid_len > sizeof(prkd.algid)) /* before the device makes a key */
        return pico_err_raise(PICO_E_ARGS, "key restriction too long");
    if (spec->type != PICO_KEY_RSA && spec->type != PICO_KEY_EC)
        return pico_err_raise(PICO_E_UNSUPPORTED, "key type %d: not yet", (int)spec->type);
    if ((err = pico_cvc_keygen_request(spec->type == PICO_KEY_EC, spec->bits, spec->curve, &req,
                                       &req_len)) != PICO_OK)
        return err;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        goto out;
    if (!d->logged_in) {
        err = pico_err_raise(PICO_E_NOT_LOGGED_IN, "key generation on %s: log in first", d->desc);
        goto end;
    }
    if ((err = check_new_key(d, spec)) != PICO_OK)
        goto end;
    /* The first free reference from 1, as OpenSC picks it (6.5); 0 is the device key */
    for (ref = 1; ref < 256 && pico_dev_has_fid(d, (uint16_t)(PICO_PREFIX_KEY << 8 | ref)); ref++)
        ;
    if (ref == 256 || d->nfids + 3 > MAX_FIDS) {
        err = pico_err_raise(PICO_E_DEVICE, "no free key reference on %s", d->desc);
        goto end;
    }
    if ((err = pico_schsm_generate(d->card, (uint8_t)ref, req, req_len, &cv, &cv_len)) != PICO_OK)
        goto end;
    made = 1; /* from here, a failure deletes what the device made */
    if ((k = calloc(1, sizeof(*k))) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key");
        goto end;
    }
    k->dev = d;
    k->keyref = (uint8_t)ref;
    if ((err = pico_cvc_public_key(cv, cv_len, &k->pub, k->curve, sizeof(k->curve), &k->bits)) !=
        PICO_OK)
        goto end;
    k->type = spec->type;
    k->pub_loaded = 1;
    if (spec->type == PICO_KEY_EC && spec->curve != NULL && strcmp(k->curve, spec->curve) != 0) {
        /* field-notes.md: some requests make no key or another curve; check what was made */
        err = pico_err_raise(PICO_E_DEVICE, "asked for %s, the device made %s", spec->curve,
                             k->curve);
        goto end;
    }
    /* The PrKD the host is expected to write (6.4): label and ID. Default ID: SHA-1 of
     * the public key, as OpenSC derives it. */
    memset(&prkd, 0, sizeof(prkd));
    prkd.is_ec = spec->type == PICO_KEY_EC;
    prkd.size = spec->type == PICO_KEY_EC ? EVP_PKEY_get_bits(k->pub) : k->bits;
    if (spec->label != NULL)
        snprintf(prkd.label, sizeof(prkd.label), "%s", spec->label);
    if (spec->id_len > 0 && spec->id_len <= sizeof(prkd.id)) {
        memcpy(prkd.id, spec->id, spec->id_len);
        prkd.id_len = spec->id_len;
    } else {
        uint8_t *spki = NULL;
        const char *propq;
        OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
        EVP_MD *sha1 = EVP_MD_fetch(libctx, "SHA1", propq);
        int n = i2d_PUBKEY(k->pub, &spki);
        if (n <= 0 || sha1 == NULL || !EVP_Digest(spki, (size_t)n, md, &md_len, sha1, NULL)) {
            OPENSSL_free(spki);
            EVP_MD_free(sha1);
            err = pico_err_raise(PICO_E_INTERNAL, "key id");
            goto end;
        }
        OPENSSL_free(spki);
        EVP_MD_free(sha1);
        memcpy(prkd.id, md, md_len);
        prkd.id_len = md_len;
    }
    if (spec->algid_len > 0)
        memcpy(prkd.algid, spec->algid, spec->algid_len);
    prkd.algid_len = spec->algid_len;
    prkd_len = pico_prkd_encode(&prkd, prkd_der, sizeof(prkd_der));
    if (prkd_len == 0) {
        err = pico_err_raise(PICO_E_ARGS, "label too long");
        goto end;
    }
    if ((err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_PRKD << 8 | ref), prkd_der,
                                      prkd_len)) != PICO_OK)
        goto end;
    if (prkd.label[0] != '\0')
        k->label = strdup(prkd.label);
    memcpy(k->id, prkd.id, prkd.id_len);
    k->id_len = prkd.id_len;
    memcpy(k->algid, prkd.algid, prkd.algid_len);
    k->algid_len = prkd.algid_len;
    k->bits = prkd.size;
    k->desc_loaded = 1;
    if ((nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key list");
        goto end;
    }
    d->keys = nk;
    d->keys[d->nkeys++] = k;
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_KEY << 8 | ref);
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_PRKD << 8 | ref);
    pico_log("DEVICE", "generated key=%u type=%s bits=%d", ref,
             spec->type == PICO_KEY_EC ? "EC" : "RSA", k->bits);
    *key = k;
    k = NULL;
end:
    if (err != PICO_OK && made) {
        /* No orphan: the key, and its description and request if written, go again.
         * The first error stays the one reported */
        pico_err_quiet_push();
        pico_err derr = pico_schsm_delete_key(d->card, (uint8_t)ref, NULL);
        pico_err_quiet_pop();
        pico_log("DEVICE", "key=%u removed after the failed generation: %s", ref,
                 derr == PICO_OK ? "done" : pico_err_reason(derr));
    }
    pico_dev_leave(d);
out:
    for (i = 0; i < sizeof(md); i++)
        md[i] = 0;
    pico_dev_key_free(k);
    free(req);
    free(cv);
    return err;
}

int pico_device_supports(pico_device *d, pico_key_type t)
{
    (void)d;
    return t == PICO_KEY_RSA || t == PICO_KEY_EC; /* keytype API stub */
}
