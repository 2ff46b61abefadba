/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKA signers (pka_signer.h): the signer, its file: and pico: kinds and the helpers all
 * kinds share. The pkcs11: kind is pka_pkcs11.c.
 */

#include "pka_signer_int.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "log.h"
#include "schsm.h"
#include "secret.h"
#include "uri.h"

pico_err pka_sha256(const uint8_t *msg, size_t len, uint8_t h[32])
{
    size_t hlen = 0;

    if (!EVP_Q_digest(NULL, "SHA256", "?" PKA_PROPQ, msg, len, h, &hlen) || hlen != 32)
        return pico_err_raise(PICO_E_INTERNAL, "sha-256");
    return PICO_OK;
}

/* A public-only copy of key owned by the default provider (libp11 and device keys included). */
pico_err pka_pub_copy(const char *name, EVP_PKEY *key, EVP_PKEY **out)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len;

    ERR_set_mark();
    len = i2d_PUBKEY(key, &der);
    p = der;
    *out = len > 0 ? d2i_PUBKEY_ex(NULL, &p, len, NULL, PKA_PROPQ) : NULL;
    ERR_pop_to_mark();
    OPENSSL_free(der);
    if (*out == NULL)
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: cannot read its public key", name);
    return PICO_OK;
}

/* Sets type and half from the public key: 5.6 pads r and s to the field length. */
static pico_err key_shape(pico_pka_signer *s)
{
    uint8_t pt[2 * 66 + 1 + 64];
    size_t len = 0;

    if (EVP_PKEY_is_a(s->pub, "RSA")) {
        s->type = PICO_KEY_RSA;
        s->half = (size_t)EVP_PKEY_get_size(s->pub);
        return PICO_OK;
    }
    if (!EVP_PKEY_is_a(s->pub, "EC"))
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: a pka key is an EC or RSA key, not %s",
                              s->name, EVP_PKEY_get0_type_name(s->pub));
    s->type = PICO_KEY_EC;
    /* The encoded point gives the field length for named and explicit curves alike */
    if (!EVP_PKEY_get_octet_string_param(s->pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
                                         &len) ||
        len < 3)
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: unreadable ec public key", s->name);
    s->half = pt[0] == 0x04 ? (len - 1) / 2 : len - 1;
    return PICO_OK;
}

/* r || s, each left-padded to half bytes (5.6: the card splits the data in two). */
pico_err pka_ecdsa_plain(const pico_pka_signer *s, const ECDSA_SIG *sig, uint8_t *out,
                         size_t *out_len)
{
    const BIGNUM *r, *sv;

    ECDSA_SIG_get0(sig, &r, &sv);
    if (BN_bn2binpad(r, out, (int)s->half) < 0 || BN_bn2binpad(sv, out + s->half, (int)s->half) < 0)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: ecdsa signature longer than the field",
                              s->name);
    *out_len = 2 * s->half;
    return PICO_OK;
}

static pico_err ecdsa_der_plain(const pico_pka_signer *s, const uint8_t *der, size_t der_len,
                                uint8_t *out, size_t *out_len)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    pico_err err;

    if (sig == NULL || p != der + der_len) {
        ECDSA_SIG_free(sig);
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: malformed ecdsa signature", s->name);
    }
    err = pka_ecdsa_plain(s, sig, out, out_len);
    ECDSA_SIG_free(sig);
    return err;
}

/*
 * The signer's own secret, first found wins: a value its spec holds, a source its spec
 * names, the caller's pin_source, then a person at the prompt (*asked set).
 */
