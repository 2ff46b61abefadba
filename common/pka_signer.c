/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKA signers (pka_signer.h). libp11 0.4.12 hands out legacy EVP_PKEYs whose
 * RSA / EC_KEY methods call the token: only the deprecated ECDSA_do_sign and
 * RSA_sign reach those methods, hence the deprecation switch below.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "pka_signer.h"

#include <errno.h>
#include <libp11.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "schsm.h"
#include "secret.h"
#include "uri.h"

#ifndef P11KIT_PROXY
#define P11KIT_PROXY "p11-kit-proxy.so"
#endif

/* Keys and algorithms come from OpenSSL's default provider only: the pico provider may be
 * loaded in this process, and it must never be asked to decode or sign for its own login. */
#define PKA_PROPQ "provider=default"
#define PKA_SECRET_MAX 256

/* PKCS#11 v2.40 return values behind libp11's errors (ERR reason = CKR). */
#define PKA_CKR_PIN_INCORRECT 0xA0UL
#define PKA_CKR_PIN_INVALID 0xA1UL
#define PKA_CKR_PIN_LEN_RANGE 0xA2UL
#define PKA_CKR_PIN_LOCKED 0xA4UL
#define PKA_CKR_USER_NOT_LOGGED_IN 0x101UL

typedef enum pka_kind { PKA_FILE, PKA_PKCS11, PKA_PICO } pka_kind;

typedef struct p11_module p11_module;

struct pico_pka_signer {
    pka_kind kind;
    char *name;         /* spec without its query */
    EVP_PKEY *pub;      /* a default-provider copy of the public key */
    int is_ec;          /* else RSA */
    size_t half;        /* EC: field length in bytes (r and s each); RSA: modulus length */
    EVP_PKEY *priv;     /* file: the key; pkcs11: libp11's key (methods that call the token) */
    p11_module *module; /* pkcs11: */
    pico_key *key;      /* pico: the key, owned by its device */
};

static pico_err sha256(const uint8_t *msg, size_t len, uint8_t h[32])
{
    size_t hlen = 0;

    if (!EVP_Q_digest(NULL, "SHA256", "?" PKA_PROPQ, msg, len, h, &hlen) || hlen != 32)
        return pico_err_raise(PICO_E_INTERNAL, "sha-256");
    return PICO_OK;
}

/* A public-only copy of key owned by the default provider (libp11 and device keys included). */
static pico_err pub_copy(const char *name, EVP_PKEY *key, EVP_PKEY **out)
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

/* Sets is_ec and half from the public key: 5.6 pads r and s to the field length. */
static pico_err key_shape(pico_pka_signer *s)
{
    uint8_t pt[2 * 66 + 1 + 64];
    size_t len = 0;

    if (EVP_PKEY_is_a(s->pub, "RSA")) {
        s->is_ec = 0;
        s->half = (size_t)EVP_PKEY_get_size(s->pub);
        return PICO_OK;
    }
    if (!EVP_PKEY_is_a(s->pub, "EC"))
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: a pka key is an EC or RSA key, not %s",
                              s->name, EVP_PKEY_get0_type_name(s->pub));
    s->is_ec = 1;
    /* The encoded point gives the field length for named and explicit curves alike */
    if (!EVP_PKEY_get_octet_string_param(s->pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
                                         &len) ||
        len < 3)
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: unreadable ec public key", s->name);
    s->half = pt[0] == 0x04 ? (len - 1) / 2 : len - 1;
    return PICO_OK;
}

/* r || s, each left-padded to half bytes (5.6: the card splits the data in two). */
static pico_err ecdsa_plain(const pico_pka_signer *s, const ECDSA_SIG *sig, uint8_t *out,
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
    err = ecdsa_plain(s, sig, out, out_len);
    ECDSA_SIG_free(sig);
    return err;
}

/*
 * The signer's own secret, first found wins: a value its spec holds, a source its spec
 * names, the caller's pin_source, then a person at the prompt (*asked set).
 */
