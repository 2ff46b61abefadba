/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the device holds, read once and kept: its key references, each key's PrKD and
 * public part, and the certificates stored without a key.
 */
#include "device.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "device_int.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"

void pico_dev_key_free(pico_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pub);
    X509_free(k->cert);
    free(k->label);
    free(k);
}

void pico_dev_certs_free(pico_device *d)
{
    size_t i;

    for (i = 0; i < d->ncerts; i++) {
        X509_free(d->certs[i]->x509);
        free(d->certs[i]->label);
        free(d->certs[i]);
    }
    free(d->certs);
    d->certs = NULL;
    d->ncerts = 0;
    d->certs_read = 0;
}

/* ENUMERATE once per process; the key objects for every CCxx except the device key. */
pico_err pico_dev_list(pico_device *d)
{
    size_t i, n = MAX_FIDS;
    pico_err err;

    if (d->listed)
        return PICO_OK;
    if ((err = pico_schsm_list(d->card, d->fids, &n)) != PICO_OK)
        return err;
    d->nfids = n;
    for (i = 0; i < n; i++) {
        pico_key *k, **nk;
        /* 6.1: CC00 is the device key; never a user key */
        if ((d->fids[i] >> 8) != PICO_PREFIX_KEY || (d->fids[i] & 0xFF) == 0)
            continue;
        if ((k = calloc(1, sizeof(*k))) == NULL ||
            (nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
            free(k);
            return pico_err_raise(PICO_E_NOMEM, "key list");
        }
        k->dev = d;
        k->keyref = (uint8_t)d->fids[i];
        d->keys = nk;
        d->keys[d->nkeys++] = k;
    }
    d->listed = 1;
    return PICO_OK;
}

int pico_dev_has_fid(const pico_device *d, uint16_t fid)
{
    size_t i;

    for (i = 0; i < d->nfids; i++)
        if (d->fids[i] == fid)
            return 1;
    return 0;
}

/* The table's row for a public key's OpenSSL type; NULL for none. */
static const pico_key_type_info *key_type_of(EVP_PKEY *pub)
{
    const pico_key_type_info *t;

    for (t = pico_key_types; t->type != 0; t++)
        if (EVP_PKEY_is_a(pub, t->name))
            return t;
    return NULL;
}

/* CExx: a CV request from key generation, or an X.509 certificate a host stored (6.6). */
static pico_err key_read_public(pico_key *k)
{
    const pico_key_type_info *t;
    uint8_t *data = NULL;
    size_t len = 0;
    int bits = 0;
    pico_err err;

    if (k->pub_loaded)
        return PICO_OK;
    err = pico_schsm_read_file(k->dev->card, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | k->keyref),
                               &data, &len);
    if (err != PICO_OK)
        goto end;
    if (len > 0 && data[0] == 0x30) {
        const uint8_t *p = data;
        k->cert = d2i_X509(NULL, &p, (long)len);
        if (k->cert == NULL || (k->pub = X509_get_pubkey(k->cert)) == NULL) {
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "key %u: unreadable certificate", k->keyref);
            goto end;
        }
        if (EVP_PKEY_is_a(k->pub, "EC")) {
            size_t gl = 0;
            EVP_PKEY_get_utf8_string_param(k->pub, "group", k->curve, sizeof(k->curve), &gl);
        }
        bits = EVP_PKEY_get_bits(k->pub);
    } else {
        err = pico_cvc_public_key(data, len, &k->pub, k->curve, sizeof(k->curve), &bits);
        if (err != PICO_OK)
            goto end;
    }
    /* A key another tool described with a plain EC PrKD (no ecDomain, keytype.c) is whatever
     * its public key says. Written only when it changes: other threads read the type of a
     * described key without the device lock */
    if ((t = key_type_of(k->pub)) != NULL && (k->type == 0 || k->type == PICO_KEY_EC) &&
        k->type != t->type) {
        if (t->bits != 0)
            k->bits = t->bits;
        k->type = t->type;
    }
    if (k->type == 0)
        k->type = PICO_KEY_RSA;
    if (k->bits == 0)
        k->bits = bits;
    k->pub_loaded = 1;
