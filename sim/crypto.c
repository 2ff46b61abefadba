/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sim's key material: curves, key generation, the private-key operations
 * of SIGN (7.1) and DECIPHER (7.2), MKEK sealing and PIN-derived keys.
 *
 * The branches mirror the firmware's cmd_signature.c and cmd_decrypt_asym.c,
 * quirks included, because the host code is tested against this sim first.
 */
#include "crypto.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "crypto_int.h"

/* Status words used here (sc-hsm-protocol.md 1.7). */
#define SW_OK 0x9000
#define SW_EXEC_ERROR 0x6400
#define SW_DATA_INVALID 0x6984
#define SW_REFERENCE_NOT_FOUND 0x6A88
#define SW_INCORRECT_P1P2 0x6A86
#define SW_WRONG_P1P2 0x6B00

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

/* ------------------------------------------------------------------ curves */

/* The Weierstrass curves of 6.3, in the firmware's order; brainpool t1 curves
 * share their prime with r1 and so can never be told apart. */
static const sim_curve curves[] = {
    {"prime192v1", NID_X9_62_prime192v1, 24},
    {"prime256v1", NID_X9_62_prime256v1, 32},
    {"secp384r1", NID_secp384r1, 48},
    {"secp521r1", NID_secp521r1, 66},
    {"brainpoolP256r1", NID_brainpoolP256r1, 32},
    {"brainpoolP384r1", NID_brainpoolP384r1, 48},
    {"brainpoolP512r1", NID_brainpoolP512r1, 64},
    {"secp192k1", NID_secp192k1, 24},
    {"secp256k1", NID_secp256k1, 32},
};

#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

static const struct {
    const char *alias;
    int nid;
} curve_aliases[] = {
    {"secp192r1", NID_X9_62_prime192v1},
    {"P-192", NID_X9_62_prime192v1},
    {"secp256r1", NID_X9_62_prime256v1},
    {"P-256", NID_X9_62_prime256v1},
    {"P-384", NID_secp384r1},
    {"P-521", NID_secp521r1},
};

static const sim_curve *curve_by_nid(int nid)
{
    size_t i;

    for (i = 0; i < N_CURVES; i++) {
        if (curves[i].nid == nid)
            return &curves[i];
    }
    return NULL;
}

const sim_curve *sim_curve_by_name(const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(curves[i].name, name) == 0)
            return &curves[i];
    }
    for (i = 0; i < sizeof(curve_aliases) / sizeof(curve_aliases[0]); i++) {
        if (strcmp(curve_aliases[i].alias, name) == 0)
            return curve_by_nid(curve_aliases[i].nid);
    }
    return curve_by_nid(OBJ_sn2nid(name));
}

const sim_curve *sim_curve_by_prime(const uint8_t *p, size_t plen)
{
    const sim_curve *found = NULL;
    uint8_t buf[66];
    BIGNUM *prime = NULL;
    size_t i;

    if (p == NULL)
        return NULL;
    /* 6.3: the prime alone selects the curve; the interface ignores leading
     * zeros (the firmware compares exact lengths, which hosts always send). */
    while (plen > 0 && *p == 0) {
        p++;
        plen--;
    }
    if (plen == 0 || plen > sizeof(buf))
        return NULL;
    prime = BN_new();
    if (prime == NULL)
        return NULL;
    for (i = 0; i < N_CURVES && found == NULL; i++) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(curves[i].nid);

        if (g != NULL && EC_GROUP_get_curve(g, prime, NULL, NULL, NULL) == 1 &&
            (size_t)BN_num_bytes(prime) == plen && BN_bn2bin(prime, buf) == (int)plen &&
            memcmp(buf, p, plen) == 0)
            found = &curves[i];
        EC_GROUP_free(g);
    }
    BN_free(prime);
    return found;
}

const sim_curve *sim_curve_of_key(EVP_PKEY *key)
{
    char name[64];

    if (key == NULL || !EVP_PKEY_is_a(key, "EC"))
        return NULL;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL))
        return NULL;
    return sim_curve_by_name(name);
}

static int bn_append_pad(sim_bytes *out, const BIGNUM *bn, size_t len)
{
    if (sim_bytes_reserve(out, len) != 0)
        return -1;
    if (BN_bn2binpad(bn, out->data + out->len, (int)len) != (int)len)
        return -1;
    out->len += len;
    return 0;
}