static pico_err get_secret(const pico_pka_signer *s, const char *value, const char *source,
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
        fp->err = get_secret(fp->s, NULL, NULL, fp->pin_source, fp->prompt, info, fp->pass,
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
        err = pico_err_raise(e == ENOENT ? PICO_E_NOT_FOUND : PICO_E_ARGS, "%s: %s", s->name,
                             strerror(e));
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
        err = pub_copy(s->name, s->priv, &s->pub);
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
    size_t n = s->is_ec ? sizeof(der) : *sig_len;
    int ok;

    ERR_set_mark();
    ok = mctx != NULL &&
         EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, "?" PKA_PROPQ, s->priv, NULL) &&
         EVP_DigestSign(mctx, s->is_ec ? der : sig, &n, msg, len);
    ERR_pop_to_mark();
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return pico_err_raise(PICO_E_INTERNAL, "%s: signing failed", s->name);
    if (s->is_ec)
        return ecdsa_der_plain(s, der, n, sig, sig_len);
    *sig_len = n;
    return PICO_OK;
}

/* ---------------------------------------------------------------- pkcs11: */

/*
 * RFC 7512 attributes. Values are percent-decoded; id= is bytes as the RFC has it
 * (id=%01, not id=01). x- vendor attributes are ignored, any other is refused.
 */
enum p11_attr {
    P11_TOKEN,
    P11_MANUFACTURER,
    P11_MODEL,
    P11_SERIAL,
    P11_SLOT_ID,
    P11_SLOT_DESCRIPTION,
    P11_SLOT_MANUFACTURER,
    P11_LIBRARY_MANUFACTURER,
    P11_LIBRARY_DESCRIPTION,
    P11_OBJECT,
    P11_ID,
    P11_TYPE,
    P11_PIN_VALUE,
    P11_PIN_SOURCE,
    P11_MODULE_NAME,
    P11_MODULE_PATH,
    P11_NATTRS
};

static const struct {
    const char *name;
    int in_query;
} p11_attrs[P11_NATTRS] = {
    [P11_TOKEN] = {"token", 0},
    [P11_MANUFACTURER] = {"manufacturer", 0},
    [P11_MODEL] = {"model", 0},
    [P11_SERIAL] = {"serial", 0},
    [P11_SLOT_ID] = {"slot-id", 0},
    [P11_SLOT_DESCRIPTION] = {"slot-description", 0},
    [P11_SLOT_MANUFACTURER] = {"slot-manufacturer", 0},
    [P11_LIBRARY_MANUFACTURER] = {"library-manufacturer", 0},
    [P11_LIBRARY_DESCRIPTION] = {"library-description", 0},
    [P11_OBJECT] = {"object", 0},
    [P11_ID] = {"id", 0},
    [P11_TYPE] = {"type", 0},
    [P11_PIN_VALUE] = {"pin-value", 1},
    [P11_PIN_SOURCE] = {"pin-source", 1},
    [P11_MODULE_NAME] = {"module-name", 1},
    [P11_MODULE_PATH] = {"module-path", 1},
};

typedef struct p11_uri {
    char *v[P11_NATTRS]; /* NUL-terminated; NULL when absent */
    size_t len[P11_NATTRS];
} p11_uri;

static void p11_uri_free(p11_uri *u)
{
    int i;

    for (i = 0; i < P11_NATTRS; i++)
        OPENSSL_clear_free(u->v[i], u->len[i] + 1);
    memset(u, 0, sizeof(*u));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 7512 2.3 pchar / qchar, percent-decoded; '/' is taken in the path too. NULL: bad. */
static char *pct_decode(const char *p, size_t n, int in_query, size_t *out_len)
{
    const char *extra = in_query ? "-._~:[]@!$'()*+,=/?|" : "-._~:[]@!$'()*+,=/&";
    char *buf = malloc(n + 1);
    size_t i, k = 0;

    if (buf == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(p[i + 1]) : -1, lo = i + 2 < n ? hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                goto bad;
            buf[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != '\0' && strchr(extra, c) != NULL)) {
            buf[k++] = (char)c;
        } else {
            goto bad;
        }
    }
    buf[k] = '\0';
    *out_len = k;
    return buf;
bad:
    OPENSSL_clear_free(buf, n + 1);
    return NULL;
}

