/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing and decryption with a key on the device: one APDU per operation
 * (pico_device_key_op), the mechanisms of device.h; hashing, PKCS#1
 * padding and its removal run on the host, as in the provider:
 *   CKM_ECDSA(_SHAx)       PICO_MECH_ECDSA with the hash, the DER answer
 *                          turned into r || s (2.40 section 2.3.1);
 *   CKM_(SHAx_)RSA_PKCS    PICO_MECH_RSA_RAW with the EMSA-PKCS1-v1_5 block
 *                          (the firmware's DigestInfo input is broken,
 *                          field-notes.md);
 *   CKM_(SHAx_)RSA_PKCS_PSS PICO_MECH_RSA_PSS when the salt is the hash
 *                          length and MGF1 uses the hash, else RSA_RAW with
 *                          an EMSA-PSS block encoded here;
 *   CKM_RSA_X_509          RSA_RAW with the caller's block;
 *   CKM_EDDSA              PICO_MECH_EDDSA with the whole message (PureEdDSA,
 *                          at most PICO_EDDSA_MAX_MESSAGE bytes: one APDU);
 *   decryption             PICO_MECH_RSA_DECRYPT_RAW, the padding removed
 *                          here with OpenSSL's constant-time decoders.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RSA_padding_*: OpenSSL's own encoders and decoders */

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "module.h"

void p11_op_clear(p11_op *op)
{
    EVP_MD_CTX_free(op->mdctx);
    free(op->label);
    if (op->data != NULL)
        OPENSSL_clear_free(op->data, op->data_len);
    memset(op, 0, sizeof(*op));
}

static const EVP_MD *md_of(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_SHA_1:
    case CKG_MGF1_SHA1:
        return EVP_sha1();
    case CKM_SHA224:
    case CKG_MGF1_SHA224:
        return EVP_sha224();
    case CKM_SHA256:
    case CKG_MGF1_SHA256:
        return EVP_sha256();
    case CKM_SHA384:
    case CKG_MGF1_SHA384:
        return EVP_sha384();
    case CKM_SHA512:
    case CKG_MGF1_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

/* The hash a hash-and-sign mechanism hashes with, and what it signs then. */
static CK_MECHANISM_TYPE hash_of(CK_MECHANISM_TYPE m, CK_MECHANISM_TYPE *base)
{
    static const CK_MECHANISM_TYPE t[][3] = {
        {CKM_ECDSA_SHA1, CKM_SHA_1, CKM_ECDSA},
        {CKM_ECDSA_SHA224, CKM_SHA224, CKM_ECDSA},
        {CKM_ECDSA_SHA256, CKM_SHA256, CKM_ECDSA},
        {CKM_ECDSA_SHA384, CKM_SHA384, CKM_ECDSA},
        {CKM_ECDSA_SHA512, CKM_SHA512, CKM_ECDSA},
        {CKM_SHA1_RSA_PKCS, CKM_SHA_1, CKM_RSA_PKCS},
        {CKM_SHA224_RSA_PKCS, CKM_SHA224, CKM_RSA_PKCS},
        {CKM_SHA256_RSA_PKCS, CKM_SHA256, CKM_RSA_PKCS},
        {CKM_SHA384_RSA_PKCS, CKM_SHA384, CKM_RSA_PKCS},
        {CKM_SHA512_RSA_PKCS, CKM_SHA512, CKM_RSA_PKCS},
        {CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, CKM_RSA_PKCS_PSS},
        {CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, CKM_RSA_PKCS_PSS},
        {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKM_RSA_PKCS_PSS},
        {CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKM_RSA_PKCS_PSS},
        {CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKM_RSA_PKCS_PSS},
    };
    size_t i;

    *base = m;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i][0] == m) {
            *base = t[i][2];
            return t[i][1];
        }
    return 0;
}

/* The key's session and slot, and the key itself, for a private-key operation. */
static CK_RV op_key(p11_session *s, const p11_op *op, pico_key **key)
{
    return p11_object_key(s, op->key, P11_OBJ_PRIVATE, key);
}