void sim_ec_domain_free(sim_ec_domain *d)
{
    sim_bytes_free(&d->p);
    sim_bytes_free(&d->a);
    sim_bytes_free(&d->b);
    sim_bytes_free(&d->g);
    sim_bytes_free(&d->n);
}

int sim_ec_domain_get(const sim_curve *c, sim_ec_domain *d)
{
    EC_GROUP *g = NULL;
    BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new();
    const BIGNUM *order;
    size_t glen, nlen;
    int ret = -1;

    memset(d, 0, sizeof(*d));
    if (c == NULL || p == NULL || a == NULL || b == NULL)
        goto end;
    g = EC_GROUP_new_by_curve_name(c->nid);
    if (g == NULL || EC_GROUP_get_curve(g, p, a, b, NULL) != 1)
        goto end;
    order = EC_GROUP_get0_order(g);
    /* libcvc pads the order to the field length but never truncates it. */
    nlen = (size_t)BN_num_bytes(order);
    if (nlen < c->field_len)
        nlen = c->field_len;
    if (bn_append_pad(&d->p, p, c->field_len) != 0 || bn_append_pad(&d->a, a, c->field_len) != 0 ||
        bn_append_pad(&d->b, b, c->field_len) != 0 || bn_append_pad(&d->n, order, nlen) != 0)
        goto end;
    glen = EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED, NULL, 0,
                              NULL);
    if (glen != 1 + 2 * c->field_len || sim_bytes_reserve(&d->g, glen) != 0 ||
        EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED, d->g.data,
                           glen, NULL) != glen)
        goto end;
    d->g.len = glen;
    ret = 0;
end:
    if (ret != 0)
        sim_ec_domain_free(d);
    EC_GROUP_free(g);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    return ret;
}

/* -------------------------------------------------------------------- keys */

int sim_ec_public_point(EVP_PKEY *key, sim_bytes *out)
{
    const sim_curve *c = sim_curve_of_key(key);
    size_t len = 0;

    sim_bytes_clear(out);
    if (c == NULL)
        return -1;
    /* The provider encodes the point in its conversion form, uncompressed unless changed. */
    if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, NULL, 0, &len) ||
        len != 1 + 2 * c->field_len || sim_bytes_reserve(out, len) != 0 ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out->data, len, &len) ||
        out->data[0] != 0x04)
        return -1;
    out->len = len;
    return 0;
}

static int bn_to_bytes(const BIGNUM *bn, sim_bytes *out)
{
    size_t len = (size_t)BN_num_bytes(bn);

    sim_bytes_clear(out);
    if (len == 0)
        return -1;
    return bn_append_pad(out, bn, len);
}

int sim_rsa_public(EVP_PKEY *key, sim_bytes *n, sim_bytes *e)
{
    BIGNUM *bn = NULL, *be = NULL;
    int ret = -1;

    if (key == NULL || !EVP_PKEY_is_a(key, "RSA"))
        goto end;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &be))
        goto end;
    if (bn_to_bytes(bn, n) != 0 || bn_to_bytes(be, e) != 0)
        goto end;
    ret = 0;
end:
    BN_free(bn);
    BN_free(be);
    return ret;
}

EVP_PKEY *sim_ec_pubkey_new(const sim_curve *c, const uint8_t *pt, size_t len)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    OSSL_PARAM params[3];

    if (c == NULL || pt == NULL || len == 0)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->name, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, len);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

EVP_PKEY *sim_rsa_pubkey_new(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *bn = NULL, *be = NULL;

    if (n == NULL || e == NULL || nlen == 0 || elen == 0 || nlen > INT_MAX || elen > INT_MAX)
        goto end;
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn == NULL || be == NULL || bld == NULL || BN_is_zero(bn) || BN_is_zero(be) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        goto end;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pk = NULL;
end:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pk;
}

EVP_PKEY *sim_ec_generate(const sim_curve *c)
{
    if (c == NULL)
        return NULL;
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->name);
}