/* One part of a pkcs11: URI (path, or query). Messages name attributes, never values. */
static pico_err p11_parse_part(const char *p, size_t n, int in_query, p11_uri *u)
{
    const char *end = p + n, *part = in_query ? "query" : "path";
    unsigned idx = 0;

    if (n == 0)
        return PICO_OK;
    for (;;) {
        const char *next = memchr(p, in_query ? '&' : ';', (size_t)(end - p));
        const char *eq;
        size_t name_len, dec_len;
        char *dec;
        int a;

        if (next == NULL)
            next = end;
        idx++;
        eq = memchr(p, '=', (size_t)(next - p));
        if (eq == NULL || eq == p)
            return pico_err_raise(PICO_E_URI, "pkcs11 uri: %s attribute %u is not name=value", part,
                                  idx);
        name_len = (size_t)(eq - p);
        for (a = 0; a < P11_NATTRS; a++)
            if (strlen(p11_attrs[a].name) == name_len &&
                memcmp(p11_attrs[a].name, p, name_len) == 0)
                break;
        if (a == P11_NATTRS && (name_len < 3 || strncmp(p, "x-", 2) != 0))
            return pico_err_raise(PICO_E_URI, "pkcs11 uri: unknown attribute '%.*s'", (int)name_len,
                                  p);
        if (a < P11_NATTRS) {
            const char *name = p11_attrs[a].name;
            if (p11_attrs[a].in_query != in_query)
                return pico_err_raise(PICO_E_URI, "pkcs11 uri: %s belongs in the %s", name,
                                      in_query ? "path (before '?')" : "query (after '?')");
            if (u->v[a] != NULL)
                return pico_err_raise(PICO_E_URI, "pkcs11 uri: %s given twice", name);
            if (eq + 1 == next)
                return pico_err_raise(PICO_E_URI, "pkcs11 uri: %s has no value", name);
            dec = pct_decode(eq + 1, (size_t)(next - eq - 1), in_query, &dec_len);
            if (dec == NULL)
                return pico_err_raise(PICO_E_URI,
                                      "pkcs11 uri: bad percent-encoding or character in %s", name);
            u->v[a] = dec;
            u->len[a] = dec_len;
            if (a != P11_ID && strlen(dec) != dec_len)
                return pico_err_raise(PICO_E_URI, "pkcs11 uri: %s holds a NUL byte", name);
        }
        if (next == end)
            return PICO_OK;
        p = next + 1;
    }
}

static pico_err p11_uri_parse(const char *spec, p11_uri *u)
{
    const char *path = spec + strlen("pkcs11:"), *q = strchr(path, '?');
    const char *sid = NULL;
    pico_err err;

    if ((err = p11_parse_part(path, q != NULL ? (size_t)(q - path) : strlen(path), 0, u)) !=
            PICO_OK ||
        (q != NULL && (err = p11_parse_part(q + 1, strlen(q + 1), 1, u)) != PICO_OK))
        return err;
    if ((sid = u->v[P11_SLOT_ID]) != NULL &&
        (strspn(sid, "0123456789") != strlen(sid) || strlen(sid) > 19))
        return pico_err_raise(PICO_E_URI, "pkcs11 uri: slot-id is a decimal number");
    if (u->v[P11_TYPE] != NULL && strcmp(u->v[P11_TYPE], "private") != 0)
        return pico_err_raise(PICO_E_URI, "pkcs11 uri: a pka key is a private key (type=private)");
    if (u->v[P11_MODULE_NAME] != NULL)
        return pico_err_raise(PICO_E_URI, "pkcs11 uri: module-name is not supported: give "
                                          "module-path, or neither for p11-kit's modules");
    return PICO_OK;
}

/*
 * One PKCS11_CTX and one slot list per module per process, shared by the signers on it. A
 * module keeps one state per application: one signer's PKCS11_CTX_unload (C_Finalize) would
 * end every other signer's sessions, and libp11 closes all sessions of a slot
 * (C_CloseAllSessions, which logs the token out) when its slot object goes, so two signers
 * on one token (m-of-n) share the slot too. The list is read when the module is loaded.
 */
