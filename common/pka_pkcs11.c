/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pkcs11: PKA signer (pka_signer.h). libp11 0.4.12 hands out legacy EVP_PKEYs whose
 * RSA / EC_KEY methods call the token: only the deprecated ECDSA_do_sign and
 * RSA_sign reach those methods, hence the deprecation switch below.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "pka_signer_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#ifndef P11KIT_PROXY
#define P11KIT_PROXY "p11-kit-proxy.so"
#endif

/* PKCS#11 v2.40 return values behind libp11's errors (ERR reason = CKR). */
#define PKA_CKR_PIN_INCORRECT 0xA0UL
#define PKA_CKR_PIN_INVALID 0xA1UL
#define PKA_CKR_PIN_LEN_RANGE 0xA2UL
#define PKA_CKR_PIN_LOCKED 0xA4UL
#define PKA_CKR_USER_NOT_LOGGED_IN 0x101UL

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

/* RFC 7512 2.3 pchar / qchar; '/' is taken in the path too */
#define P11_PATH_PLAIN "-._~:[]@!$'()*+,=/&"
#define P11_QUERY_PLAIN "-._~:[]@!$'()*+,=/?|"

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
            return pico_err_raise(PICO_E_PKCS11_URI,
                                  "pkcs11 uri: %s attribute %u is not name=value", part, idx);
        name_len = (size_t)(eq - p);
        for (a = 0; a < P11_NATTRS; a++)
            if (strlen(p11_attrs[a].name) == name_len &&
                memcmp(p11_attrs[a].name, p, name_len) == 0)
                break;
        if (a == P11_NATTRS && (name_len < 3 || strncmp(p, "x-", 2) != 0))
            return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: unknown attribute '%.*s'",
                                  (int)name_len, p);
        if (a < P11_NATTRS) {
            const char *name = p11_attrs[a].name;
            if (p11_attrs[a].in_query != in_query)
                return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: %s belongs in the %s", name,
                                      in_query ? "path (before '?')" : "query (after '?')");
            if (u->v[a] != NULL)
                return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: %s given twice", name);
            if (eq + 1 == next)
                return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: %s has no value", name);
            if (pico_pct_decode(eq + 1, (size_t)(next - eq - 1),
                                in_query ? P11_QUERY_PLAIN : P11_PATH_PLAIN, &dec, &dec_len) != 0)
                dec = NULL;
            if (dec == NULL)
                return pico_err_raise(PICO_E_PKCS11_URI,
                                      "pkcs11 uri: bad percent-encoding or character in %s", name);
            u->v[a] = dec;
            u->len[a] = dec_len;
            if (a != P11_ID && strlen(dec) != dec_len)
                return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: %s holds a NUL byte", name);
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
        return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: slot-id is a decimal number");
    if (u->v[P11_TYPE] != NULL && strcmp(u->v[P11_TYPE], "private") != 0)
        return pico_err_raise(PICO_E_PKCS11_URI,
                              "pkcs11 uri: a pka key is a private key (type=private)");
    if (u->v[P11_MODULE_NAME] != NULL)
        return pico_err_raise(PICO_E_PKCS11_URI, "pkcs11 uri: module-name is not supported: give "
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
static unsigned p11_loaded; /* modules initialised, ever */
static pthread_mutex_t p11_lock = PTHREAD_MUTEX_INITIALIZER;

unsigned pico_pka_p11_modules_loaded(void)
{
    unsigned n;

    pthread_mutex_lock(&p11_lock);
    n = p11_loaded;
    pthread_mutex_unlock(&p11_lock);
    return n;
}

/* In a build with --enable-sanitizers a PKCS#11 module stays mapped after libp11 unloads
 * it: LeakSanitizer looks at the stacks at exit, and those of an unmapped module have no
 * names, so test/lsan.supp could not tell a module's own leaks from this project's. */
static void p11_keep_mapped(const char *path)
{
#ifdef PICO_SANITIZERS
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

    if (h != NULL)
        dlclose(h);
#else
    (void)path;
#endif
}

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
    p11_keep_mapped(path);
    pico_err_mark();
    m->loaded = PKCS11_CTX_load(m->ctx, path) == 0;
    rc = m->loaded ? PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) : -1;
    pico_err_pop_to_mark();
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
    p11_loaded++;
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
    pico_err_mark();
    rc = PKCS11_is_logged_in(slot, 0, &in);
    pico_err_pop_to_mark();
    if (rc == 0 && in)
        return PICO_OK;
    if (t->userPinLocked)
        return pico_err_raise(PICO_E_PIN_BLOCKED, "%s: the user pin of token '%s' is locked",
                              s->name, t->label);
    pin[0] = '\0';
    if (!t->secureLogin) {
        snprintf(info, sizeof(info), "PIN for PKCS#11 token '%s' (PKA key %s)%s", t->label, s->name,
                 t->userPinFinalTry ? ", the last try: a wrong PIN locks it" : "");
        err = pka_get_secret(s, u->v[P11_PIN_VALUE], u->v[P11_PIN_SOURCE], pin_source, prompt, info,
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
    pico_err_mark();
    rc = PKCS11_login(slot, 0, t->secureLogin ? NULL : pin);
    ckr = rc != 0 ? p11_ckr() : 0;
    pico_err_pop_to_mark();
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

/* The one initialized token the URI names in the module (never a guess between two). */
static pico_err p11_find_slot(const pico_pka_signer *s, const p11_uri *u, const char *module,
                              PKCS11_SLOT **slot)
{
    PKCS11_CTX *ctx = s->module->ctx;
    unsigned int i, nmatch = 0;

    *slot = NULL;
    if (!p11_eq(u->v[P11_LIBRARY_MANUFACTURER], ctx->manufacturer) ||
        !p11_eq(u->v[P11_LIBRARY_DESCRIPTION], ctx->description))
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: module %s is another library", s->name,
                              module);
    for (i = 0; i < s->module->nslots; i++) {
        if (p11_slot_matches(u, &s->module->slots[i])) {
            *slot = *slot != NULL ? *slot : &s->module->slots[i];
            nmatch++;
        }
    }
    /* Never guess between tokens: the PIN would go to whichever came first */
    if (nmatch == 0)
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: no initialized token matches (%u slots in %s)",
                              s->name, s->module->nslots, module);
    if (nmatch > 1)
        return pico_err_raise(
            PICO_E_ARGS, "%s: %u tokens match: name one with token= or serial=", s->name, nmatch);
    return PICO_OK;
}

