/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Objects: each key on the device is a private key (CKA_ID = its PrKD ID,
 * CKA_LABEL = its label) and a public key with the same ID and label; a
 * certificate stored with a key (CExx) is a certificate object under them
 * too, and each certificate stored without a key (CAxx, described by C8xx)
 * one of its own. Public keys and certificates are readable without a
 * login; private keys appear once the user is logged in (CKA_PRIVATE).
 * Every attribute is computed when asked for, and a search template is
 * matched by computing the same values, so any template an application
 * builds is matched byte for byte.
 */
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "rsapss.h"

typedef struct p11_obj {
    int kind;
    pico_key *key;   /* kinds PRIVATE, PUBLIC, KEY_CERT */
    pico_cert *cert; /* kind CERT */
    X509 *x509;      /* kinds KEY_CERT, CERT */
    p11_secret *secret;
} p11_obj;

CK_OBJECT_HANDLE p11_handle(CK_SLOT_ID slot, int kind, unsigned n)
{
    return ((CK_OBJECT_HANDLE)(slot + 1) << 24) | ((CK_OBJECT_HANDLE)kind << 16) | n;
}

/*
 * The key types this module has mechanisms for: every row of common/keytype.c (RSA, EC,
 * X25519/X448 as CKK_EC_MONTGOMERY, Ed25519/Ed448 as CKK_EC_EDWARDS). A key of a type the
 * device layer cannot tell is left out rather than shown as a key it is not.
 */
static int offered(const pico_key *k)
{
    return pico_key_type_info_of(k->type) != NULL;
}

CK_KEY_TYPE p11_key_type(const pico_key *k)
{
    switch (k->type) {
    case PICO_KEY_RSA:
        return CKK_RSA;
    case PICO_KEY_EC:
        return CKK_EC;
    case PICO_KEY_X25519:
    case PICO_KEY_X448:
        return CKK_EC_MONTGOMERY;
    case PICO_KEY_ED25519:
    case PICO_KEY_ED448:
        return CKK_EC_EDWARDS;
    }
    return CK_UNAVAILABLE_INFORMATION;
}

unsigned p11_key_caps(const pico_key *k)
{
    const pico_key_type_info *t = pico_key_type_info_of(k->type);

    return t != NULL ? t->caps : 0;
}

static CK_RV resolve(p11_session *s, CK_OBJECT_HANDLE h, p11_obj *o)
{
    p11_slot *slot = &p11.slots[s->slot];
    unsigned n = (unsigned)(h & 0xFFFF);
    pico_key **keys = NULL;
    pico_cert **certs = NULL;
    size_t count = 0, i;
    EVP_PKEY *pub;

    memset(o, 0, sizeof(*o));
    o->kind = (int)((h >> 16) & 0xFF);
    if ((h >> 24) != s->slot + 1 || slot->dev == NULL || o->kind < P11_OBJ_PRIVATE ||
        o->kind > P11_OBJ_SECRET || (o->kind == P11_OBJ_PRIVATE && !slot->logged_in))
        return CKR_OBJECT_HANDLE_INVALID;
    if (o->kind == P11_OBJ_SECRET) {
        if ((h >> 24) != s->slot + 1 || (n >> 4) >= P11_MAX_SESSIONS ||
            (n & 0xF) >= P11_MAX_SECRETS || !p11.sessions[n >> 4].used ||
            !p11.sessions[n >> 4].secrets[n & 0xF].used)
            return CKR_OBJECT_HANDLE_INVALID;
        o->secret = &p11.sessions[n >> 4].secrets[n & 0xF];
        return CKR_OK;
    }
    if (o->kind == P11_OBJ_CERT) {
        if (pico_device_certs(slot->dev, &certs, &count) != PICO_OK || n >= count)
            return CKR_OBJECT_HANDLE_INVALID;
        o->cert = certs[n];
        o->x509 = certs[n]->x509;
        return CKR_OK;
    }
    if (pico_device_keys(slot->dev, &keys, &count) != PICO_OK)
        return CKR_DEVICE_ERROR;
    for (i = 0; i < count && keys[i]->keyref != n; i++)
        ;
    if (i == count || pico_device_key_public(keys[i], &pub) != PICO_OK || !offered(keys[i]))
        return CKR_OBJECT_HANDLE_INVALID;
    o->key = keys[i];
    o->x509 = keys[i]->cert;
    if (o->kind == P11_OBJ_KEY_CERT && o->x509 == NULL)
        return CKR_OBJECT_HANDLE_INVALID;
    return CKR_OK;
}