struct p11_module {
    p11_module *next;
    char *path;
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    int loaded;
    unsigned refs;
};

static void p11_module_free(p11_module *m)
{
    if (m->slots != NULL)
        PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
    if (m->loaded)
        PKCS11_CTX_unload(m->ctx);
    if (m->ctx != NULL)
        PKCS11_CTX_free(m->ctx);
    free(m->path);
    free(m);
}

static p11_module *p11_modules;
static pthread_mutex_t p11_lock = PTHREAD_MUTEX_INITIALIZER;

static pico_err p11_module_get(const char *name, const char *path, p11_module **out)
{
    p11_module *m;
    pico_err err = PICO_OK;
    int rc;

    pthread_mutex_lock(&p11_lock);
    for (m = p11_modules; m != NULL; m = m->next)
        if (strcmp(m->path, path) == 0)
            break;
    if (m != NULL) {
        m->refs++;
        goto end;
    }
    if ((m = calloc(1, sizeof(*m))) == NULL || (m->path = strdup(path)) == NULL ||
        (m->ctx = PKCS11_CTX_new()) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "pkcs#11 context");
        goto end;
    }
    /* libp11 prints dlopen's complaint on stderr: a missing file is reported here instead */
    if (strchr(path, '/') != NULL && access(path, R_OK) != 0) {
        err = pico_err_raise(PICO_E_NOT_FOUND, "%s: pkcs#11 module %s: %s", name, path,
                             strerror(errno));
        goto end;
    }
    ERR_set_mark();
    m->loaded = PKCS11_CTX_load(m->ctx, path) == 0;
    rc = m->loaded ? PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) : -1;
    ERR_pop_to_mark();
    if (!m->loaded) {
        err = pico_err_raise(PICO_E_NOT_FOUND, "%s: cannot load the pkcs#11 module %s", name, path);
        goto end;
    }
    if (rc < 0) {
        err = pico_err_raise(PICO_E_DEVICE, "%s: cannot list the slots of %s", name, path);
        goto end;
    }
    pico_log("PKA", "LOAD module=%s library='%s'", path,
             m->ctx->description != NULL ? m->ctx->description : "");
    m->refs = 1;
    m->next = p11_modules;
    p11_modules = m;
end:
    if (err != PICO_OK && m != NULL) {
        p11_module_free(m);
        m = NULL;
    }
    pthread_mutex_unlock(&p11_lock);
    *out = m;
    return err;
}

static void p11_module_put(p11_module *m)
{
    p11_module **pp;

    pthread_mutex_lock(&p11_lock);
    if (--m->refs == 0) {
        for (pp = &p11_modules; *pp != m; pp = &(*pp)->next)
            ;
        *pp = m->next;
        p11_module_free(m);
    }
    pthread_mutex_unlock(&p11_lock);
}

/* The CKR code of libp11's latest error, 0 when the latest error is not one. */
static unsigned long p11_ckr(void)
{
    unsigned long e = ERR_peek_last_error();

    return e != 0 && ERR_GET_LIB(e) == ERR_get_CKR_code() ? (unsigned long)ERR_GET_REASON(e) : 0;
}

