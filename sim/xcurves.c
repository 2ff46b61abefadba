/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The curve25519 and curve448 keys of the virtual Pico HSM: X25519 and X448
 * (ECDH only), Ed25519 and Ed448 (PureEdDSA, only when the virtual device
 * models a firmware built with ENABLE_EDDSA: --eddsa).
 *
 * As the firmware: cmd_keypair_gen.c picks the curve from the prime (81) and,
 * in EdDSA builds only, the Edwards curve of that prime when the base point
 * (83) is not the Montgomery one (first byte 09; for curve448 also 56 bytes).
 * A firmware without EdDSA ignores 83 beyond requiring it and makes the
 * Montgomery key, 9000. The answer's template is libcvc's for these curves
 * (cvc_build_pubkey_template_ex): id-RI-ECDH-SHA-256, 81 p, 82 order,
 * 83 G, 84 the public key (RFC 7748 / RFC 8032 bytes).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "crypto.h"
#include "crypto_int.h"

#define SW_OK 0x9000
#define SW_EXEC_ERROR 0x6400
#define SW_DATA_INVALID 0x6984

const uint8_t sim_oid_ri_ecdh_sha256[SIM_OID_TA_LEN] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                                        0x02, 0x02, 0x05, 0x02, 0x03};

static int eddsa_build;

void sim_set_eddsa(int on)
{
    eddsa_build = on != 0;
}

int sim_eddsa(void)
{
    return eddsa_build;
}

/* Big-endian p and order (mbedtls grp->P, grp->N); G as libcvc writes it. */
static const sim_xcurve xcurves[] = {
    {"X25519", 0, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed",
     "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed",
     "0900000000000000000000000000000000000000000000000000000000000000", 32},
    {"X448", 0,
     "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffff"
     "ffffffffffffffffffffff",
     "3fffffffffffffffffffffffffffffffffffffffffffffffffffffff7cca23e9c44edb49aed63690216cc2728d"
     "c58f552378c292ab5844f3",
     "0500000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000",
     56},
    {"ED25519", 1, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed",
     "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed",
     "5866666666666666666666666666666666666666666666666666666666666666", 32},
    {"ED448", 1,
     "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffff"
     "ffffffffffffffffffffff",
     "3fffffffffffffffffffffffffffffffffffffffffffffffffffffff7cca23e9c44edb49aed63690216cc2728d"
     "c58f552378c292ab5844f3",
     "14fa30f25b790898adc8d74e2c13bdfdc4397ce61cffd33ad7c2a0051e9c78874098a36c7373ea4b62c7c95637"
     "20768824bcb66e71463f6900",
     57},
};

#define N_XCURVES (sizeof(xcurves) / sizeof(xcurves[0]))

/* Appends the bytes of a hex string. */
static int put_hex(sim_bytes *out, unsigned tag, const char *hex)
{
    long n = 0;
    unsigned char *b = OPENSSL_hexstr2buf(hex, &n);
    int ret = b != NULL && n > 0 ? sim_tlv_put(out, tag, b, (size_t)n) : -1;

    OPENSSL_free(b);
    return ret;
}

/* Whether (v, len) is the prime of c, exactly as the firmware compares (same length). */
static int is_prime_of(const sim_xcurve *c, const uint8_t *v, size_t len)
{
    long n = 0;
    unsigned char *b = OPENSSL_hexstr2buf(c->p_hex, &n);
    int eq = b != NULL && (size_t)n == len && memcmp(b, v, len) == 0;

    OPENSSL_free(b);
    return eq;
}

const sim_xcurve *sim_xcurve_by_prime(const uint8_t *p, size_t plen)
{
    size_t i;

    for (i = 0; p != NULL && i < N_XCURVES; i++)
        if (!xcurves[i].edwards && is_prime_of(&xcurves[i], p, plen))
            return &xcurves[i];
    return NULL;
}

const sim_xcurve *sim_xcurve_pick(const sim_xcurve *mont, const uint8_t *g, size_t glen)
{
    /* cmd_keypair_gen.c under MBEDTLS_EDDSA_C: curve25519 and g[0] != 9, curve448 and
     * (len != 56 or g[0] != 5). An empty 83 reads a byte the firmware did not check: here
     * it is "not the Montgomery point". */
    int other = mont->raw_len == 32 ? (glen == 0 || g[0] != 0x09) : (glen != 56 || g[0] != 0x05);

    if (!eddsa_build || !other)
        return mont;
    return mont->raw_len == 32 ? &xcurves[2] : &xcurves[3];
}