/* The one private key the URI names on the token (logged in). */
static pico_err p11_find_key(const pico_pka_signer *s, const p11_uri *u, PKCS11_SLOT *slot,
                             PKCS11_KEY **key)
{
    PKCS11_KEY *keys = NULL;
    unsigned int i, nkeys = 0, nmatch = 0;
    int rc;

    *key = NULL;
    pico_err_mark();
    rc = PKCS11_enumerate_keys(slot->token, &keys, &nkeys);
    pico_err_pop_to_mark();
    if (rc < 0)
        return pico_err_raise(PICO_E_DEVICE, "%s: cannot list the keys of token '%s'", s->name,
                              slot->token->label);
    for (i = 0; i < nkeys; i++) {
        if (p11_key_matches(u, &keys[i])) {
            *key = *key != NULL ? *key : &keys[i];
            nmatch++;
        }
    }
    if (nmatch == 0)
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: no such private key on token '%s'", s->name,
                              slot->token->label);
    if (nmatch > 1)
        return pico_err_raise(PICO_E_ARGS,
                              "%s: %u private keys match on token '%s': name one "
                              "with object= or id=",
                              s->name, nmatch, slot->token->label);
    return PICO_OK;
}

pico_err pka_p11_open(pico_pka_signer *s, const char *spec, const char *pin_source,
                      const pico_pin_prompt *prompt)
{
    p11_uri u;
    PKCS11_SLOT *slot = NULL;
    PKCS11_KEY *key = NULL;
    const char *module;
    pico_err err;

    memset(&u, 0, sizeof(u));
    if ((err = p11_uri_parse(spec, &u)) != PICO_OK)
        goto end;
    module = u.v[P11_MODULE_PATH] != NULL ? u.v[P11_MODULE_PATH] : P11KIT_PROXY;
    if ((err = p11_module_get(s->name, module, &s->module)) != PICO_OK ||
        (err = p11_find_slot(s, &u, module, &slot)) != PICO_OK ||
        (err = p11_login(s, &u, slot, pin_source, prompt)) != PICO_OK ||
        (err = p11_find_key(s, &u, slot, &key)) != PICO_OK)
        goto end;
    /* The public half from libp11's private key, which holds n, e or the EC point (read from
     * the token's public key or certificate): PKCS11_get_public_key of libp11 0.4.12 leaks
     * the slot it came from, and with it a copy of the PIN. */
    pico_err_mark();
    s->priv = PKCS11_get_private_key(key);
    pico_err_pop_to_mark();
    if (s->priv == NULL) {
        err = pico_err_raise(PICO_E_UNSUPPORTED, "%s: libp11 cannot use this key", s->name);
        goto end;
    }
    pico_err_mark();
    err = pka_pub_copy(s->name, s->priv, &s->pub);
    pico_err_pop_to_mark();
    if (err != PICO_OK)
        err = pico_err_raise(err, "%s: no public key or certificate with its id on token '%s'",
                             s->name, slot->token->label);
end:
    p11_uri_free(&u);
    return err;
}

pico_err pka_p11_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
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

    if ((err = pka_sha256(msg, len, h)) != PICO_OK)
        return err;
    /* EC: CKM_ECDSA over H (libp11's EC_KEY method); RSA: CKM_RSA_PKCS over
     * DigestInfo(SHA-256, H), which RSA_sign builds before libp11's priv_enc */
    pico_err_mark();
    if (s->type == PICO_KEY_EC)
        ok = (ec = EVP_PKEY_get1_EC_KEY(s->priv)) != NULL &&
             (es = ECDSA_do_sign(h, sizeof(h), ec)) != NULL;
    else
        ok = (rsa = EVP_PKEY_get1_RSA(s->priv)) != NULL &&
             RSA_sign(NID_sha256, h, sizeof(h), sig, &n, rsa) == 1;
    ckr = ok ? 0 : p11_ckr();
    pico_err_pop_to_mark();
    if (!ok)
        err =
            pico_err_raise(ckr == PKA_CKR_USER_NOT_LOGGED_IN ? PICO_E_NOT_LOGGED_IN : PICO_E_DEVICE,
                           "%s: the token did not sign (CKR 0x%lX)", s->name, ckr);
    else if (s->type == PICO_KEY_EC)
        err = pka_ecdsa_plain(s, es, sig, sig_len);
    else
        *sig_len = n;
    ECDSA_SIG_free(es);
    EC_KEY_free(ec);
    RSA_free(rsa);
    return err;
}

void pka_p11_release(pico_pka_signer *s)
{
    if (s->module != NULL)
        p11_module_put(s->module);
}