CK_RV p11_object_key(p11_session *s, CK_OBJECT_HANDLE h, int kind, pico_key **key)
{
    p11_obj o;
    CK_RV rv = resolve(s, h, &o);

    if (rv == CKR_OBJECT_HANDLE_INVALID && kind == P11_OBJ_PRIVATE &&
        ((h >> 16) & 0xFF) == P11_OBJ_PRIVATE && !p11.slots[s->slot].logged_in)
        return CKR_USER_NOT_LOGGED_IN;
    if (rv != CKR_OK)
        return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    if (o.kind != kind)
        return CKR_KEY_TYPE_INCONSISTENT;
    *key = o.key;
    return CKR_OK;
}

int p11_key_pss_only(const pico_key *key)
{
    pico_pss_params pp;

    pico_err_mark();
    pico_key_pss_params(key, &pp); /* unreadable restrictions: still PSS only */
    pico_err_pop_to_mark();
    return pp.pss;
}

int p11_key_pss_limits(const pico_key *key, p11_pss_limits *out)
{
    pico_pss_params pp;

    memset(out, 0, sizeof(*out));
    if (pico_key_pss_params(key, &pp) != PICO_OK)
        return 0;
    out->restricted = pp.restricted;
    out->md_nid = pp.md_nid;
    out->mgf1_nid = pp.mgf1_nid;
    out->min_salt = (CK_ULONG)pp.min_salt;
    return 1;
}

/* An attribute's value, malloc'ed: the callers copy or compare it. */
typedef struct val {
    uint8_t *p;
    size_t len;
} val;

static CK_RV put(val *v, const void *p, size_t len)
{
    if ((v->p = malloc(len > 0 ? len : 1)) == NULL)
        return CKR_HOST_MEMORY;
    memcpy(v->p, p, len);
    v->len = len;
    return CKR_OK;
}

static CK_RV put_bool(val *v, int b)
{
    CK_BBOOL x = b ? CK_TRUE : CK_FALSE;

    return put(v, &x, sizeof(x));
}

static CK_RV put_ulong(val *v, CK_ULONG x)
{
    return put(v, &x, sizeof(x));
}

/* i2d of any DER-encodable object: one macro-free helper per type is what OpenSSL offers. */
static CK_RV put_der(val *v, int len, uint8_t *der)
{
    CK_RV rv = len > 0 && der != NULL ? put(v, der, (size_t)len) : CKR_FUNCTION_FAILED;

    OPENSSL_free(der);
    return rv;
}

/* The curves of RFC 7748 and RFC 8032 by their names in 3.0's curveName (PrintableString). */
static const struct {
    pico_key_type type;
    const char *name;
} ecx_names[] = {{PICO_KEY_X25519, "curve25519"},
                 {PICO_KEY_X448, "curve448"},
                 {PICO_KEY_ED25519, "edwards25519"},
                 {PICO_KEY_ED448, "edwards448"}};

/* CKA_EC_PARAMS of a curve25519/448 key: the curve's OID of RFC 8410 (1.3.101.110-113). */
static CK_RV ecx_params(pico_key_type type, uint8_t *out, size_t cap, size_t *len)
{
    const pico_key_type_info *t = pico_key_type_info_of(type);

    if (t == NULL || t->prkd_oid_len == 0 || t->prkd_oid_len + 2 > cap)
        return CKR_FUNCTION_FAILED;
    out[0] = 0x06;
    out[1] = (uint8_t)t->prkd_oid_len;
    memcpy(out + 2, t->prkd_oid, t->prkd_oid_len);
    *len = t->prkd_oid_len + 2;
    return CKR_OK;
}

