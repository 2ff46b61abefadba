/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys made on the device and secrets derived with them: C_GenerateKeyPair
 * (EC on a named curve, Ed25519/Ed448, X25519/X448, RSA with e = 65537,
 * through pico_device_generate: the label and ID checks and the rollback
 * are the device layer's) and C_DeriveKey CKM_ECDH1_DERIVE with CKD_NULL,
 * one APDU, the shared x coordinate (the RFC 7748 secret for X25519/X448)
 * kept as a session object (CKO_SECRET_KEY, extractable: the application
 * asked for the secret).
 */
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>

#include "module.h"

static const CK_ATTRIBUTE *find_attr(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG i;

    for (i = 0; t != NULL && i < n; i++)
        if (t[i].type == type && t[i].pValue != NULL)
            return &t[i];
    return NULL;
}

static CK_ULONG attr_ulong(const CK_ATTRIBUTE *a)
{
    CK_ULONG v = 0;

    if (a != NULL && a->ulValueLen == sizeof(v))
        memcpy(&v, a->pValue, sizeof(v));
    return v;
}

/*
 * The key type and curve of CKA_EC_PARAMS for a key pair mechanism: EC_KEY_PAIR_GEN makes the
 * Weierstrass curves, EC_EDWARDS_ and EC_MONTGOMERY_KEY_PAIR_GEN the curves of RFC 8032 and
 * RFC 7748, named by OID or by 3.0's curveName.
 */
static CK_RV curve_of(CK_MECHANISM_TYPE m, const CK_ATTRIBUTE *a, pico_keygen *g, char *name,
                      size_t cap)
{
    pico_key_type type = 0;
    CK_RV rv;

    if (a == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if ((rv = p11_ec_params_type(a->pValue, a->ulValueLen, &type, name, cap)) != CKR_OK)
        return rv;
    if ((m == CKM_EC_KEY_PAIR_GEN) != (type == PICO_KEY_EC) ||
        (m == CKM_EC_EDWARDS_KEY_PAIR_GEN && type != PICO_KEY_ED25519 && type != PICO_KEY_ED448) ||
        (m == CKM_EC_MONTGOMERY_KEY_PAIR_GEN && type != PICO_KEY_X25519 && type != PICO_KEY_X448))
        return CKR_TEMPLATE_INCONSISTENT; /* a curve of another mechanism */
    g->type = type;
    g->curve = type == PICO_KEY_EC ? name : NULL;
    return CKR_OK;
}

static void label_from_id(const uint8_t *id, size_t n, char *label, size_t cap)
{
    size_t i, l = (size_t)snprintf(label, cap, "key-");

    for (i = 0; i < n && l + 3 <= cap; i++)
        l += (size_t)snprintf(label + l, cap - l, "%02x", id[i]);
}

/* label and ID from the private template, else the public one; a key needs a label. */
static CK_RV name_key(const CK_ATTRIBUTE *pub, CK_ULONG npub, const CK_ATTRIBUTE *priv,
                      CK_ULONG npriv, char *label, size_t cap, pico_keygen *g)
{
    const CK_ATTRIBUTE *l = find_attr(priv, npriv, CKA_LABEL), *id = find_attr(priv, npriv, CKA_ID);

    if (l == NULL)
        l = find_attr(pub, npub, CKA_LABEL);
    if (id == NULL)
        id = find_attr(pub, npub, CKA_ID);
    if (id != NULL) {
        if (id->ulValueLen == 0 || id->ulValueLen > 64)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        g->id = id->pValue;
        g->id_len = id->ulValueLen;
    }
    if (l != NULL && (l->ulValueLen == 0 || l->ulValueLen >= cap))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (l != NULL)
        snprintf(label, cap, "%.*s", (int)l->ulValueLen, (const char *)l->pValue);
    else if (g->id_len > 0) /* the device layer wants a label: one from the ID */
        label_from_id(g->id, g->id_len, label, cap);
    else
        return CKR_TEMPLATE_INCOMPLETE;
    g->label = label;
    return CKR_OK;
}

static CK_RV keygen_spec(const CK_MECHANISM *m, const CK_ATTRIBUTE *pub, CK_ULONG npub,
                         pico_keygen *g, char *curve, size_t cap)
{
    static const uint8_t f4[] = {0x01, 0x00, 0x01};
    const CK_ATTRIBUTE *e = find_attr(pub, npub, CKA_PUBLIC_EXPONENT);
    CK_ULONG bits;

    if (m->mechanism == CKM_EC_KEY_PAIR_GEN || m->mechanism == CKM_EC_EDWARDS_KEY_PAIR_GEN ||
        m->mechanism == CKM_EC_MONTGOMERY_KEY_PAIR_GEN)
        return curve_of(m->mechanism, find_attr(pub, npub, CKA_EC_PARAMS), g, curve, cap);
    if (m->mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN)
        return CKR_MECHANISM_INVALID;
    g->type = PICO_KEY_RSA;
    bits = attr_ulong(find_attr(pub, npub, CKA_MODULUS_BITS));
    if (bits == 0)
        return CKR_TEMPLATE_INCOMPLETE;
    if (bits < 1024 || bits > 4096)
        return CKR_KEY_SIZE_RANGE;
    /* the device makes keys with e = 65537 only; leading zero bytes say the same */
    if (e != NULL) {
        const uint8_t *p = e->pValue;
        size_t n = e->ulValueLen;

        while (n > 0 && *p == 0) {
            p++;
            n--;
        }
        if (n != sizeof(f4) || memcmp(p, f4, n) != 0)
            return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    g->bits = (int)bits;
    return CKR_OK;
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub,
                        CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv,
                        CK_OBJECT_HANDLE_PTR pub_out, CK_OBJECT_HANDLE_PTR priv_out)
{
    pico_keygen g;
    char label[128], curve[64];
    pico_key *key = NULL;
    p11_session *s;
    CK_RV rv;

    memset(&g, 0, sizeof(g));
    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (m == NULL || pub_out == NULL || priv_out == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (!p11.slots[s->slot].logged_in)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if ((rv = keygen_spec(m, pub, npub, &g, curve, sizeof(curve))) == CKR_OK &&
             (rv = name_key(pub, npub, priv, npriv, label, sizeof(label), &g)) == CKR_OK) {
        /* (an Ed key on a firmware built without EdDSA: PICO_E_UNSUPPORTED, nothing left
         * behind, CKR_MECHANISM_INVALID; the mechanism list does not show it either) */
        rv = p11_rv(pico_device_generate(p11.slots[s->slot].dev, &g, &key));
        if (rv == CKR_ARGUMENTS_BAD) /* the label or ID another key has */
            rv = CKR_TEMPLATE_INCONSISTENT;
    }
    if (rv == CKR_OK) {
        *pub_out = p11_handle(s->slot, P11_OBJ_PUBLIC, key->keyref);
        *priv_out = p11_handle(s->slot, P11_OBJ_PRIVATE, key->keyref);
    }
    p11_leave();
    return rv;
}

/* The peer's point: uncompressed, bare or in a DER OCTET STRING (applications send both). */
static CK_RV peer_point(const CK_ECDH1_DERIVE_PARAMS *p, size_t field, const uint8_t **pt)
{
    const uint8_t *d = p->pPublicData;
    size_t n = p->ulPublicDataLen, want = 1 + 2 * field;

    if (d == NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    if (n == want && d[0] == 0x04) {
        *pt = d;
        return CKR_OK;
    }
    if (n == want + 2 && d[0] == 0x04 && d[1] == want && d[2] == 0x04) {
        *pt = d + 2;
        return CKR_OK;
    }
    if (n == want + 3 && d[0] == 0x04 && d[1] == 0x81 && d[2] == want && d[3] == 0x04) {
        *pt = d + 3;
        return CKR_OK;
    }
    return CKR_MECHANISM_PARAM_INVALID;
}

/* The new secret: a session object holding x (truncated to CKA_VALUE_LEN when asked). */
static CK_RV keep_secret(p11_session *s, const uint8_t *x, size_t len, const CK_ATTRIBUTE *t,
                         CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    const CK_ATTRIBUTE *vl = find_attr(t, n, CKA_VALUE_LEN), *kt = find_attr(t, n, CKA_KEY_TYPE);
    const CK_ATTRIBUTE *l = find_attr(t, n, CKA_LABEL);
    size_t i, want = vl != NULL ? attr_ulong(vl) : len, idx = (size_t)(s - p11.sessions);
    p11_secret *k;

    if (want == 0 || want > len || len > sizeof(k->value))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    for (i = 0; i < P11_MAX_SECRETS && s->secrets[i].used; i++)
        ;
    if (i == P11_MAX_SECRETS)
        return CKR_DEVICE_MEMORY;
    k = &s->secrets[i];
    memset(k, 0, sizeof(*k));
    k->used = 1;
    k->type = kt != NULL ? attr_ulong(kt) : CKK_GENERIC_SECRET;
    memcpy(k->value, x, want);
    k->len = want;
    if (l != NULL)
        snprintf(k->label, sizeof(k->label), "%.*s", (int)l->ulValueLen, (const char *)l->pValue);
    *out = p11_handle(s->slot, P11_OBJ_SECRET, (unsigned)(idx << 4 | i));
    return CKR_OK;
}

/* The peer's X25519/X448 public key: raw (3.0 section 2.3.7), or in a DER OCTET STRING. */
static CK_RV peer_raw(const CK_ECDH1_DERIVE_PARAMS *p, size_t want, const uint8_t **pt)
{
    const uint8_t *d = p->pPublicData;
    size_t n = p->ulPublicDataLen;

    if (d == NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    if (n == want) {
        *pt = d;
        return CKR_OK;
    }
    if (n == want + 2 && d[0] == 0x04 && d[1] == want) {
        *pt = d + 2;
        return CKR_OK;
    }
    return CKR_MECHANISM_PARAM_INVALID;
}

/* X25519/X448: the device's answer is the shared secret of RFC 7748, as it is. */
static CK_RV xdh(p11_session *s, pico_key *key, const CK_ECDH1_DERIVE_PARAMS *p,
                 const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    const pico_key_type_info *info = pico_key_type_info_of(key->type);
    uint8_t z[64];
    size_t zlen = sizeof(z);
    const uint8_t *pt = NULL;
    CK_RV rv;

    if ((rv = peer_raw(p, info->raw_len, &pt)) != CKR_OK)
        return rv;
    if ((rv = p11_key_op(key, PICO_MECH_XDH, pt, info->raw_len, z, &zlen)) == CKR_OK &&
        zlen != info->raw_len)
        rv = CKR_DEVICE_ERROR;
    if (rv == CKR_OK)
        rv = keep_secret(s, z, zlen, t, n, out);
    OPENSSL_cleanse(z, sizeof(z));
    return rv;
}

static CK_RV ecdh(p11_session *s, const CK_MECHANISM *m, CK_OBJECT_HANDLE base,
                  const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    const CK_ECDH1_DERIVE_PARAMS *p = m->pParameter;
    uint8_t z[200];
    size_t zlen = sizeof(z), field;
    const uint8_t *pt = NULL;
    pico_key *key = NULL;
    CK_RV rv;

    if (m->mechanism != CKM_ECDH1_DERIVE)
        return CKR_MECHANISM_INVALID;
    if (p == NULL || m->ulParameterLen != sizeof(*p) || p->kdf != CKD_NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    if ((rv = p11_object_key(s, base, P11_OBJ_PRIVATE, &key)) != CKR_OK)
        return rv;
    if (!(p11_key_caps(key) & PICO_CAP_DERIVE))
        return CKR_KEY_TYPE_INCONSISTENT;
    field = ((size_t)key->bits + 7) / 8;
    if (key->type != PICO_KEY_EC)
        rv = xdh(s, key, p, t, n, out);
    else if ((rv = peer_point(p, field, &pt)) != CKR_OK)
        return rv;
    else if ((rv = p11_key_op(key, PICO_MECH_ECDH, pt, 1 + 2 * field, z, &zlen)) == CKR_OK &&
             zlen < 1 + field)
        rv = CKR_DEVICE_ERROR;
    else if (rv == CKR_OK) /* the device answers 04 || x (|| y): the secret is x */
        rv = keep_secret(s, z + 1, field, t, n, out);
    if (rv == CKR_USER_NOT_LOGGED_IN)
        p11.slots[s->slot].logged_in = 0;
    OPENSSL_cleanse(z, sizeof(z));
    return rv;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE base,
                  CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (m == NULL || out == NULL || (t == NULL && n > 0))
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = ecdh(s, m, base, t, n, out);
    p11_leave();
    return rv;
}