pico_err pka_get_secret(const pico_pka_signer *s, const char *value, const char *source,
                        const char *pin_source, const pico_pin_prompt *prompt, const char *info,
                        char *buf, size_t cap, int *asked)
{
    size_t len;
    pico_err err;

    *asked = 0;
    if (value != NULL) {
        len = strlen(value);
        if (len + 1 > cap)
            return pico_err_raise(PICO_E_ARGS, "%s: pin-value too long", s->name);
        memcpy(buf, value, len + 1);
        return PICO_OK;
    }
    if (source == NULL)
        source = pin_source;
    if (source != NULL && source[0] == '/') {
        /* RFC 7512 pin-source: a file name is as good as a file: URI */
        char *src = malloc(strlen(source) + 6);
        if (src == NULL)
            return pico_err_raise(PICO_E_NOMEM, "pin source");
        sprintf(src, "file:%s", source);
        err = pico_secret_read(src, buf, cap, &len);
        free(src);
        return err;
    }
    if (source != NULL)
        return pico_secret_read(source, buf, cap, &len);
    if (prompt == NULL || prompt->ask == NULL)
        return pico_err_raise(PICO_E_PIN_REQUIRED, "%s: give its pin-source or pin-value", s->name);
    if (!prompt->ask(prompt->arg, info, buf, cap))
        return pico_err_raise(PICO_E_PIN_REQUIRED, "%s: nothing entered", s->name);
    *asked = 1;
    return PICO_OK;
}

/* ---------------------------------------------------------------- file: */

struct file_pass {
    const pico_pka_signer *s;
    const char *pin_source;
    const pico_pin_prompt *prompt;
    char pass[PKA_SECRET_MAX];
    int have, asked;
    pico_err err;
};

/* Called by the decoder only for an encrypted PEM: the passphrase is read at most once. */
static int file_pass_cb(char *pass, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
    struct file_pass *fp = arg;
    char info[512];
    size_t n;

    if (!fp->have) {
        if (fp->err != PICO_OK)
            return 0;
        snprintf(info, sizeof(info), "Passphrase for PKA key %s", fp->s->name);
        fp->err = pka_get_secret(fp->s, NULL, NULL, fp->pin_source, fp->prompt, info, fp->pass,
                                 sizeof(fp->pass), &fp->asked);
        if (fp->err != PICO_OK)
            return 0;
        fp->have = 1;
    }
    n = strlen(fp->pass);
    if (n > size)
        return 0;
    memcpy(pass, fp->pass, n);
    *len = n;
    return 1;
}

static pico_err file_open(pico_pka_signer *s, const char *path, const char *pin_source,
                          const pico_pin_prompt *prompt)
{
    struct file_pass fp = {s, pin_source, prompt, "", 0, 0, PICO_OK};
    OSSL_DECODER_CTX *dctx = NULL;
    BIO *bio = NULL;
    pico_err err = PICO_OK;
    int ok = 0;

    ERR_set_mark();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        int e = errno;
        ERR_pop_to_mark();
        err = pico_err_raise(PICO_E_FILE, "%s: %s", s->name, strerror(e));
        goto end;
    }
    dctx = OSSL_DECODER_CTX_new_for_pkey(&s->priv, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL,
                                         PKA_PROPQ);
    if (dctx != NULL && OSSL_DECODER_CTX_set_passphrase_cb(dctx, file_pass_cb, &fp))
        ok = OSSL_DECODER_from_bio(dctx, bio) && s->priv != NULL;
    ERR_pop_to_mark();
    if (dctx == NULL)
        err = pico_err_raise(PICO_E_NOMEM, "%s: pem decoder", s->name);
    else if (!ok && fp.err != PICO_OK)
        err = fp.err;
    else if (!ok && fp.have)
        err = pico_err_raise(PICO_E_PIN_INCORRECT, "%s: wrong passphrase", s->name);
    else if (!ok)
        err = pico_err_raise(PICO_E_ARGS, "%s: no ec or rsa private key in pem form", s->name);
    if (err == PICO_OK)
        err = pka_pub_copy(s->name, s->priv, &s->pub);
end:
    OPENSSL_cleanse(fp.pass, sizeof(fp.pass));
    OSSL_DECODER_CTX_free(dctx);
    BIO_free(bio);
    return err;
}

static pico_err file_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                          size_t *sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    uint8_t der[256];
    size_t n = s->type == PICO_KEY_EC ? sizeof(der) : *sig_len;
    int ok;

    ERR_set_mark();
    ok = mctx != NULL &&
         EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, "?" PKA_PROPQ, s->priv, NULL) &&
         EVP_DigestSign(mctx, s->type == PICO_KEY_EC ? der : sig, &n, msg, len);
    ERR_pop_to_mark();
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return pico_err_raise(PICO_E_INTERNAL, "%s: signing failed", s->name);
    if (s->type == PICO_KEY_EC)
        return ecdsa_der_plain(s, der, n, sig, sig_len);
    *sig_len = n;
    return PICO_OK;
}