CK_RV p11_ec_params_type(const uint8_t *der, size_t len, pico_key_type *type, char *curve,
                         size_t cap)
{
    static const uint8_t opensc_023_x25519[] = {0x13, 0x0b, 'c', 'u', 'r', 'v',
                                                'e',  '2',  '5', '5', '1', '9'};
    const pico_key_type_info *t;
    const unsigned char *p = der;
    ASN1_OBJECT *obj;
    size_t i;
    int nid;

    if (der == NULL || len < 2)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    /* (OpenSC 0.23's pkcs11-tool writes "curve25519" with the length 11: taken as meant) */
    if (len == sizeof(opensc_023_x25519) && memcmp(der, opensc_023_x25519, len) == 0) {
        *type = PICO_KEY_X25519;
        return CKR_OK;
    }
    if (der[0] == 0x13) { /* PrintableString: the curveName choice */
        for (i = 0; i < sizeof(ecx_names) / sizeof(ecx_names[0]); i++)
            if (der[1] == len - 2 && strlen(ecx_names[i].name) == len - 2 &&
                memcmp(der + 2, ecx_names[i].name, len - 2) == 0) {
                *type = ecx_names[i].type;
                return CKR_OK;
            }
        return CKR_CURVE_NOT_SUPPORTED;
    }
    if ((obj = d2i_ASN1_OBJECT(NULL, &p, (long)len)) == NULL)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    nid = OBJ_obj2nid(obj);
    ASN1_OBJECT_free(obj);
    if (nid == NID_undef)
        return CKR_CURVE_NOT_SUPPORTED;
    /* X25519 .. ED448: the rows whose OpenSSL names are the OIDs' short names */
    if ((t = pico_key_type_by_name(OBJ_nid2sn(nid))) != NULL && t->shape == PICO_CVC_RAW) {
        *type = t->type;
        return CKR_OK;
    }
    *type = PICO_KEY_EC;
    snprintf(curve, cap, "%s", OBJ_nid2sn(nid));
    return CKR_OK;
}

CK_RV p11_ec_params(const char *curve, uint8_t *out, size_t cap, size_t *len)
{
    int nid = OBJ_txt2nid(curve);
    ASN1_OBJECT *obj = nid != NID_undef ? OBJ_nid2obj(nid) : NULL;
    int n = obj != NULL ? i2d_ASN1_OBJECT(obj, NULL) : -1;
    uint8_t *p = out;

    if (n <= 0 || (size_t)n > cap)
        return CKR_FUNCTION_FAILED;
    i2d_ASN1_OBJECT(obj, &p);
    *len = (size_t)n;
    return CKR_OK;
}

static CK_RV put_bn(val *v, EVP_PKEY *pub, const char *name)
{
    BIGNUM *bn = NULL;
    uint8_t buf[1024];
    int n;
    CK_RV rv = CKR_FUNCTION_FAILED;

    if (EVP_PKEY_get_bn_param(pub, name, &bn) == 1 && (n = BN_num_bytes(bn)) <= (int)sizeof(buf))
        rv = put(v, buf, (size_t)BN_bn2bin(bn, buf));
    BN_free(bn);
    return rv;
}

/* CKA_EC_POINT in a DER OCTET STRING: the uncompressed point (2.40 section 2.3.3), or the
 * raw public key of RFC 7748 / RFC 8032 (3.0 sections 2.3.5, 2.3.6). */
static CK_RV put_ec_point(val *v, EVP_PKEY *pub, int raw)
{
    uint8_t pt[160], der[170];
    size_t n = sizeof(pt), h = 0;

    if (raw ? EVP_PKEY_get_raw_public_key(pub, pt, &n) != 1
            : EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n) !=
                  1)
        return CKR_FUNCTION_FAILED;
    der[h++] = 0x04;
    if (n >= 128)
        der[h++] = 0x81;
    der[h++] = (uint8_t)n;
    memcpy(der + h, pt, n);
    return put(v, der, h + n);
}

static CK_RV put_label_id(val *v, CK_ATTRIBUTE_TYPE type, const char *label, const uint8_t *id,
                          size_t id_len)
{
    if (type == CKA_LABEL)
        return put(v, label != NULL ? label : "", label != NULL ? strlen(label) : 0);
    return put(v, id, id_len);
}