EVP_PKEY *sim_rsa_generate(int bits)
{
    /* OpenSSL's default public exponent is 65537, the only one the card can
     * use: it keeps p and q and assumes 65537 whenever it loads the key (6.2). */
    if (bits <= 0)
        return NULL;
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

int sim_key_to_der(EVP_PKEY *key, sim_bytes *out)
{
    OSSL_ENCODER_CTX *ctx = NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    int ret = -1;

    sim_bytes_clear(out);
    ctx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", NULL);
    if (ctx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ctx) == 0 ||
        !OSSL_ENCODER_to_data(ctx, &der, &len))
        goto end;
    if (sim_bytes_append(out, der, len) != 0)
        goto end;
    ret = 0;
end:
    OPENSSL_clear_free(der, len);
    OSSL_ENCODER_CTX_free(ctx);
    return ret;
}

EVP_PKEY *sim_key_load(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;

    if (der == NULL || len == 0 || len > LONG_MAX)
        return NULL;
    return d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
}

int sim_key_info(EVP_PKEY *key, int *type, int *bits)
{
    const sim_xcurve *x;

    if (key == NULL)
        return -1;
    if (EVP_PKEY_is_a(key, "RSA")) {
        *type = SIM_KEY_RSA;
    } else if (sim_curve_of_key(key) != NULL) {
        /* For every curve of 6.3 the order has as many bits as the field. */
        *type = SIM_KEY_EC;
    } else if ((x = sim_xcurve_of_key(key)) != NULL) {
        /* the firmware stores them as EC keys (PICOKEYS_KEY_EC) and counts their size as the
         * private key's bytes (store_keys): 256, 448, 256, 456 */
        *type = SIM_KEY_EC;
        *bits = (int)(x->raw_len * 8);
        return 0;
    } else {
        return -1;
    }
    *bits = EVP_PKEY_get_bits(key);
    return *bits > 0 ? 0 : -1;
}

/* -------------------------------------------------------- CVC signatures */

static int ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half, sim_bytes *out)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    int ret = -1;

    sim_bytes_clear(out);
    if (len > LONG_MAX)
        goto end;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL)
        goto end;
    ECDSA_SIG_get0(sig, &r, &s);
    if (bn_append_pad(out, r, half) != 0 || bn_append_pad(out, s, half) != 0)
        goto end;
    ret = 0;
end:
    ECDSA_SIG_free(sig);
    return ret;
}

int sim_cvc_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, sim_bytes *out)
{
    EVP_MD_CTX *md = NULL;
    const sim_curve *c = NULL;
    uint8_t *sig = NULL;
    size_t slen = 0;
    int ret = -1;

    sim_bytes_clear(out);
    if (key == NULL)
        goto end;
    if (sim_xcurve_of_key(key) != NULL)
        return sim_xcurve_cvc_sign(key, msg, len, out);
    if (!EVP_PKEY_is_a(key, "RSA")) {
        c = sim_curve_of_key(key);
        if (c == NULL)
            goto end;
    }
    md = EVP_MD_CTX_new();
    /* RSA keys default to PKCS#1 v1.5, the padding of id-TA-RSA-v1-5-SHA-256. */
    if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, NULL, &slen, msg, len) != 1)
        goto end;
    sig = OPENSSL_malloc(slen);
    if (sig == NULL || EVP_DigestSign(md, sig, &slen, msg, len) != 1)
        goto end;
    if (c != NULL) {
        /* libcvc: ECDSA signatures are plain r||s, each padded to the field length. */
        if (ecdsa_der_to_raw(sig, slen, c->field_len, out) != 0)
            goto end;
    } else if (sim_bytes_append(out, sig, slen) != 0) {
        goto end;
    }
    ret = 0;
end:
    OPENSSL_free(sig);
    EVP_MD_CTX_free(md);
    return ret;
}

/* -------------------------------------------------------------------- SIGN */

/* SIGN algorithm bytes (firmware sc_hsm.h ALGO_*). */
#define ALGO_RSA_RAW 0x20
#define ALGO_RSA_PKCS1 0x30
#define ALGO_RSA_PSS 0x40
#define ALGO_RSA_PSS_SHA512 0x45
#define ALGO_EC_RAW 0x70
#define ALGO_EC_SHA512 0x75
#define ALGO_RSA_DECRYPT 0x21
#define ALGO_RSA_DECRYPT_PKCS1 0x22
#define ALGO_RSA_DECRYPT_OAEP 0x23
#define ALGO_EC_DH 0x80
#define ALGO_EC_DH_XKEK 0x84