end:
    free(data);
    return err;
}

pico_err pico_dev_key_read_public(pico_key *k)
{
    return key_read_public(k);
}

/* The sizes a PrKD gives the curves of 6.3: the field bits (OpenSC, this host) or the bytes
 * times 8 (the firmware's default: 528 for P-521). */
static int weierstrass_size(int size)
{
    return size == 0 || size == 192 || size == 256 || size == 384 || size == 512 || size == 521 ||
           size == 528;
}

/* C4xx: label, ID, type and size; without a PrKD the public key tells the type. */
pico_err pico_dev_key_read_desc(pico_key *k)
{
    uint16_t fid = (uint16_t)(PICO_PREFIX_PRKD << 8 | k->keyref);
    uint8_t *data = NULL;
    size_t len = 0;
    pico_prkd prkd;
    int unsure = 0;
    pico_err err = PICO_OK;

    if (k->desc_loaded)
        return PICO_OK;
    if (pico_dev_has_fid(k->dev, fid)) {
        err = pico_schsm_read_file(k->dev->card, fid, &data, &len);
        if (err == PICO_OK && pico_prkd_decode(data, len, &prkd) == 0) {
            const pico_key_type_info *t = pico_key_type_info_of(prkd.type);
            k->type = prkd.type;
            /* a plain EC description of a size no Weierstrass curve of the device has (the
             * firmware's own for X448, Ed448: 448, 456): the public key tells the type */
            if (k->type == PICO_KEY_EC && !weierstrass_size(prkd.size))
                k->type = 0, unsure = 1;
            /* the fixed-size types as OpenSSL counts them (X25519 253), not the PrKD's bytes */
            k->bits = t != NULL && t->bits != 0 ? t->bits : prkd.size;
            if (prkd.label[0] != '\0' && (k->label = strdup(prkd.label)) == NULL)
                err = pico_err_raise(PICO_E_NOMEM, "key label");
            memcpy(k->id, prkd.id, prkd.id_len);
            k->id_len = prkd.id_len;
            memcpy(k->algid, prkd.algid, prkd.algid_len);
            k->algid_len = prkd.algid_len;
        }
        free(data);
        if (err != PICO_OK)
            return err;
    }
    if (unsure) {
        /* without its public key it stays what its description says */
        pico_err_mark();
        if (key_read_public(k) != PICO_OK)
            k->type = PICO_KEY_EC;
        pico_err_pop_to_mark();
    } else if (k->type == 0 || k->bits == 0) {
        if ((err = key_read_public(k)) != PICO_OK)
            return err;
    }
    k->desc_loaded = 1;
    return PICO_OK;
}

pico_err pico_device_keys(pico_device *d, pico_key ***keys, size_t *count)
{
    size_t i;
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = pico_dev_list(d);
    for (i = 0; err == PICO_OK && i < d->nkeys; i++)
        err = pico_dev_key_read_desc(d->keys[i]);
    pico_dev_leave(d);
    *keys = d->keys;
    *count = err == PICO_OK ? d->nkeys : 0;
    return err;
}

static int key_matches(const pico_key *k, const pico_uri *uri)
{
    if (uri->object != NULL && (k->label == NULL || strcmp(k->label, uri->object) != 0))
        return 0;
    if (uri->id_len > 0 && (k->id_len != uri->id_len || memcmp(k->id, uri->id, k->id_len) != 0))
        return 0;
    return 1;
}

pico_err pico_device_find_key(pico_device *d, const pico_uri *uri, pico_key **key)
{
    size_t i;
    pico_err err;

    *key = NULL;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    /* Descriptions are read one by one up to the first match: a process signing with
     * one key reads one PrKD, whatever else the device holds */
    err = pico_dev_list(d);
    for (i = 0; err == PICO_OK && i < d->nkeys; i++) {
        if ((err = pico_dev_key_read_desc(d->keys[i])) == PICO_OK && key_matches(d->keys[i], uri)) {
            *key = d->keys[i];
            break;
        }
    }
    pico_dev_leave(d);
    if (err == PICO_OK && *key == NULL)
        err = PICO_E_NOT_FOUND; /* not raised: the caller may look on other devices */
    return err;
}