static int p11_eq(const char *want, const char *have)
{
    return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

static int p11_slot_matches(const p11_uri *u, PKCS11_SLOT *slot)
{
    const PKCS11_TOKEN *t = slot->token;

    if (t == NULL || !t->initialized)
        return 0;
    if (u->v[P11_SLOT_ID] != NULL &&
        strtoul(u->v[P11_SLOT_ID], NULL, 10) != PKCS11_get_slotid_from_slot(slot))
        return 0;
    return p11_eq(u->v[P11_TOKEN], t->label) && p11_eq(u->v[P11_MANUFACTURER], t->manufacturer) &&
           p11_eq(u->v[P11_MODEL], t->model) && p11_eq(u->v[P11_SERIAL], t->serialnr) &&
           p11_eq(u->v[P11_SLOT_DESCRIPTION], slot->description) &&
           p11_eq(u->v[P11_SLOT_MANUFACTURER], slot->manufacturer);
}

static int p11_key_matches(const p11_uri *u, const PKCS11_KEY *k)
{
    if (!p11_eq(u->v[P11_OBJECT], k->label))
        return 0;
    return u->v[P11_ID] == NULL ||
           (k->id_len == u->len[P11_ID] && memcmp(k->id, u->v[P11_ID], k->id_len) == 0);
}

static pico_err p11_login(const pico_pka_signer *s, const p11_uri *u, PKCS11_SLOT *slot,
                          const char *pin_source, const pico_pin_prompt *prompt)
{
    const PKCS11_TOKEN *t = slot->token;
    char pin[PKA_SECRET_MAX], info[512];
    unsigned long ckr = 0;
    int in = 0, asked = 0, rc;
    pico_err err = PICO_OK;

    if (!t->loginRequired)
        return PICO_OK;
    ERR_set_mark();
    rc = PKCS11_is_logged_in(slot, 0, &in);
    ERR_pop_to_mark();
    if (rc == 0 && in)
        return PICO_OK;
    if (t->userPinLocked)
        return pico_err_raise(PICO_E_PIN_BLOCKED, "%s: the user pin of token '%s' is locked",
                              s->name, t->label);
    pin[0] = '\0';
    if (!t->secureLogin) {
        snprintf(info, sizeof(info), "PIN for PKCS#11 token '%s' (PKA key %s)%s", t->label, s->name,
                 t->userPinFinalTry ? ", the last try: a wrong PIN locks it" : "");
        err = get_secret(s, u->v[P11_PIN_VALUE], u->v[P11_PIN_SOURCE], pin_source, prompt, info,
                         pin, sizeof(pin), &asked);
        if (err != PICO_OK)
            goto end;
        /* As for the device PIN: the last try is spent only by a person who was told so */
        if (t->userPinFinalTry && !asked) {
            err = pico_err_raise(PICO_E_PIN_LAST_TRY,
                                 "%s: token '%s' has one pin try left: enter it at the prompt",
                                 s->name, t->label);
            goto end;
        }
    }
    ERR_set_mark();
    rc = PKCS11_login(slot, 0, t->secureLogin ? NULL : pin);
    ckr = rc != 0 ? p11_ckr() : 0;
    ERR_pop_to_mark();
    if (rc == 0)
        pico_log("PKA", "LOGIN token='%s'", t->label);
    else if (ckr == PKA_CKR_PIN_INCORRECT || ckr == PKA_CKR_PIN_INVALID ||
             ckr == PKA_CKR_PIN_LEN_RANGE)
        err = pico_err_raise(PICO_E_PIN_INCORRECT, "%s: token '%s' refused the pin", s->name,
                             t->label);
    else if (ckr == PKA_CKR_PIN_LOCKED)
        err = pico_err_raise(PICO_E_PIN_BLOCKED, "%s: the user pin of token '%s' is locked",
                             s->name, t->label);
    else
        err = pico_err_raise(PICO_E_DEVICE, "%s: login on token '%s' failed (CKR 0x%lX)", s->name,
                             t->label, ckr);
end:
    OPENSSL_cleanse(pin, sizeof(pin));
    return err;
}

static pico_err p11_open(pico_pka_signer *s, const char *spec, const char *pin_source,
                         const pico_pin_prompt *prompt)
{
    p11_uri u;
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slot = NULL;
    PKCS11_KEY *keys = NULL, *key = NULL;
    unsigned int i, nkeys = 0, nmatch = 0;
    const char *module;
    pico_err err;
    int rc;

    memset(&u, 0, sizeof(u));
    if ((err = p11_uri_parse(spec, &u)) != PICO_OK)
        goto end;
    module = u.v[P11_MODULE_PATH] != NULL ? u.v[P11_MODULE_PATH] : P11KIT_PROXY;
    if ((err = p11_module_get(s->name, module, &s->module)) != PICO_OK)
        goto end;
    ctx = s->module->ctx;
    if (!p11_eq(u.v[P11_LIBRARY_MANUFACTURER], ctx->manufacturer) ||
        !p11_eq(u.v[P11_LIBRARY_DESCRIPTION], ctx->description)) {
        err = pico_err_raise(PICO_E_NOT_FOUND, "%s: module %s is another library", s->name, module);
        goto end;
    }
    for (i = 0; i < s->module->nslots; i++) {
        if (p11_slot_matches(&u, &s->module->slots[i])) {
            slot = slot != NULL ? slot : &s->module->slots[i];
            nmatch++;
        }
    }
    /* Never guess between tokens: the PIN would go to whichever came first */
    if (nmatch != 1) {
        err = nmatch == 0
                  ? pico_err_raise(PICO_E_NOT_FOUND,
                                   "%s: no initialized token matches (%u slots in %s)", s->name,
                                   s->module->nslots, module)
                  : pico_err_raise(PICO_E_ARGS,
                                   "%s: %u tokens match: name one with token= or serial=", s->name,
                                   nmatch);
        goto end;
    }
    if ((err = p11_login(s, &u, slot, pin_source, prompt)) != PICO_OK)
        goto end;
    ERR_set_mark();
    rc = PKCS11_enumerate_keys(slot->token, &keys, &nkeys);
    ERR_pop_to_mark();
    if (rc < 0) {
        err = pico_err_raise(PICO_E_DEVICE, "%s: cannot list the keys of token '%s'", s->name,
                             slot->token->label);
        goto end;
    }
    for (i = 0, nmatch = 0; i < nkeys; i++) {
        if (p11_key_matches(&u, &keys[i])) {
            key = key != NULL ? key : &keys[i];
            nmatch++;
        }
    }
    if (nmatch != 1) {
        err = nmatch == 0
                  ? pico_err_raise(PICO_E_NOT_FOUND, "%s: no such private key on token '%s'",
                                   s->name, slot->token->label)
                  : pico_err_raise(PICO_E_ARGS,
                                   "%s: %u private keys match on token '%s': name one "
                                   "with object= or id=",
                                   s->name, nmatch, slot->token->label);
        goto end;
    }
    /* The public half from libp11's private key, which holds n, e or the EC point (read from
     * the token's public key or certificate): PKCS11_get_public_key of libp11 0.4.12 leaks
     * the slot it came from, and with it a copy of the PIN. */
    ERR_set_mark();
    s->priv = PKCS11_get_private_key(key);
    ERR_pop_to_mark();
    if (s->priv == NULL) {
        err = pico_err_raise(PICO_E_UNSUPPORTED, "%s: libp11 cannot use this key", s->name);
        goto end;
    }
    pico_err_quiet_push();
    err = pub_copy(s->name, s->priv, &s->pub);
    pico_err_quiet_pop();
    if (err != PICO_OK)
        err = pico_err_raise(err, "%s: no public key or certificate with its id on token '%s'",
                             s->name, slot->token->label);
end:
    p11_uri_free(&u);
    return err;
}

static pico_err p11_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                         size_t *sig_len)
{
    uint8_t h[32];
    ECDSA_SIG *es = NULL;
    EC_KEY *ec = NULL;
    RSA *rsa = NULL;
    unsigned int n = 0;
    unsigned long ckr;
    pico_err err;
    int ok;

    if ((err = sha256(msg, len, h)) != PICO_OK)
        return err;
    /* EC: CKM_ECDSA over H (libp11's EC_KEY method); RSA: CKM_RSA_PKCS over
     * DigestInfo(SHA-256, H), which RSA_sign builds before libp11's priv_enc */
    ERR_set_mark();
    if (s->is_ec)
        ok = (ec = EVP_PKEY_get1_EC_KEY(s->priv)) != NULL &&
             (es = ECDSA_do_sign(h, sizeof(h), ec)) != NULL;
    else
        ok = (rsa = EVP_PKEY_get1_RSA(s->priv)) != NULL &&
             RSA_sign(NID_sha256, h, sizeof(h), sig, &n, rsa) == 1;
    ckr = ok ? 0 : p11_ckr();
    ERR_pop_to_mark();
    if (!ok)
        err =
            pico_err_raise(ckr == PKA_CKR_USER_NOT_LOGGED_IN ? PICO_E_NOT_LOGGED_IN : PICO_E_DEVICE,
                           "%s: the token did not sign (CKR 0x%lX)", s->name, ckr);
    else if (s->is_ec)
        err = ecdsa_plain(s, es, sig, sig_len);
    else
        *sig_len = n;
    ECDSA_SIG_free(es);
    EC_KEY_free(ec);
    RSA_free(rsa);
    return err;
}