/*
 * The device operation, once more after a login from the configured factors when the
 * card lost this process's login (another client's SELECT, a reset: 4.6). A PIN the
 * application gave is held for that only with cache-pin=yes (the device layer holds it).
 */
CK_RV p11_key_op(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len, uint8_t *out,
                 size_t *out_len)
{
    size_t cap = *out_len;
    pico_uri uri;
    pico_err err = pico_device_key_op(key, mech, in, in_len, out, out_len);

    if (err != PICO_E_NOT_LOGGED_IN || (p11.cfg.pin_source == NULL && !p11.cfg.cache_pin))
        return p11_rv(err);
    pico_log("PKCS11", "key %u: the device lost the login, logging in again", key->keyref);
    if (pico_uri_parse("pico:", &uri, NULL) != PICO_URI_OK)
        return CKR_HOST_MEMORY;
    uri.pin_last_try = p11.pin_last_try ? 1 : -1;
    err = pico_device_login(key->dev, &uri, &p11.cfg, NULL, NULL);
    pico_uri_free(&uri);
    if (err == PICO_OK) {
        *out_len = cap;
        err = pico_device_key_op(key, mech, in, in_len, out, out_len);
    }
    return p11_rv(err);
}

static size_t sig_len(const pico_key *key)
{
    const pico_key_type_info *t = pico_key_type_info_of(key->type);

    if (key->type == PICO_KEY_EC)
        return 2 * (((size_t)key->bits + 7) / 8);
    if (t != NULL && t->raw_len > 0) /* EdDSA: R || S, each as long as the public key */
        return 2 * t->raw_len;
    return ((size_t)key->bits + 7) / 8;
}

/* The DER ECDSA-Sig-Value the device answers, as PKCS#11's r || s. */
static CK_RV ecdsa_sign(pico_key *key, const uint8_t *hash, size_t hlen, uint8_t *out,
                        size_t *out_len)
{
    uint8_t der[160];
    size_t dlen = sizeof(der), half = sig_len(key) / 2;
    const uint8_t *p = der;
    ECDSA_SIG *sig = NULL;
    CK_RV rv;

    if ((rv = p11_key_op(key, PICO_MECH_ECDSA, hash, hlen, der, &dlen)) != CKR_OK)
        return rv;
    if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL ||
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, (int)half) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + half, (int)half) < 0)
        rv = CKR_DEVICE_ERROR;
    else
        *out_len = 2 * half;
    ECDSA_SIG_free(sig);
    return rv;
}