/* ---------------------------------------------------------------- pico: */

static pico_err pico_open(pico_pka_signer *s, const char *spec, const char *pin_source,
                          const pico_pin_prompt *prompt)
{
    pico_uri uri;
    pico_key *key = NULL;
    const char *at = NULL;
    EVP_PKEY *pub = NULL;
    pico_uri_err rc;
    pico_err err;

    memset(&uri, 0, sizeof(uri));
    if ((rc = pico_uri_parse(spec, &uri, &at)) != PICO_URI_OK) {
        err =
            pico_err_raise(PICO_E_URI, "pico uri of a pka key: %s at '%.*s'", pico_uri_strerror(rc),
                           at != NULL ? (int)pico_uri_attr_name_len(at) : 0, at != NULL ? at : "");
        goto end;
    }
    if (uri.object == NULL && uri.id_len == 0) {
        err = pico_err_raise(PICO_E_URI, "%s: name the key with object= or id=", s->name);
        goto end;
    }
    if (uri.type != PICO_OBJ_ANY && uri.type != PICO_OBJ_PRIVATE) {
        err = pico_err_raise(PICO_E_URI, "%s: a pka key is a private key (type=private)", s->name);
        goto end;
    }
    if ((err = pico_device_find_key_any(&uri, &key)) != PICO_OK) {
        if (err == PICO_E_NOT_FOUND)
            pico_err_raise(err, "%s: no such key", s->name);
        goto end;
    }
    /* The other device's own PIN: its URI first, then the signer's pin_source */
    if (uri.pin_value == NULL && uri.pin_source == NULL && pin_source != NULL &&
        (uri.pin_source = strdup(pin_source)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "%s", s->name);
        goto end;
    }
    if ((err = pico_device_login_uri(key->dev, &uri, prompt)) != PICO_OK ||
        (err = pico_device_key_public(key, &pub)) != PICO_OK ||
        (err = pka_pub_copy(s->name, pub, &s->pub)) != PICO_OK)
        goto end;
    s->key = key;
end:
    pico_uri_free(&uri);
    return err;
}

/* DigestInfo(SHA-256) prefix, RFC 8017 9.2 note 1 */
static const uint8_t sha256_info[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

static pico_err pico_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                          size_t *sig_len)
{
    uint8_t h[32], em[512], out[512];
    size_t n = sizeof(out), k = s->half, t = sizeof(sha256_info) + sizeof(h);
    pico_err err;

    if ((err = pka_sha256(msg, len, h)) != PICO_OK)
        return err;
    if (s->type == PICO_KEY_EC) {
        if ((err = pico_device_key_op(s->key, PICO_MECH_ECDSA, h, sizeof(h), out, &n)) != PICO_OK)
            return err;
        return ecdsa_der_plain(s, out, n, sig, sig_len);
    }
    if (k > sizeof(em) || k < t + 11)
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: rsa modulus of %zu bytes", s->name, k);
    /* EMSA-PKCS1-v1_5 (RFC 8017 9.2) here, the raw RSA operation (0x20) on the device */
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xFF, k - t - 3);
    em[k - t - 1] = 0x00;
    memcpy(em + k - t, sha256_info, sizeof(sha256_info));
    memcpy(em + k - sizeof(h), h, sizeof(h));
    if ((err = pico_device_key_op(s->key, PICO_MECH_RSA_RAW, em, k, out, &n)) != PICO_OK)
        return err;
    if (n > k)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: %zu-byte rsa signature", s->name, n);
    memset(sig, 0, k - n);
    memcpy(sig + k - n, out, n);
    *sig_len = k;
    return PICO_OK;
}

/* ---------------------------------------------------------------- the signer */