/* ---------------------------------------------------------------- pico: */

struct pico_find {
    const pico_uri *uri;
    pico_key *key;
    pico_err err;
};

static int pico_find_cb(void *arg, pico_device *dev)
{
    struct pico_find *f = arg;
    pico_err err;

    pico_err_quiet_push();
    err = pico_device_find_key(dev, f->uri, &f->key);
    pico_err_quiet_pop();
    if (err != PICO_OK && err != PICO_E_NOT_FOUND && f->err == PICO_OK)
        f->err = err;
    return err == PICO_OK;
}

static pico_err pico_open(pico_pka_signer *s, const char *spec, const char *pin_source,
                          const pico_pin_prompt *prompt)
{
    pico_uri uri;
    struct pico_find f = {&uri, NULL, PICO_OK};
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
    if ((err = pico_device_foreach(&uri, pico_find_cb, &f)) != PICO_OK)
        goto end;
    if (f.key == NULL) {
        err = f.err != PICO_OK ? pico_err_raise(f.err, "%s: looking for the key", s->name)
                               : pico_err_raise(PICO_E_NOT_FOUND, "%s: no such key", s->name);
        goto end;
    }
    /* The other device's own PIN: its URI first, then the signer's pin_source */
    if (uri.pin_value == NULL && uri.pin_source == NULL && pin_source != NULL &&
        (uri.pin_source = strdup(pin_source)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "%s", s->name);
        goto end;
    }
    if ((err = pico_device_login(f.key->dev, &uri, NULL, prompt)) != PICO_OK ||
        (err = pico_device_key_public(f.key, &pub)) != PICO_OK ||
        (err = pub_copy(s->name, pub, &s->pub)) != PICO_OK)
        goto end;
    s->key = f.key;
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

    if ((err = sha256(msg, len, h)) != PICO_OK)
        return err;
    if (s->is_ec) {
        if ((err = pico_device_sign(s->key, PICO_ALG_ECDSA, h, sizeof(h), out, &n)) != PICO_OK)
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
    if ((err = pico_device_sign(s->key, PICO_ALG_RSA_RAW, em, k, out, &n)) != PICO_OK)
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
            err = p11_open(s, spec, pin_source, prompt);
        } else if (pico_uri_is_pico(spec)) {
            s->kind = PKA_PICO;
            err = pico_open(s, spec, pin_source, prompt);
        } else {
            /* not echoed: it may be a secret given in the wrong place */
            err = pico_err_raise(PICO_E_URI, "a pka key is file:PATH, pkcs11:... or pico:...");
        }
    }
    if (err == PICO_OK)
        err = key_shape(s);
    if (err != PICO_OK) {
        pico_pka_signer_free(s);
        return err;
    }
    pico_log("PKA", "OPEN %s %s %zu-byte %s", s->name, s->is_ec ? "ec" : "rsa", s->half,
             s->is_ec ? "field" : "modulus");
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
    if (*sig_len < (s->is_ec ? 2 * s->half : s->half))
        return pico_err_raise(PICO_E_ARGS, "%s: signature buffer of %zu bytes, %zu needed", s->name,
                              *sig_len, s->is_ec ? 2 * s->half : s->half);
    switch (s->kind) {
    case PKA_FILE:
        err = file_sign(s, msg, len, sig, sig_len);
        break;
    case PKA_PKCS11:
        err = p11_sign(s, msg, len, sig, sig_len);
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
    if (s->module != NULL)
        p11_module_put(s->module);
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
    err = sha256(der, (size_t)len, h);
    OPENSSL_free(der);
    if (err != PICO_OK)
        return err;
    /* "PK", 9 hex digits, "00001": 16 characters, the same length for every key (5.2) */
    snprintf(chr, 17, "PK%02X%02X%02X%02X%X00001", h[0], h[1], h[2], h[3], h[4] >> 4);
    return PICO_OK;
}