/* The hash an on-card-hash algorithm applies (31-35, 41-45, 71-75), NULL otherwise. */
static const char *alg_hash(uint8_t alg)
{
    static const char *const names[] = {NULL, "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
    unsigned hi = alg >> 4, lo = alg & 0x0f;

    if ((hi == 3 || hi == 4 || hi == 7) && lo >= 1 && lo <= 5)
        return names[lo];
    return NULL;
}

/* The hash of a hash length, for PSS with an external hash (alg 40). */
static const char *hash_by_len(size_t len)
{
    switch (len) {
    case 20:
        return "SHA1";
    case 28:
        return "SHA224";
    case 32:
        return "SHA256";
    case 48:
        return "SHA384";
    case 64:
        return "SHA512";
    default:
        return NULL;
    }
}

/* The DER contents of the digest algorithm OIDs a DigestInfo may name. */
static const struct {
    const char *md;
    uint8_t oid[9];
    size_t len;
} digest_oids[] = {
    {"SHA1", {0x2b, 0x0e, 0x03, 0x02, 0x1a}, 5},
    {"SHA224", {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04}, 9},
    {"SHA256", {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}, 9},
    {"SHA384", {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}, 9},
    {"SHA512", {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}, 9},
};

/*
 * The firmware's DigestInfo scan (cmd_signature.c): a top-level 30 whose
 * content holds a 30 with an 06 and an 04. A known digest OID sets the hash;
 * the 04 content replaces the data to sign whatever the OID. *oid_seen tells
 * whether an OID was found at all (for alg 40's length rule).
 */
static void scan_digest_info(const uint8_t *in, size_t inlen, const char **md, const uint8_t **hash,
                             size_t *hlen, int *oid_seen)
{
    const uint8_t *seq, *alg, *oid, *oct;
    size_t seqlen, alglen, oidlen, octlen;
    size_t i;

    *oid_seen = 0;
    if (sim_tlv_find(in, inlen, 0x30, &seq, &seqlen) != 1 || seqlen == 0)
        return;
    if (sim_tlv_find(seq, seqlen, 0x30, &alg, &alglen) == 1 && alglen > 0 &&
        sim_tlv_find(alg, alglen, 0x06, &oid, &oidlen) == 1 && oidlen > 0) {
        *oid_seen = 1;
        for (i = 0; i < sizeof(digest_oids) / sizeof(digest_oids[0]); i++) {
            if (oidlen == digest_oids[i].len && memcmp(oid, digest_oids[i].oid, oidlen) == 0)
                *md = digest_oids[i].md;
        }
    }
    if (sim_tlv_find(seq, seqlen, 0x04, &oct, &octlen) == 1) {
        *hash = oct;
        *hlen = octlen;
    }
}

static int md_size(const char *name)
{
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    int n = md != NULL ? EVP_MD_get_size(md) : -1;

    EVP_MD_free(md);
    return n;
}

static int digest(const char *name, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    unsigned int n = 0;

    if (EVP_Digest(in, inlen, out, &n, EVP_get_digestbyname(name), NULL) != 1)
        return -1;
    *outlen = n;
    return 0;
}

/* One private-key operation through EVP_PKEY_sign; out is replaced. */
static int pkey_sign(EVP_PKEY *key, int pad, const char *md, int saltlen, const uint8_t *tbs,
                     size_t tbslen, sim_bytes *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len = 0;
    int ret = -1;

    sim_bytes_clear(out);
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1)
        goto end;
    if (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1)
        goto end;
    if (md != NULL && EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(md)) != 1)
        goto end;
    if (pad == RSA_PKCS1_PSS_PADDING &&
        (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(md)) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) != 1))
        goto end;
    if (EVP_PKEY_sign(ctx, NULL, &len, tbs, tbslen) != 1 || sim_bytes_reserve(out, len) != 0 ||
        EVP_PKEY_sign(ctx, out->data, &len, tbs, tbslen) != 1)
        goto end;
    out->len = len;
    ret = 0;
end:
    EVP_PKEY_CTX_free(ctx);
    return ret;
}