/* DigestInfo prefixes (RFC 8017 9.2 note 1): the hash follows. */
static size_t digest_info(const EVP_MD *md, const uint8_t **prefix)
{
    static const uint8_t sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                   0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
    static const uint8_t sha2[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    static uint8_t v[4][19];
    /* SHA-224, -256, -384, -512: the same prefix but for the OID's last byte and lengths */
    static const uint8_t last[4] = {4, 1, 2, 3}, total[4] = {0x2d, 0x31, 0x41, 0x51},
                         hl[4] = {28, 32, 48, 64};
    int i = EVP_MD_is_a(md, "SHA224")   ? 0
            : EVP_MD_is_a(md, "SHA256") ? 1
            : EVP_MD_is_a(md, "SHA384") ? 2
            : EVP_MD_is_a(md, "SHA512") ? 3
                                        : -1;

    if (EVP_MD_is_a(md, "SHA1")) {
        *prefix = sha1;
        return sizeof(sha1);
    }
    if (i < 0)
        return 0;
    memcpy(v[i], sha2, sizeof(sha2));
    v[i][1] = total[i];
    v[i][14] = last[i];
    v[i][18] = hl[i];
    *prefix = v[i];
    return sizeof(sha2);
}

static CK_RV rsa_pss_block(pico_key *key, const p11_op *op, const uint8_t *hash, uint8_t *em,
                           size_t k)
{
    RSA *rsa = EVP_PKEY_get1_RSA(key->pub);
    int ok = rsa != NULL &&
             RSA_padding_add_PKCS1_PSS_mgf1(rsa, em, hash, op->md, op->mgf1, (int)op->salt) == 1;

    RSA_free(rsa);
    return ok ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
}

/* RSA: the block the device raises to d, built here (or the hash, for its own PSS). */
static CK_RV rsa_sign(pico_key *key, const p11_op *op, CK_MECHANISM_TYPE base, const uint8_t *in,
                      size_t in_len, uint8_t *out, size_t *out_len)
{
    size_t k = sig_len(key), plen = 0;
    uint8_t em[512], t[600];
    const uint8_t *prefix = NULL;
    pico_mech mech = PICO_MECH_RSA_RAW;
    CK_RV rv = CKR_OK;

    if (k > sizeof(em))
        return CKR_KEY_SIZE_RANGE;
    memset(em, 0, sizeof(em));
    if (base == CKM_RSA_X_509) {
        if (in_len > k)
            return CKR_DATA_LEN_RANGE;
        memcpy(em + k - in_len, in, in_len);
    } else if (base == CKM_RSA_PKCS) {
        if (op->md != NULL && (plen = digest_info(op->md, &prefix)) == 0)
            return CKR_MECHANISM_INVALID;
        if (plen + in_len > sizeof(t) || plen + in_len + 11 > k)
            return CKR_DATA_LEN_RANGE;
        if (plen > 0) /* CKM_RSA_PKCS alone: the caller's DigestInfo as it is */
            memcpy(t, prefix, plen);
        memcpy(t + plen, in, in_len);
        if (RSA_padding_add_PKCS1_type_1(em, (int)k, t, (int)(plen + in_len)) != 1)
            return CKR_DATA_LEN_RANGE;
    } else if (in_len != (size_t)EVP_MD_get_size(op->md)) {
        return CKR_DATA_LEN_RANGE; /* PSS: the hash */
    } else if (op->salt == in_len && op->mgf1 == op->md) {
        mech = PICO_MECH_RSA_PSS; /* what the device pads itself (7.1) */
    } else if ((rv = rsa_pss_block(key, op, in, em, k)) != CKR_OK) {
        return rv;
    }
    if (mech == PICO_MECH_RSA_PSS)
        rv = p11_key_op(key, mech, in, in_len, out, out_len);
    else
        rv = p11_key_op(key, mech, em, k, out, out_len);
    OPENSSL_cleanse(em, sizeof(em));
    OPENSSL_cleanse(t, sizeof(t));
    return rv;
}

static CK_RV pss_params(const CK_MECHANISM *m, p11_op *op, const EVP_MD *mech_md)
{
    const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;

    if (p == NULL || m->ulParameterLen != sizeof(*p) || (op->md = md_of(p->hashAlg)) == NULL ||
        (op->mgf1 = md_of(p->mgf)) == NULL || (mech_md != NULL && mech_md != op->md))
        return CKR_MECHANISM_PARAM_INVALID;
    op->salt = p->sLen;
    return CKR_OK;
}

/*
 * CKM_EDDSA (3.0 section 2.3.14): the device signs PureEdDSA only (Ed25519, Ed448 with an
 * empty context). No parameters, or CK_EDDSA_PARAMS saying the same; HashEdDSA (phFlag) and
 * a context (Ed25519ctx, Ed448 with one) are refused, never signed as something else.
 */
static CK_RV eddsa_setup(const pico_key *key, const CK_MECHANISM *m, p11_op *op)
{
    const pico_eddsa_params *p = m->pParameter;

    if (key->type != PICO_KEY_ED25519 && key->type != PICO_KEY_ED448)
        return CKR_KEY_TYPE_INCONSISTENT;
    if (p != NULL && m->ulParameterLen != sizeof(*p))
        return CKR_MECHANISM_PARAM_INVALID;
    if (p == NULL && m->ulParameterLen != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (p != NULL && (p->phFlag != CK_FALSE || p->ulContextDataLen != 0))
        return CKR_MECHANISM_PARAM_INVALID;
    op->mech = m->mechanism;
    return CKR_OK;
}

/*
 * A restricted RSA-PSS key signs with its own digest and MGF1 digest and a salt at least as
 * long as its own, as the provider and the default provider use such a key: anything else is
 * refused before the device is asked.
 */
static CK_RV pss_allowed(const pico_key *key, const p11_op *op)
{
    p11_pss_limits l;

    if (!p11_key_pss_limits(key, &l))
        return CKR_FUNCTION_FAILED; /* a description that cannot be read */
    if (l.restricted && (EVP_MD_get_type(op->md) != l.md_nid ||
                         EVP_MD_get_type(op->mgf1) != l.mgf1_nid || op->salt < l.min_salt)) {
        pico_log("PKCS11", "key %u: pss parameters outside the key's restrictions", key->keyref);
        return CKR_MECHANISM_PARAM_INVALID;
    }
    return CKR_OK;
}

/* Which mechanisms a key of this type signs with, and their parameters. */
static CK_RV sign_setup(const pico_key *key, const CK_MECHANISM *m, p11_op *op)
{
    CK_MECHANISM_TYPE base, h = hash_of(m->mechanism, &base);
    const EVP_MD *md = h != 0 ? md_of(h) : NULL;
    int ec = key->type == PICO_KEY_EC;
    CK_RV rv;

    if (m->mechanism == CKM_EDDSA)
        return eddsa_setup(key, m, op);
    if (key->type != PICO_KEY_EC && key->type != PICO_KEY_RSA) /* Ed, X: no hash-and-sign */
        return base == CKM_ECDSA || base == CKM_RSA_PKCS || base == CKM_RSA_PKCS_PSS ||
                       base == CKM_RSA_X_509
                   ? CKR_KEY_TYPE_INCONSISTENT
                   : CKR_MECHANISM_INVALID;

    if (ec != (base == CKM_ECDSA) ||
        (!ec && base != CKM_RSA_PKCS && base != CKM_RSA_PKCS_PSS && base != CKM_RSA_X_509))
        return base == CKM_ECDSA || base == CKM_RSA_PKCS || base == CKM_RSA_PKCS_PSS ||
                       base == CKM_RSA_X_509
                   ? CKR_KEY_TYPE_INCONSISTENT
                   : CKR_MECHANISM_INVALID;
    if (!ec && base != CKM_RSA_PKCS_PSS && p11_key_pss_only(key))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    op->mech = m->mechanism;
    op->md = md;
    if (base != CKM_RSA_PKCS_PSS)
        return CKR_OK;
    if ((rv = pss_params(m, op, md)) != CKR_OK)
        return rv;
    return pss_allowed(key, op);
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE kh)
{
    p11_session *s;
    pico_key *key = NULL;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (m == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (s->sign.active)
        rv = CKR_OPERATION_ACTIVE;
    else
        rv = p11_object_key(s, kh, P11_OBJ_PRIVATE, &key);
    if (rv != CKR_OK)
        goto end;
    if ((rv = sign_setup(key, m, &s->sign)) == CKR_OK && s->sign.md != NULL &&
        m->mechanism != CKM_RSA_PKCS_PSS) {
        if ((s->sign.mdctx = EVP_MD_CTX_new()) == NULL ||
            !EVP_DigestInit_ex(s->sign.mdctx, s->sign.md, NULL))
            rv = CKR_HOST_MEMORY;
    }
    if (rv == CKR_OK) {
        s->sign.key = kh;
        s->sign.active = 1;
    } else {
        p11_op_clear(&s->sign);
    }
end:
    p11_leave();
    return rv;
}

/* Signs what the operation collected (the hash, or the data of a mechanism without one). */
static CK_RV sign_now(p11_session *s, const uint8_t *data, size_t len, uint8_t *sig,
                      CK_ULONG_PTR sig_len_out)
{
    p11_op *op = &s->sign;
    CK_MECHANISM_TYPE base;
    uint8_t hash[EVP_MAX_MD_SIZE], out[512];
    unsigned hl = 0;
    size_t out_len = sizeof(out), need;
    pico_key *key;
    CK_RV rv;

    if ((rv = op_key(s, op, &key)) != CKR_OK) {
        p11_op_clear(op);
        return rv;
    }
    need = sig_len(key);
    if (sig == NULL || *sig_len_out < need) { /* a length query, or too small: op goes on */
        rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
        *sig_len_out = need;
        return rv;
    }
    hash_of(op->mech, &base);
    if (op->mdctx != NULL) {
        if (!EVP_DigestUpdate(op->mdctx, data, len) || !EVP_DigestFinal_ex(op->mdctx, hash, &hl))
            return CKR_FUNCTION_FAILED;
        data = hash;
        len = hl;
    }
    if (op->mech == CKM_EDDSA)
        rv = len <= PICO_EDDSA_MAX_MESSAGE
                 ? p11_key_op(key, PICO_MECH_EDDSA, data, len, out, &out_len)
                 : CKR_DATA_LEN_RANGE; /* one APDU holds it */
    else if (key->type == PICO_KEY_EC)
        rv = ecdsa_sign(key, data, len, out, &out_len);
    else
        rv = rsa_sign(key, op, base, data, len, out, &out_len);
    if (rv == CKR_USER_NOT_LOGGED_IN)
        p11.slots[s->slot].logged_in = 0;
    if (rv == CKR_OK) {
        memcpy(sig, out, out_len);
        *sig_len_out = out_len;
    }
    p11_op_clear(op);
    return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
             CK_ULONG_PTR sig_len_out)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->sign.active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if ((data == NULL && len > 0) || sig_len_out == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = sign_now(s, data != NULL ? data : (const uint8_t *)"", len, sig, sig_len_out);
    p11_leave();
    return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
    p11_session *s;
    uint8_t *grown;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->sign.active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (part == NULL && len > 0)
        rv = CKR_ARGUMENTS_BAD;
    else if (s->sign.mdctx != NULL)
        rv = EVP_DigestUpdate(s->sign.mdctx, part, len) ? CKR_OK : CKR_FUNCTION_FAILED;
    else if (s->sign.data_len + len > (s->sign.mech == CKM_EDDSA ? PICO_EDDSA_MAX_MESSAGE : 1024) ||
             (grown = realloc(s->sign.data, s->sign.data_len + len + 1)) == NULL)
        rv = CKR_DATA_LEN_RANGE; /* without a hash the data is a hash, a block, or the
                                  * message EdDSA signs in one APDU */
    else {
        memcpy(grown + s->sign.data_len, part, len);
        s->sign.data = grown;
        s->sign.data_len += len;
    }
    if (rv != CKR_OK && s != NULL && rv != CKR_SESSION_HANDLE_INVALID &&
        rv != CKR_OPERATION_NOT_INITIALIZED)
        p11_op_clear(&s->sign);
    p11_leave();
    return rv;
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len_out)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->sign.active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (sig_len_out == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = sign_now(s, s->sign.data != NULL ? s->sign.data : (const uint8_t *)"",
                      s->sign.data_len, sig, sig_len_out);
    p11_leave();
    return rv;
}

static CK_RV oaep_params(const CK_MECHANISM *m, p11_op *op)
{
    const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;

    if (p == NULL || m->ulParameterLen != sizeof(*p) || (op->md = md_of(p->hashAlg)) == NULL ||
        (op->mgf1 = md_of(p->mgf)) == NULL || (p->source != 0 && p->source != CKZ_DATA_SPECIFIED))
        return CKR_MECHANISM_PARAM_INVALID;
    if (p->pSourceData != NULL && p->ulSourceDataLen > 0) {
        if ((op->label = malloc(p->ulSourceDataLen)) == NULL)
            return CKR_HOST_MEMORY;
        memcpy(op->label, p->pSourceData, p->ulSourceDataLen);
        op->label_len = p->ulSourceDataLen;
    }
    return CKR_OK;
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE kh)
{
    p11_session *s;
    pico_key *key = NULL;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (m == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (s->decrypt.active)
        rv = CKR_OPERATION_ACTIVE;
    else if ((rv = p11_object_key(s, kh, P11_OBJ_PRIVATE, &key)) != CKR_OK)
        ;
    else if (m->mechanism != CKM_RSA_PKCS && m->mechanism != CKM_RSA_PKCS_OAEP &&
             m->mechanism != CKM_RSA_X_509)
        rv = CKR_MECHANISM_INVALID;
    else if (key->type != PICO_KEY_RSA)
        rv = CKR_KEY_TYPE_INCONSISTENT;
    else if (p11_key_pss_only(key))
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    else if (m->mechanism == CKM_RSA_PKCS_OAEP)
        rv = oaep_params(m, &s->decrypt);
    if (rv == CKR_OK) {
        s->decrypt.mech = m->mechanism;
        s->decrypt.key = kh;
        s->decrypt.active = 1;
    } else if (s != NULL && rv != CKR_OPERATION_ACTIVE) {
        p11_op_clear(&s->decrypt);
    }
    p11_leave();
    return rv;
}

/* The padding of the raw block removed; n: the plaintext's length, -1 a bad block. */
static int unpad(const p11_op *op, const uint8_t *em, size_t k, uint8_t *out, size_t cap)
{
    if (op->mech == CKM_RSA_X_509) {
        memcpy(out, em, k);
        return (int)k;
    }
    if (op->mech == CKM_RSA_PKCS)
        return RSA_padding_check_PKCS1_type_2(out, (int)cap, em, (int)k, (int)k);
    return RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)cap, em, (int)k, (int)k, op->label,
                                             (int)op->label_len, op->md, op->mgf1);
}

static CK_RV decrypt_now(p11_session *s, const uint8_t *ct, size_t ct_len, uint8_t *pt,
                         CK_ULONG_PTR pt_len)
{
    uint8_t in[512], em[512], out[512];
    size_t k, em_len = sizeof(em);
    pico_key *key;
    int n = -1;
    CK_RV rv;

    if ((rv = op_key(s, &s->decrypt, &key)) != CKR_OK)
        goto end;
    k = sig_len(key);
    if (pt == NULL) { /* a length query: the most a block of this key holds */
        *pt_len = k;
        return CKR_OK;
    }
    if (ct_len > k || k > sizeof(in)) {
        rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
        goto end;
    }
    memset(in, 0, k - ct_len);
    memcpy(in + k - ct_len, ct, ct_len);
    if ((rv = p11_key_op(key, PICO_MECH_RSA_DECRYPT_RAW, in, k, em, &em_len)) != CKR_OK)
        goto end;
    if (em_len != k || (n = unpad(&s->decrypt, em, k, out, sizeof(out))) < 0) {
        rv = CKR_ENCRYPTED_DATA_INVALID;
        goto end;
    }
    if (*pt_len < (CK_ULONG)n) {
        *pt_len = (CK_ULONG)n;
        rv = CKR_BUFFER_TOO_SMALL; /* the operation goes on */
        goto wipe;
    }
    memcpy(pt, out, (size_t)n);
    *pt_len = (CK_ULONG)n;
end:
    if (rv == CKR_USER_NOT_LOGGED_IN)
        p11.slots[s->slot].logged_in = 0;
    p11_op_clear(&s->decrypt);
wipe:
    OPENSSL_cleanse(em, sizeof(em));
    OPENSSL_cleanse(out, sizeof(out));
    return rv;
}

CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR ct, CK_ULONG ct_len, CK_BYTE_PTR pt,
                CK_ULONG_PTR pt_len)
{
    p11_session *s;
    CK_RV rv;

    if ((rv = p11_enter_session(h, &s)) != CKR_OK)
        return rv;
    if (!s->decrypt.active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (ct == NULL || pt_len == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = decrypt_now(s, ct, ct_len, pt, pt_len);
    p11_leave();
    return rv;
}