struct find_any {
    const pico_uri *uri;
    pico_key *key;
    pico_err err;
};

static int find_any_cb(void *arg, pico_device *dev)
{
    struct find_any *f = arg;
    pico_err err;

    pico_err_mark();
    err = pico_device_find_key(dev, f->uri, &f->key);
    pico_err_pop_to_mark();
    if (err != PICO_OK && err != PICO_E_NOT_FOUND && f->err == PICO_OK)
        f->err = err;
    return err == PICO_OK;
}

pico_err pico_device_find_key_any(const pico_uri *uri, const pico_config *cfg, pico_key **key)
{
    struct find_any f = {uri, NULL, PICO_OK};
    pico_err err = pico_device_foreach(uri, cfg, find_any_cb, &f);

    *key = f.key;
    if (err != PICO_OK || f.key != NULL)
        return err;
    if (f.err != PICO_OK)
        return pico_err_raise(f.err, "looking for the key");
    return PICO_E_NOT_FOUND;
}

pico_err pico_device_key_public(pico_key *k, EVP_PKEY **pub)
{
    pico_err err = PICO_OK;
    int loaded;

    *pub = NULL;
    /* Read under the lock: another thread may be reading it from the device. The lock
     * alone, not pico_dev_enter: a key already read costs no PC/SC transaction */
    pthread_mutex_lock(&k->dev->lock);
    loaded = k->pub_loaded;
    pthread_mutex_unlock(&k->dev->lock);
    if (!loaded) {
        if ((err = pico_dev_enter(k->dev)) != PICO_OK)
            return err;
        err = key_read_public(k);
        pico_dev_leave(k->dev);
    }
    if (err == PICO_OK)
        *pub = k->pub;
    return err;
}

/* C8xx descriptions and the CAxx each points to (6.1): certificates stored without a key. */
static pico_err dev_read_certs(pico_device *d)
{
    size_t i;
    pico_err err = PICO_OK;

    if (d->certs_read)
        return PICO_OK;
    for (i = 0; err == PICO_OK && i < d->nfids; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        const uint8_t *p;
        pico_cd cd;
        pico_cert *c = NULL, **nc;
        uint16_t fid;
        X509 *x = NULL;

        if ((d->fids[i] >> 8) != PICO_PREFIX_CD)
            continue;
        if ((err = pico_schsm_read_file(d->card, d->fids[i], &data, &len)) != PICO_OK)
            break;
        if (pico_cd_decode(data, len, &cd) != 0) {
            /* OpenSC skips a description it cannot read, and so do we */
            pico_log("DEVICE", "skip %04X: not a certificate description", d->fids[i]);
            free(data);
            continue;
        }
        free(data);
        data = NULL;
        /* the path names the CAxx; OpenSC's is CA<same byte> */
        fid = (cd.fid >> 8) == PICO_PREFIX_CA_CERT
                  ? cd.fid
                  : (uint16_t)(PICO_PREFIX_CA_CERT << 8 | (d->fids[i] & 0xFF));
        /* ENUMERATE does not list CAxx on a Pico (6.5): a missing one shows as 6A82 */
        pico_err_mark();
        err = pico_schsm_read_file(d->card, fid, &data, &len);
        pico_err_pop_to_mark();
        if (err == PICO_E_NOT_FOUND) {
            pico_log("DEVICE", "skip %04X: %04X not found", d->fids[i], fid);
            err = PICO_OK;
            continue;
        }
        if (err != PICO_OK) {
            err = pico_err_raise(err, "certificate %04X on %s", fid, d->desc);
            break;
        }
        p = data;
        x = d2i_X509(NULL, &p, (long)len);
        free(data);
        if (x == NULL) {
            pico_log("DEVICE", "skip %04X: %04X holds no X.509 certificate", d->fids[i], fid);
            continue;
        }
        if ((c = calloc(1, sizeof(*c))) == NULL ||
            (cd.label[0] != '\0' && (c->label = strdup(cd.label)) == NULL) ||
            (nc = realloc(d->certs, (d->ncerts + 1) * sizeof(*nc))) == NULL) {
            if (c != NULL)
                free(c->label);
            free(c);
            X509_free(x);
            err = pico_err_raise(PICO_E_NOMEM, "certificate list");
            break;
        }
        c->dev = d;
        c->fid = fid;
        memcpy(c->id, cd.id, cd.id_len);
        c->id_len = cd.id_len;
        c->authority = cd.authority;
        c->x509 = x;
        d->certs = nc;
        d->certs[d->ncerts++] = c;
    }
    if (err == PICO_OK)
        d->certs_read = 1;
    else
        pico_dev_certs_free(d);
    return err;
}