/*
 * The modulus-length block the firmware hands to the raw RSA operation:
 * shorter input is zero-padded on the right (7.1, 7.2), longer input is cut
 * to the modulus length (mbedtls reads only that many bytes).
 */
static int rsa_block(const uint8_t *in, size_t inlen, size_t ks, sim_bytes *blk)
{
    sim_bytes_clear(blk);
    if (sim_bytes_reserve(blk, ks) != 0)
        return -1;
    memset(blk->data, 0, ks);
    memcpy(blk->data, in, inlen < ks ? inlen : ks);
    blk->len = ks;
    return 0;
}

static uint16_t sign_rsa(EVP_PKEY *key, uint8_t alg, const uint8_t *in, size_t inlen,
                         sim_bytes *out)
{
    const uint8_t *hash = in;
    size_t hlen = inlen;
    const char *md = alg_hash(alg);
    int oid_seen = 0, hsize;
    size_t ks = (size_t)EVP_PKEY_get_size(key);
    sim_bytes blk = {0};
    uint16_t sw = SW_EXEC_ERROR;

    /* 7.1: the firmware strips the DigestInfo but then signs with the length
     * of the whole DigestInfo, which mbedtls refuses: 30 never works. */
    if (alg == ALGO_RSA_PKCS1)
        goto end;
    scan_digest_info(in, inlen, &md, &hash, &hlen, &oid_seen);
    if (alg == ALGO_RSA_PSS && !oid_seen)
        md = hash_by_len(inlen);
    if (md == NULL) {
        /* No hash known: the input is the block itself (host padding). */
        if (rsa_block(in, inlen, ks, &blk) != 0 ||
            pkey_sign(key, RSA_NO_PADDING, NULL, 0, blk.data, blk.len, out) != 0)
            goto end;
        sw = SW_OK;
        goto end;
    }
    hsize = md_size(md);
    if (hsize <= 0 || hlen != (size_t)hsize)
        goto end;
    if (alg >= ALGO_RSA_PSS && alg <= ALGO_RSA_PSS_SHA512) {
        /* mbedtls's PSS salt: the hash length when the modulus has room for it,
         * else the largest that fits (the same as OpenSSL's "max"). */
        int salt = ks >= 2 * hlen + 2 ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_MAX;

        if (pkey_sign(key, RSA_PKCS1_PSS_PADDING, md, salt, hash, hlen, out) != 0)
            goto end;
    } else if (pkey_sign(key, RSA_PKCS1_PADDING, md, 0, hash, hlen, out) != 0) {
        goto end;
    }
    sw = SW_OK;
end:
    sim_bytes_free(&blk);
    if (sw != SW_OK)
        sim_bytes_clear(out);
    return sw;
}

uint16_t sim_key_sign(EVP_PKEY *key, uint8_t alg, const uint8_t *in, size_t inlen, sim_bytes *out)
{
    uint8_t h[EVP_MAX_MD_SIZE];
    size_t hlen = 0;
    const char *md = alg_hash(alg);
    int is_rsa = alg >= ALGO_RSA_RAW && alg <= ALGO_RSA_PSS_SHA512;
    int is_ec_alg = alg >= ALGO_EC_RAW && alg <= ALGO_EC_SHA512;

    sim_bytes_clear(out);
    if (!is_rsa && !is_ec_alg)
        return SW_INCORRECT_P1P2;
    if (key == NULL || in == NULL)
        return SW_EXEC_ERROR;
    /* An RSA algorithm on an EC key (and the reverse) fails at key load: 6400. So does ECDSA
     * on an X25519/X448 key; an Ed25519/Ed448 key (EdDSA builds) signs PureEdDSA below. */
    if (is_rsa != EVP_PKEY_is_a(key, "RSA") ||
        (is_ec_alg && sim_curve_of_key(key) == NULL && sim_xcurve_of_key(key) == NULL))
        return SW_EXEC_ERROR;
    if (md != NULL) {
        /* 3x/4x/7x: the card hashes the whole command data itself. */
        if (digest(md, in, inlen, h, &hlen) != 0)
            return SW_EXEC_ERROR;
        in = h;
        inlen = hlen;
    }
    if (is_rsa)
        return sign_rsa(key, alg, in, inlen, out);
    if (sim_xcurve_of_key(key) != NULL) /* 70: the whole data; 71-75: its hash */
        return sim_xcurve_sign(key, in, inlen, out);
    /* 70: the input is the hash, any length; ECDSA truncates it to the order.
     * No signature digest is set so that OpenSSL takes any length too. */
    if (pkey_sign(key, 0, NULL, 0, in, inlen, out) != 0)
        return SW_EXEC_ERROR;
    return SW_OK;
}