/* What a key's public half says: the same on its private and its public object. */
static CK_RV key_material(const p11_obj *o, CK_ATTRIBUTE_TYPE type, val *v)
{
    pico_key *k = o->key;
    uint8_t der[64];
    size_t n;
    CK_RV rv;

    if (k->type == PICO_KEY_RSA) {
        switch (type) {
        case CKA_MODULUS:
            return put_bn(v, k->pub, OSSL_PKEY_PARAM_RSA_N);
        case CKA_PUBLIC_EXPONENT:
            return put_bn(v, k->pub, OSSL_PKEY_PARAM_RSA_E);
        case CKA_MODULUS_BITS:
            return put_ulong(v, (CK_ULONG)k->bits);
        }
    } else {
        switch (type) {
        case CKA_EC_PARAMS:
            rv = k->type == PICO_KEY_EC ? p11_ec_params(k->curve, der, sizeof(der), &n)
                                        : ecx_params(k->type, der, sizeof(der), &n);
            return rv != CKR_OK ? rv : put(v, der, n);
        case CKA_EC_POINT:
            return put_ec_point(v, k->pub, k->type != PICO_KEY_EC);
        }
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

static CK_RV key_attr(const p11_obj *o, CK_ATTRIBUTE_TYPE type, val *v)
{
    int priv = o->kind == P11_OBJ_PRIVATE, rsa = o->key->type == PICO_KEY_RSA;
    unsigned caps = p11_key_caps(o->key);
    uint8_t *der = NULL;
    int n;

    switch (type) {
    case CKA_KEY_TYPE:
        return put_ulong(v, p11_key_type(o->key));
    case CKA_LOCAL:
        return put_bool(v, 1);
    case CKA_KEY_GEN_MECHANISM:
        return put_ulong(v, CK_UNAVAILABLE_INFORMATION);
    case CKA_START_DATE:
    case CKA_END_DATE:
        return put(v, "", 0);
    case CKA_DERIVE:
        return put_bool(v, (caps & PICO_CAP_DERIVE) && priv);
    case CKA_SUBJECT:
        if (o->x509 != NULL)
            return put_der(v, i2d_X509_NAME(X509_get_subject_name(o->x509), &der), der);
        return put(v, "", 0);
    case CKA_PUBLIC_KEY_INFO:
        n = i2d_PUBKEY(o->key->pub, &der);
        return put_der(v, n, der);
    }
    if (priv) {
        switch (type) {
        case CKA_SENSITIVE:
        case CKA_ALWAYS_SENSITIVE:
        case CKA_NEVER_EXTRACTABLE:
            return put_bool(v, 1);
        case CKA_SIGN:
            return put_bool(v, (caps & PICO_CAP_SIGN) != 0);
        case CKA_EXTRACTABLE:
        case CKA_SIGN_RECOVER:
        case CKA_UNWRAP:
        case CKA_ALWAYS_AUTHENTICATE:
        case CKA_WRAP_WITH_TRUSTED:
            return put_bool(v, 0);
        case CKA_DECRYPT:
            return put_bool(v, rsa && !p11_key_pss_only(o->key));
        }
    } else {
        switch (type) {
        case CKA_VERIFY:
            return put_bool(v, (caps & PICO_CAP_SIGN) != 0);
        case CKA_VERIFY_RECOVER:
        case CKA_WRAP:
        case CKA_TRUSTED:
            return put_bool(v, 0);
        case CKA_ENCRYPT:
            return put_bool(v, rsa && !p11_key_pss_only(o->key));
        }
    }
    return key_material(o, type, v);
}

static CK_RV cert_attr(const p11_obj *o, CK_ATTRIBUTE_TYPE type, val *v)
{
    uint8_t *der = NULL;
    int n;

    switch (type) {
    case CKA_CERTIFICATE_TYPE:
        return put_ulong(v, CKC_X_509);
    case CKA_VALUE:
        n = i2d_X509(o->x509, &der);
        return put_der(v, n, der);
    case CKA_SUBJECT:
        n = i2d_X509_NAME(X509_get_subject_name(o->x509), &der);
        return put_der(v, n, der);
    case CKA_ISSUER:
        n = i2d_X509_NAME(X509_get_issuer_name(o->x509), &der);
        return put_der(v, n, der);
    case CKA_SERIAL_NUMBER:
        n = i2d_ASN1_INTEGER(X509_get0_serialNumber(o->x509), &der);
        return put_der(v, n, der);
    case CKA_PUBLIC_KEY_INFO:
        n = i2d_PUBKEY(X509_get0_pubkey(o->x509), &der);
        return put_der(v, n, der);
    case CKA_TRUSTED:
        return put_bool(v, 0);
    case CKA_CERTIFICATE_CATEGORY: /* 2: authority, 0: unspecified */
        return put_ulong(v, o->cert != NULL && o->cert->authority ? 2 : 0);
    case CKA_START_DATE:
    case CKA_END_DATE:
        return put(v, "", 0);
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

static CK_RV secret_attr(const p11_secret *k, CK_ATTRIBUTE_TYPE type, val *v)
{
    switch (type) {
    case CKA_CLASS:
        return put_ulong(v, CKO_SECRET_KEY);
    case CKA_KEY_TYPE:
        return put_ulong(v, k->type);
    case CKA_VALUE:
        return put(v, k->value, k->len);
    case CKA_VALUE_LEN:
        return put_ulong(v, k->len);
    case CKA_LABEL:
        return put(v, k->label, strlen(k->label));
    case CKA_ID:
        return put(v, "", 0);
    case CKA_EXTRACTABLE:
        return put_bool(v, 1);
    case CKA_TOKEN:
    case CKA_PRIVATE:
    case CKA_SENSITIVE:
    case CKA_LOCAL:
    case CKA_ALWAYS_SENSITIVE:
    case CKA_NEVER_EXTRACTABLE:
    case CKA_MODIFIABLE:
    case CKA_ENCRYPT:
    case CKA_DECRYPT:
    case CKA_SIGN:
    case CKA_VERIFY:
    case CKA_WRAP:
    case CKA_UNWRAP:
    case CKA_DERIVE:
        return put_bool(v, 0);
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

static CK_RV attr(const p11_obj *o, CK_ATTRIBUTE_TYPE type, val *v)
{
    static const CK_OBJECT_CLASS classes[] = {0, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE,
                                              CKO_CERTIFICATE};

    v->p = NULL;
    v->len = 0;
    if (o->secret != NULL)
        return secret_attr(o->secret, type, v);
    switch (type) {
    case CKA_CLASS:
        return put_ulong(v, classes[o->kind]);
    case CKA_TOKEN:
        return put_bool(v, 1);
    case CKA_PRIVATE:
        return put_bool(v, o->kind == P11_OBJ_PRIVATE);
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_DESTROYABLE:
        return put_bool(v, 0);
    case CKA_LABEL:
    case CKA_ID:
        if (o->cert != NULL)
            return put_label_id(v, type, o->cert->label, o->cert->id, o->cert->id_len);
        return put_label_id(v, type, o->key->label, o->key->id, o->key->id_len);
    }
    return o->kind == P11_OBJ_KEY_CERT || o->kind == P11_OBJ_CERT ? cert_attr(o, type, v)
                                                                  : key_attr(o, type, v);
}

/* One attribute into the caller's template entry (2.40 5.7): CKR_OK or why not. */
static CK_RV fill_one(const p11_obj *o, CK_ATTRIBUTE *t)
{
    static const CK_ATTRIBUTE_TYPE secret[] = {
        CKA_PRIVATE_EXPONENT, CKA_PRIME_1,     CKA_PRIME_2, CKA_EXPONENT_1,
        CKA_EXPONENT_2,       CKA_COEFFICIENT, CKA_VALUE};
    size_t i;
    val v;
    CK_RV rv;

    if (o->kind == P11_OBJ_PRIVATE)
        for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
            if (t->type == secret[i]) {
                t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
                return CKR_ATTRIBUTE_SENSITIVE;
            }
    if ((rv = attr(o, t->type, &v)) != CKR_OK) {
        t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return rv;
    }
    if (t->pValue != NULL && t->ulValueLen < v.len) {
        t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        rv = CKR_BUFFER_TOO_SMALL;
    } else {
        if (t->pValue != NULL)
            memcpy(t->pValue, v.p, v.len);
        t->ulValueLen = v.len;
    }
    free(v.p);
    return rv;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh, CK_ATTRIBUTE_PTR tmpl,
                          CK_ULONG n)
{
    p11_session *s;
    p11_obj o;
    CK_ULONG i;
    CK_RV rv, one, worst = CKR_OK;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (tmpl == NULL && n > 0)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = resolve(s, oh, &o);
    /* every attribute gets its answer; the call returns what went wrong, if anything */
    for (i = 0; rv == CKR_OK && i < n; i++) {
        one = fill_one(&o, &tmpl[i]);
        if (one == CKR_ATTRIBUTE_SENSITIVE || one == CKR_ATTRIBUTE_TYPE_INVALID ||
            one == CKR_BUFFER_TOO_SMALL)
            worst = one;
        else if (one != CKR_OK)
            rv = one;
    }
    if (rv == CKR_OK)
        rv = worst;
    p11_leave();
    return rv;
}

/* A template's value as this module writes it: CKA_EC_PARAMS naming a curve by its
 * curveName (PrintableString) is matched as the OID the key shows. */
static void canonical(const CK_ATTRIBUTE *t, uint8_t *buf, size_t cap, const uint8_t **p,
                      size_t *len)
{
    pico_key_type type;
    char curve[64];

    *p = t->pValue;
    *len = t->ulValueLen;
    if (t->type == CKA_EC_PARAMS && t->pValue != NULL && t->ulValueLen > 0 && (*p)[0] == 0x13 &&
        p11_ec_params_type(t->pValue, t->ulValueLen, &type, curve, sizeof(curve)) == CKR_OK &&
        ecx_params(type, buf, cap, len) == CKR_OK)
        *p = buf;
}

static int matches(const p11_obj *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    uint8_t buf[16];
    const uint8_t *want;
    CK_ULONG i;
    size_t len;
    int ok = 1;
    val v;

    for (i = 0; ok && i < n; i++) {
        if (attr(o, tmpl[i].type, &v) != CKR_OK)
            return 0;
        canonical(&tmpl[i], buf, sizeof(buf), &want, &len);
        ok = v.len == len && (v.len == 0 || memcmp(v.p, want, v.len) == 0);
        free(v.p);
    }
    return ok;
}

static void consider(p11_session *s, CK_OBJECT_HANDLE h, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    p11_obj o;

    if (s->nfound < P11_MAX_FOUND && resolve(s, h, &o) == CKR_OK && matches(&o, tmpl, n))
        s->found[s->nfound++] = h;
}

CK_RV p11_find_init(p11_session *s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
    p11_slot *slot = &p11.slots[s->slot];
    pico_key **keys = NULL;
    pico_cert **certs = NULL;
    size_t count = 0, i;
    EVP_PKEY *pub;

    s->nfound = s->pos = 0;
    s->finding = 1;
    if (slot->dev == NULL || pico_device_keys(slot->dev, &keys, &count) != PICO_OK)
        return CKR_OK; /* nothing readable: nothing found */
    for (i = 0; i < count; i++) {
        unsigned ref = keys[i]->keyref;

        /* (the public key read first: it settles the type of a key another tool made) */
        if (pico_device_key_public(keys[i], &pub) != PICO_OK || !offered(keys[i]))
            continue;
        if (slot->logged_in)
            consider(s, p11_handle(s->slot, P11_OBJ_PRIVATE, ref), tmpl, n);
        consider(s, p11_handle(s->slot, P11_OBJ_PUBLIC, ref), tmpl, n);
        if (keys[i]->cert != NULL)
            consider(s, p11_handle(s->slot, P11_OBJ_KEY_CERT, ref), tmpl, n);
    }
    if (pico_device_certs(slot->dev, &certs, &count) == PICO_OK)
        for (i = 0; i < count; i++)
            consider(s, p11_handle(s->slot, P11_OBJ_CERT, (unsigned)i), tmpl, n);
    return CKR_OK;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (s->finding)
        rv = CKR_OPERATION_ACTIVE;
    else if (tmpl == NULL && n > 0)
        rv = CKR_ARGUMENTS_BAD;
    else {
        pico_err_mark(); /* a key whose files cannot be read is left out, no error */
        rv = p11_find_init(s, tmpl, n);
        pico_err_pop_to_mark();
    }
    p11_leave();
    return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->finding)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (count == NULL || (out == NULL && max > 0))
        rv = CKR_ARGUMENTS_BAD;
    else {
        for (*count = 0; *count < max && s->pos < s->nfound; (*count)++)
            out[*count] = s->found[s->pos++];
    }
    p11_leave();
    return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->finding)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else
        s->finding = 0;
    p11_leave();
    return rv;
}