const sim_xcurve *sim_xcurve_of_key(EVP_PKEY *key)
{
    size_t i;

    for (i = 0; key != NULL && i < N_XCURVES; i++)
        if (EVP_PKEY_is_a(key, xcurves[i].name))
            return &xcurves[i];
    return NULL;
}

EVP_PKEY *sim_xcurve_generate(const sim_xcurve *c)
{
    return c != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, c->name) : NULL;
}

int sim_xcurve_put_template(sim_bytes *out, EVP_PKEY *key)
{
    const sim_xcurve *c = sim_xcurve_of_key(key);
    uint8_t pub[57];
    size_t len = sizeof(pub);

    if (c == NULL || EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != c->raw_len)
        return -1;
    if (sim_tlv_put(out, 0x06, sim_oid_ri_ecdh_sha256, SIM_OID_TA_LEN) != 0 ||
        put_hex(out, 0x81, c->p_hex) != 0 || put_hex(out, 0x82, c->order_hex) != 0 ||
        put_hex(out, 0x83, c->g_hex) != 0 || sim_tlv_put(out, 0x84, pub, len) != 0)
        return -1;
    return 0;
}

/* PureEdDSA of msg (no digest: OpenSSL's one-shot EdDSA). */
static int eddsa_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, sim_bytes *out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t slen = 0;
    int ret = -1;

    sim_bytes_clear(out);
    if (md == NULL || EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, NULL, &slen, msg, len) != 1 || sim_bytes_reserve(out, slen) != 0 ||
        EVP_DigestSign(md, out->data, &slen, msg, len) != 1)
        goto end;
    out->len = slen;
    ret = 0;
end:
    if (ret != 0)
        sim_bytes_clear(out);
    EVP_MD_CTX_free(md);
    return ret;
}

int sim_xcurve_cvc_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, sim_bytes *out)
{
    const sim_xcurve *c = sim_xcurve_of_key(key);
    uint8_t h[32];
    unsigned hlen = 0;
    size_t i;

    sim_bytes_clear(out);
    if (c == NULL)
        return -1;
    if (!c->edwards) {
        /* libcvc: a Montgomery key cannot sign; cvc.c allows a zero signature of twice the
         * key length (mbedtls_pk_get_len * 2) */
        for (i = 0; i < 2 * c->raw_len; i++)
            if (sim_bytes_append_byte(out, 0) != 0)
                return -1;
        return 0;
    }
    /* libcvc signs the SHA-256 of the body; an Edwards key with PureEdDSA over that hash */
    if (EVP_Digest(msg, len, h, &hlen, EVP_sha256(), NULL) != 1)
        return -1;
    return eddsa_sign(key, h, hlen, out);
}

uint16_t sim_xcurve_sign(EVP_PKEY *key, const uint8_t *in, size_t inlen, sim_bytes *out)
{
    const sim_xcurve *c = sim_xcurve_of_key(key);

    /* cmd_signature.c: EdDSA only for the Edwards groups; a Montgomery key fails in
     * mbedtls_ecdsa_write_signature (SW_EXEC_ERROR) */
    if (c == NULL || !c->edwards)
        return SW_EXEC_ERROR;
    return eddsa_sign(key, in, inlen, out) == 0 ? SW_OK : SW_EXEC_ERROR;
}

uint16_t sim_xcurve_derive(EVP_PKEY *key, const uint8_t *in, size_t inlen, sim_bytes *out)
{
    const sim_xcurve *c = sim_xcurve_of_key(key);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *peer = NULL;
    size_t len = 0;
    uint16_t sw = SW_EXEC_ERROR;

    sim_bytes_clear(out);
    if (c == NULL || c->edwards)
        goto end;
    /* mbedtls_ecdh_read_public: a Montgomery point is exactly the field length, else 6984 */
    if (inlen != c->raw_len) {
        sw = SW_DATA_INVALID;
        goto end;
    }
    if ((peer = EVP_PKEY_new_raw_public_key_ex(NULL, c->name, NULL, in, inlen)) == NULL) {
        sw = SW_DATA_INVALID;
        goto end;
    }
    /* a low-order point (an all-zero secret) fails in the multiplication: SW_EXEC_ERROR */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
        sim_bytes_reserve(out, 1 + c->raw_len) != 0)
        goto end;
    out->data[0] = 0x04; /* "with a leading 04", as for the Weierstrass curves */
    len = c->raw_len;
    if (EVP_PKEY_derive(ctx, out->data + 1, &len) != 1 || len != c->raw_len)
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