/* --------------------------------------------------------------- DECIPHER */

static int pkey_decrypt(EVP_PKEY *key, int pad, const uint8_t *in, size_t inlen, sim_bytes *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len = 0;
    int ret = -1;

    sim_bytes_clear(out);
    if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1)
        goto end;
    if (pad == RSA_PKCS1_OAEP_PADDING && (EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
                                          EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1))
        goto end;
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
    if (pad == RSA_PKCS1_PADDING) {
        /* OpenSSL >= 3.2 would answer random bytes for bad padding; the card
         * reports it (6400), so turn implicit rejection off. */
        unsigned int off = 0;
        OSSL_PARAM p[2];

        p[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, &off);
        p[1] = OSSL_PARAM_construct_end();
        if (EVP_PKEY_CTX_set_params(ctx, p) != 1)
            goto end;
    }
#endif
    if (EVP_PKEY_decrypt(ctx, NULL, &len, in, inlen) != 1 || sim_bytes_reserve(out, len) != 0 ||
        EVP_PKEY_decrypt(ctx, out->data, &len, in, inlen) != 1)
        goto end;
    out->len = len;
    ret = 0;
end:
    if (ret != 0)
        sim_bytes_clear(out);
    EVP_PKEY_CTX_free(ctx);
    return ret;
}

static uint16_t ecdh(EVP_PKEY *key, const uint8_t *in, size_t inlen, sim_bytes *out)
{
    const sim_curve *c = sim_curve_of_key(key);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *peer = NULL;
    size_t len = 0;
    uint16_t sw = SW_EXEC_ERROR;

    if (c == NULL)
        goto end;
    /* The firmware reads the point with mbedtls: a malformed encoding is 6984,
     * a well-formed point off the curve only fails in the multiplication (6400). */
    if (inlen == 0 || !((in[0] == 0x04 && inlen == 1 + 2 * c->field_len) ||
                        ((in[0] == 0x02 || in[0] == 0x03) && inlen == 1 + c->field_len))) {
        sw = SW_DATA_INVALID;
        goto end;
    }
    peer = sim_ec_pubkey_new(c, in, inlen);
    if (peer == NULL)
        goto end;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
        EVP_PKEY_derive(ctx, NULL, &len) != 1 || len != c->field_len)
        goto end;
    /* "The SmartCard-HSM returns the point result of the DH operation with a
     * leading 04" (7.2): 04 || x, x of the field length. */
    sim_bytes_clear(out);
    if (sim_bytes_reserve(out, 1 + len) != 0)
        goto end;
    out->data[0] = 0x04;
    if (EVP_PKEY_derive(ctx, out->data + 1, &len) != 1 || len != c->field_len)
        goto end;
    out->len = 1 + len;
    sw = SW_OK;
end:
    if (sw != SW_OK)
        sim_bytes_clear(out);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return sw;
}

uint16_t sim_key_decipher(EVP_PKEY *key, uint8_t alg, const uint8_t *in, size_t inlen,
                          sim_bytes *out)
{
    sim_bytes blk = {0};
    size_t ks;
    int pad;
    uint16_t sw = SW_EXEC_ERROR;

    sim_bytes_clear(out);
    if (alg == ALGO_EC_DH) {
        if (key != NULL && in != NULL && sim_xcurve_of_key(key) != NULL)
            return sim_xcurve_derive(key, in, inlen, out);
        if (key == NULL || in == NULL || sim_curve_of_key(key) == NULL)
            return SW_EXEC_ERROR;
        return ecdh(key, in, inlen, out);
    }
    if (alg == ALGO_EC_DH_XKEK) {
        /* XKEK key domains (8.1) do not exist in the sim, so no domain can
         * match the certificate's UID (the firmware's last answer, 6A88). */
        return key != NULL && sim_curve_of_key(key) != NULL ? SW_REFERENCE_NOT_FOUND
                                                            : SW_EXEC_ERROR;
    }
    if (alg < ALGO_RSA_DECRYPT || alg > ALGO_RSA_DECRYPT_OAEP)
        return SW_WRONG_P1P2; /* 7.2: unknown algorithm is 6B00, not 6A86 */
    if (key == NULL || in == NULL || !EVP_PKEY_is_a(key, "RSA"))
        return SW_EXEC_ERROR;
    ks = (size_t)EVP_PKEY_get_size(key);
    if (rsa_block(in, inlen, ks, &blk) != 0)
        goto end;
    pad = alg == ALGO_RSA_DECRYPT         ? RSA_NO_PADDING
          : alg == ALGO_RSA_DECRYPT_PKCS1 ? RSA_PKCS1_PADDING
                                          : RSA_PKCS1_OAEP_PADDING;
    if (pkey_decrypt(key, pad, blk.data, blk.len, out) != 0)
        goto end;
    sw = SW_OK;
end:
    sim_bytes_free(&blk);
    return sw;
}