pico_err pico_device_certs(pico_device *d, pico_cert ***certs, size_t *count)
{
    pico_err err;

    *certs = NULL;
    *count = 0;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = pico_dev_list(d)) == PICO_OK)
        err = dev_read_certs(d);
    pico_dev_leave(d);
    if (err == PICO_OK) {
        *certs = d->certs;
        *count = d->ncerts;
    }
    return err;
}

/* The public key bytes OpenSC's intrinsic ID hashes: the RSA modulus, an EC point's x, the
 * raw key of X25519/X448/Ed25519/Ed448. *n 0: none. */
static void intrinsic_bytes(EVP_PKEY *pub, uint8_t *buf, size_t cap, size_t *n)
{
    BIGNUM *m = NULL;

    *n = 0;
    if (EVP_PKEY_is_a(pub, "RSA")) {
        if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &m) && (size_t)BN_num_bytes(m) <= cap)
            *n = (size_t)BN_bn2bin(m, buf);
        BN_free(m);
    } else if (EVP_PKEY_is_a(pub, "EC")) {
        if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, buf, cap, n) && *n >= 3 &&
            buf[0] == 0x04) {
            memmove(buf, buf + 1, (*n - 1) / 2);
            *n = (*n - 1) / 2;
        } else {
            *n = 0;
        }
    } else {
        *n = cap;
        if (EVP_PKEY_get_raw_public_key(pub, buf, n) != 1)
            *n = 0;
    }
}

pico_err pico_dev_key_intrinsic_id(EVP_PKEY *pub, uint8_t id[20])
{
    const char *propq;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    EVP_MD *sha1 = EVP_MD_fetch(libctx, "SHA1", propq);
    uint8_t buf[1 + 2 * 66 + 512];
    size_t n;
    unsigned md_len = 0;
    pico_err err = PICO_OK;

    intrinsic_bytes(pub, buf, sizeof(buf), &n);
    if (n == 0 || sha1 == NULL || !EVP_Digest(buf, n, id, &md_len, sha1, NULL) || md_len != 20)
        err = pico_err_raise(PICO_E_INTERNAL, "key id");
    EVP_MD_free(sha1);
    return err;
}

pico_err pico_dev_check_label_id(pico_device *d, const char *label, const uint8_t *id,
                                 size_t id_len, const char *label_hint)
{
    pico_err err;
    size_t i;

    if (label == NULL || label[0] == '\0')
        return pico_err_raise(PICO_E_ARGS, "a key on the device needs a label%s", label_hint);
    if ((err = pico_dev_list(d)) != PICO_OK)
        return err;
    for (i = 0; i < d->nkeys; i++) {
        pico_key *k = d->keys[i];
        if ((err = pico_dev_key_read_desc(k)) != PICO_OK)
            return err;
        if (k->label != NULL && strcmp(k->label, label) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has the label '%s'", k->keyref,
                                  d->desc, label);
        if (id_len > 0 && k->id_len == id_len && memcmp(k->id, id, id_len) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has that id", k->keyref,
                                  d->desc);
    }
    return PICO_OK;
}