pico_err pico_pka_signer_open(const char *spec, const char *pin_source,
                              const pico_pin_prompt *prompt, pico_pka_signer **out)
{
    pico_pka_signer *s = NULL;
    pico_err err;

    if (out != NULL)
        *out = NULL;
    if (spec == NULL || out == NULL)
        return pico_err_raise(PICO_E_ARGS, "pka signer: no key named");
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->name = strdup(spec)) == NULL) {
        free(s);
        return pico_err_raise(PICO_E_NOMEM, "pka signer");
    }
    if (strncasecmp(spec, "file:", 5) == 0) {
        s->kind = PKA_FILE;
        err = spec[5] != '\0' ? file_open(s, spec + 5, pin_source, prompt)
                              : pico_err_raise(PICO_E_ARGS, "pka key file: names no file");
    } else {
        /* The query holds secrets (pin-value): never part of the name */
        s->name[strcspn(s->name, "?")] = '\0';
        if (strncasecmp(spec, "pkcs11:", 7) == 0) {
            s->kind = PKA_PKCS11;
            err = pka_p11_open(s, spec, pin_source, prompt);
        } else if (pico_uri_is_pico(spec)) {
            s->kind = PKA_PICO;
            err = pico_open(s, spec, pin_source, prompt);
        } else {
            /* not echoed: it may be a secret given in the wrong place */
            err = pico_err_raise(PICO_E_ARGS, "a pka key is file:PATH, pkcs11:... or pico:...");
        }
    }
    if (err == PICO_OK)
        err = key_shape(s);
    if (err != PICO_OK) {
        pico_pka_signer_free(s);
        return err;
    }
    pico_log("PKA", "OPEN %s %s %zu-byte %s", s->name, s->type == PICO_KEY_EC ? "ec" : "rsa",
             s->half, s->type == PICO_KEY_EC ? "field" : "modulus");
    *out = s;
    return PICO_OK;
}

EVP_PKEY *pico_pka_signer_public(pico_pka_signer *s)
{
    return s != NULL ? s->pub : NULL;
}

const char *pico_pka_signer_name(const pico_pka_signer *s)
{
    return s != NULL ? s->name : NULL;
}

pico_err pico_pka_signer_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                              size_t *sig_len)
{
    double t0 = pico_log_now_ms();
    pico_err err;

    if (s == NULL || (msg == NULL && len > 0) || sig == NULL || sig_len == NULL)
        return pico_err_raise(PICO_E_ARGS, "pka sign");
    /* checked before the key is used: a token or device signature is not spent for nothing */
    if (*sig_len < (s->type == PICO_KEY_EC ? 2 * s->half : s->half))
        return pico_err_raise(PICO_E_ARGS, "%s: signature buffer of %zu bytes, %zu needed", s->name,
                              *sig_len, s->type == PICO_KEY_EC ? 2 * s->half : s->half);
    switch (s->kind) {
    case PKA_FILE:
        err = file_sign(s, msg, len, sig, sig_len);
        break;
    case PKA_PKCS11:
        err = pka_p11_sign(s, msg, len, sig, sig_len);
        break;
    default:
        err = pico_sign(s, msg, len, sig, sig_len);
        break;
    }
    if (err == PICO_OK)
        pico_log("PKA", "SIGN %s len=%zu sig=%zu %.2fms", s->name, len, *sig_len,
                 pico_log_now_ms() - t0);
    return err;
}

void pico_pka_signer_free(pico_pka_signer *s)
{
    if (s == NULL)
        return;
    EVP_PKEY_free(s->pub);
    /* libp11's key calls into its module when freed: before the module goes */
    EVP_PKEY_free(s->priv);
    pka_p11_release(s);
    free(s->name);
    free(s);
}

pico_err pico_pka_chr(EVP_PKEY *pub, char chr[17])
{
    unsigned char *der = NULL;
    uint8_t h[32];
    pico_err err;
    int len;

    if (pub == NULL || chr == NULL)
        return pico_err_raise(PICO_E_ARGS, "pka chr: no key");
    ERR_set_mark();
    len = i2d_PUBKEY(pub, &der);
    ERR_pop_to_mark();
    if (len <= 0)
        return pico_err_raise(PICO_E_UNSUPPORTED, "pka chr: cannot encode the public key");
    err = pka_sha256(der, (size_t)len, h);
    OPENSSL_free(der);
    if (err != PICO_OK)
        return err;
    /* "PK", 9 hex digits, "00001": 16 characters, the same length for every key (5.2) */
    snprintf(chr, 17, "PK%02X%02X%02X%02X%X00001", h[0], h[1], h[2], h[3], h[4] >> 4);
    return PICO_OK;
}