/* ------------------------------------------------------ MKEK, PIN, random */

int sim_seal(const uint8_t mkek[32], const uint8_t *in, size_t len, sim_bytes *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *p;
    int n = 0, ret = -1;

    sim_bytes_clear(out);
    if (mkek == NULL || (in == NULL && len > 0) || len > INT_MAX - 64 ||
        sim_bytes_reserve(out, GCM_NONCE_LEN + len + GCM_TAG_LEN) != 0)
        goto end;
    p = out->data;
    if (RAND_bytes(p, GCM_NONCE_LEN) != 1)
        goto end;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, mkek, p) != 1)
        goto end;
    if (len > 0 && EVP_EncryptUpdate(ctx, p + GCM_NONCE_LEN, &n, in, (int)len) != 1)
        goto end;
    if (EVP_EncryptFinal_ex(ctx, p + GCM_NONCE_LEN + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, p + GCM_NONCE_LEN + len) != 1)
        goto end;
    out->len = GCM_NONCE_LEN + len + GCM_TAG_LEN;
    ret = 0;
end:
    if (ret != 0)
        sim_bytes_clear(out);
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

int sim_unseal(const uint8_t mkek[32], const uint8_t *in, size_t len, sim_bytes *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    size_t ctlen;
    uint8_t tag[GCM_TAG_LEN];
    int n = 0, ret = -1;

    sim_bytes_clear(out);
    if (mkek == NULL || in == NULL || len < GCM_NONCE_LEN + GCM_TAG_LEN || len > INT_MAX)
        goto end;
    ctlen = len - GCM_NONCE_LEN - GCM_TAG_LEN;
    memcpy(tag, in + len - GCM_TAG_LEN, GCM_TAG_LEN);
    if (sim_bytes_reserve(out, ctlen + 1) != 0)
        goto end;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, mkek, in) != 1)
        goto end;
    if (ctlen > 0 && EVP_DecryptUpdate(ctx, out->data, &n, in + GCM_NONCE_LEN, (int)ctlen) != 1)
        goto end;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, out->data + n, &n) != 1)
        goto end;
    out->len = ctlen;
    ret = 0;
end:
    if (ret != 0 && out->data != NULL) {
        /* Wipe whatever was decrypted before the tag check failed. */
        OPENSSL_cleanse(out->data, out->cap);
        out->len = 0;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

int sim_pin_derive(const uint8_t *pin, size_t pin_len, const uint8_t salt[16], const char *info,
                   uint8_t out[32])
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    OSSL_PARAM params[5];
    static const uint8_t none = 0;
    int ret = -1;

    if (salt == NULL || info == NULL || out == NULL || (pin == NULL && pin_len > 0))
        goto end;
    /* A PKA-only device has an empty PIN (3.1); HKDF takes an empty key. */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)(pin != NULL ? pin : &none), pin_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 16);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx == NULL || EVP_KDF_derive(ctx, out, 32, params) != 1)
        goto end;
    ret = 0;
end:
    if (ret != 0 && out != NULL)
        OPENSSL_cleanse(out, 32);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ret;
}

int sim_random(uint8_t *out, size_t len)
{
    if (len == 0)
        return 0;
    if (out == NULL || len > INT_MAX)
        return -1;
    return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}
