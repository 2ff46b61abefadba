/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CV certificates and requests of the virtual Pico HSM: parsing, the GAKP
 * answer (6.2), the self-issued device certificate (2.5), the PKA signature
 * check (5.2, 5.6) and the default PrKD (6.4).
 *
 * The byte layout is the one the firmware's libcvc writes, because OpenSC
 * decodes these objects with a fixed, ordered ASN.1 template
 * (sc_pkcs15emu_sc_hsm_decode_cvc): body 5F29, 42, 7F49, 5F20, then the
 * optional CHAT and dates; 7F49 06, 81..87 in order.
 */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "crypto_int.h"
#include "crypto_wrap.h"

#define SW_OK 0x9000
#define SW_EXEC_ERROR 0x6400
#define SW_WRONG_DATA 0x6700 /* the firmware's SW_WRONG_DATA is 6700 (1.7) */
#define SW_CONDITIONS_NOT_SATISFIED 0x6985
#define SW_FUNC_NOT_SUPPORTED 0x6A81

/* libcvc keeps CAR, CHR and the outer CAR in 64-byte buffers. */
#define CVC_MAX_REF 64
/* Bound on the CAR -> CHR walk of 5.2; the firmware has none and loops on a cycle. */
#define PKA_MAX_CHAIN 8

const uint8_t sim_oid_ta_rsa_v15_sha256[SIM_OID_TA_LEN] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                                           0x02, 0x02, 0x02, 0x01, 0x02};
const uint8_t sim_oid_ta_rsa_pss_sha256[SIM_OID_TA_LEN] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                                           0x02, 0x02, 0x02, 0x01, 0x04};
const uint8_t sim_oid_ta_ecdsa_sha256[SIM_OID_TA_LEN] = {0x04, 0x00, 0x7F, 0x00, 0x07,
                                                         0x02, 0x02, 0x02, 0x02, 0x03};

/* libcvc's default CHAT (role of a self-issued device certificate) and the
 * fixed validity the firmware writes: one digit per byte, 2023-03-21 to 2070-12-31. */
static const uint8_t default_chat[] = {0x06, 0x09, 0x04, 0x00, 0x7F, 0x00, 0x07,
                                       0x03, 0x01, 0x02, 0x02, 0x53, 0x01, 0x00};
static const uint8_t valid_from[] = {0x02, 0x03, 0x00, 0x03, 0x02, 0x01};
static const uint8_t valid_to[] = {0x07, 0x00, 0x01, 0x02, 0x03, 0x01};

int sim_oid_is_ta_ecdsa(const uint8_t *oid, size_t len)
{
    /* id-TA-ECDSA-SHA-1/224/256/384/512: the last arc is 1..5. */
    return oid != NULL && len == SIM_OID_TA_LEN &&
           memcmp(oid, sim_oid_ta_ecdsa_sha256, SIM_OID_TA_LEN - 1) == 0 && oid[9] >= 1 &&
           oid[9] <= 5;
}

/* ------------------------------------------------------------------ parse */

/* Walks every TLV of (p, len); 0 when all are well formed, -1 otherwise. */
static int parse_pubkey(const uint8_t *p, size_t len, sim_cvc *out)
{
    const uint8_t *v;
    size_t vl;
    unsigned tag;
    int rc;

    while ((rc = sim_tlv_next(&p, &len, &tag, &v, &vl)) == 1) {
        if (tag == 0x06 && out->oid == NULL) {
            out->oid = v;
            out->oid_len = vl;
        }
    }
    return rc == 0 && out->oid != NULL && out->oid_len > 0 ? 0 : -1;
}

static int parse_body(const uint8_t *p, size_t len, sim_cvc *out)
{
    const uint8_t *v;
    size_t vl;
    unsigned tag;
    int rc;

    out->body = p;
    out->body_len = len;
    while ((rc = sim_tlv_next(&p, &len, &tag, &v, &vl)) == 1) {
        if (tag == 0x42 && out->car == NULL) {
            out->car = v;
            out->car_len = vl;
        } else if (tag == 0x5F20 && out->chr == NULL) {
            out->chr = v;
            out->chr_len = vl;
        } else if (tag == 0x7F49 && out->pubkey == NULL) {
            out->pubkey = v;
            out->pubkey_len = vl;
            if (parse_pubkey(v, vl, out) != 0)
                return -1;
        }
    }
    return rc == 0 && out->pubkey != NULL ? 0 : -1;
}

/* The contents of a 7F21: 7F4E body and 5F37 signature. */
static int parse_cert_contents(const uint8_t *p, size_t len, sim_cvc *out)
{
    const uint8_t *v;
    size_t vl;
    unsigned tag;
    int rc, have_body = 0;

    while ((rc = sim_tlv_next(&p, &len, &tag, &v, &vl)) == 1) {
        if (tag == 0x7F4E && !have_body) {
            if (parse_body(v, vl, out) != 0)
                return -1;
            have_body = 1;
        }
    }
    return rc == 0 && have_body ? 0 : -1;
}

int sim_cvc_parse(const uint8_t *p, size_t len, sim_cvc *out)
{
    const uint8_t *start = p, *v, *cv;
    size_t total = len, vl, cvl;
    unsigned tag, t2;
    int rc = -1, have_cert = 0;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (p == NULL || sim_tlv_next(&p, &len, &tag, &v, &vl) != 1)
        goto end;
    if (tag == 0x7F21) {
        /* Bytes after the first object are ignored: EF 2F02 may hold the device
         * certificate followed by its issuer's (2.5), and the first one counts. */
        rc = parse_cert_contents(v, vl, out);
    } else if (tag == 0x7F4E) {
        /* PSO VERIFY CERTIFICATE sends the contents of 7F21 without its header (5.3). */
        rc = parse_cert_contents(start, total, out);
    } else if (tag == 0x67) {
        while ((rc = sim_tlv_next(&v, &vl, &t2, &cv, &cvl)) == 1) {
            if (t2 == 0x7F21 && !have_cert) {
                if (parse_cert_contents(cv, cvl, out) != 0)
                    break;
                have_cert = 1;
            } else if (t2 == 0x42 && have_cert && out->outer_car == NULL) {
                out->outer_car = cv;
                out->outer_car_len = cvl;
            }
        }
        rc = rc == 0 && have_cert ? 0 : -1;
    }
end:
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ------------------------------------------------------------------ build */

/* Wraps the bytes from offset `from` of out in a TLV with this tag, in place. */
static int wrap_from(sim_bytes *out, size_t from, unsigned tag)
{
    sim_bytes hdr = {0};
    size_t vlen = out->len - from;
    int ret = -1;

    if (sim_tlv_put_header(&hdr, tag, vlen) != 0 || sim_bytes_reserve(out, hdr.len) != 0)
        goto end;
    if (vlen > 0)
        memmove(out->data + from + hdr.len, out->data + from, vlen);
    memcpy(out->data + from, hdr.data, hdr.len);
    out->len += hdr.len;
    ret = 0;
end:
    sim_bytes_free(&hdr);
    return ret;
}

/*
 * 7F49 of a key as the firmware writes it (6.2): RSA 06, 81 n, 82 e; EC 06,
 * 81 p, 82 a, 83 b, 84 G, 85 order, 86 Q, 87 cofactor, all field-length;
 * the curve25519/448 keys as xcurves.c writes them.
 */
static int put_pubkey_template(sim_bytes *out, EVP_PKEY *key)
{
    static const uint8_t cofactor = 0x01; /* every curve of 6.3 has cofactor 1 */
    const sim_curve *c = NULL;
    sim_ec_domain d = {0};
    sim_bytes a = {0}, b = {0};
    size_t from = out->len;
    int ret = -1;

    if (EVP_PKEY_is_a(key, "RSA")) {
        if (sim_rsa_public(key, &a, &b) != 0 ||
            sim_tlv_put(out, 0x06, sim_oid_ta_rsa_v15_sha256, SIM_OID_TA_LEN) != 0 ||
            sim_tlv_put(out, 0x81, a.data, a.len) != 0 ||
            sim_tlv_put(out, 0x82, b.data, b.len) != 0)
            goto end;
    } else if (sim_xcurve_of_key(key) != NULL) {
        if (sim_xcurve_put_template(out, key) != 0)
            goto end;
    } else {
        c = sim_curve_of_key(key);
        if (c == NULL || sim_ec_domain_get(c, &d) != 0 || sim_ec_public_point(key, &a) != 0 ||
            sim_tlv_put(out, 0x06, sim_oid_ta_ecdsa_sha256, SIM_OID_TA_LEN) != 0 ||
            sim_tlv_put(out, 0x81, d.p.data, d.p.len) != 0 ||
            sim_tlv_put(out, 0x82, d.a.data, d.a.len) != 0 ||
            sim_tlv_put(out, 0x83, d.b.data, d.b.len) != 0 ||
            sim_tlv_put(out, 0x84, d.g.data, d.g.len) != 0 ||
            sim_tlv_put(out, 0x85, d.n.data, d.n.len) != 0 ||
            sim_tlv_put(out, 0x86, a.data, a.len) != 0 || sim_tlv_put(out, 0x87, &cofactor, 1) != 0)
            goto end;
    }
    ret = wrap_from(out, from, 0x7F49);
end:
    sim_ec_domain_free(&d);
    sim_bytes_free(&a);
    sim_bytes_free(&b);
    return ret;
}

/*
 * Appends 7F21 { 7F4E { 5F29 00, 42 car, 7F49, 5F20 chr [, 7F4C, 5F25, 5F24] },
 * 5F37 signature by signer over the whole 7F4E TLV }: libcvc's
 * cvc_build_cert_body / cvc_write_cert_der layout. `full` adds the role and
 * validity, which the device certificate has and GAKP requests do not.
 */
static int put_cert(sim_bytes *out, EVP_PKEY *subject, EVP_PKEY *signer, const uint8_t *car,
                    size_t car_len, const uint8_t *chr, size_t chr_len, int full)
{
    static const uint8_t cpi = 0x00;
    sim_bytes sig = {0};
    size_t from = out->len, body;
    int ret = -1;

    if (sim_tlv_put(out, 0x5F29, &cpi, 1) != 0 || sim_tlv_put(out, 0x42, car, car_len) != 0 ||
        put_pubkey_template(out, subject) != 0 || sim_tlv_put(out, 0x5F20, chr, chr_len) != 0)
        goto end;
    if (full && (sim_tlv_put(out, 0x7F4C, default_chat, sizeof(default_chat)) != 0 ||
                 sim_tlv_put(out, 0x5F25, valid_from, sizeof(valid_from)) != 0 ||
                 sim_tlv_put(out, 0x5F24, valid_to, sizeof(valid_to)) != 0))
        goto end;
    if (wrap_from(out, from, 0x7F4E) != 0)
        goto end;
    body = out->len - from;
    if (sim_cvc_sign(signer, out->data + from, body, &sig) != 0 ||
        sim_tlv_put(out, 0x5F37, sig.data, sig.len) != 0 || wrap_from(out, from, 0x7F21) != 0)
        goto end;
    ret = 0;
end:
    sim_bytes_free(&sig);
    return ret;
}

/*
 * The authenticated request of a GAKP answer (6.2): 67 { 7F21 (self-signed by
 * the new key), 42 dev_name, 5F37 device-key signature }. As in libcvc's
 * cvc_write_req_der, the outer signature covers the 7F21 TLV followed by the
 * outer 42 TLV.
 */
static int put_request(sim_bytes *out, EVP_PKEY *key, EVP_PKEY *devkey, const uint8_t *car,
                       size_t car_len, const uint8_t *chr, size_t chr_len, const uint8_t *dev_name,
                       size_t dev_name_len)
{
    sim_bytes sig = {0};
    size_t from = out->len;
    int ret = -1;

    if (put_cert(out, key, key, car, car_len, chr, chr_len, 0) != 0 ||
        sim_tlv_put(out, 0x42, dev_name, dev_name_len) != 0 ||
        sim_cvc_sign(devkey, out->data + from, out->len - from, &sig) != 0 ||
        sim_tlv_put(out, 0x5F37, sig.data, sig.len) != 0 || wrap_from(out, from, 0x67) != 0)
        goto end;
    ret = 0;
end:
    sim_bytes_free(&sig);
    return ret;
}

/* ------------------------------------------------------------------- GAKP */

/* tlv_get_uint of the firmware: big-endian, at most the first 4 bytes. */
static uint32_t get_uint(const uint8_t *v, size_t len)
{
    uint32_t x = 0;
    size_t i;

    for (i = 0; i < len && i < 4; i++)
        x = (x << 8) | v[i];
    return x;
}

/*
 * The key of an ECDSA-OID template (cmd_keypair_gen.c): 81 the prime (6700 without, 6A81
 * unknown); curve25519/448 need 83 (6700 without), which in EdDSA builds picks the Edwards
 * curve when it is not the Montgomery base point. NULL with *sw on refusal.
 */
static EVP_PKEY *ec_generate(const uint8_t *tmpl, size_t tmpl_len, uint16_t *sw)
{
    const uint8_t *v, *g;
    size_t vl, gl;
    const sim_curve *c;
    const sim_xcurve *x;
    EVP_PKEY *key;

    if (sim_tlv_find(tmpl, tmpl_len, 0x81, &v, &vl) != 1) {
        *sw = SW_WRONG_DATA;
        return NULL;
    }
    if ((c = sim_curve_by_prime(v, vl)) != NULL) {
        key = sim_ec_generate(c);
    } else if ((x = sim_xcurve_by_prime(v, vl)) != NULL) {
        if (sim_tlv_find(tmpl, tmpl_len, 0x83, &g, &gl) != 1) {
            *sw = SW_WRONG_DATA;
            return NULL;
        }
        key = sim_xcurve_generate(sim_xcurve_pick(x, g, gl));
    } else {
        *sw = SW_FUNC_NOT_SUPPORTED;
        return NULL;
    }
    if (key == NULL)
        *sw = SW_EXEC_ERROR;
    return key;
}

uint16_t sim_key_generate(const uint8_t *req, size_t req_len, EVP_PKEY *devkey,
                          const uint8_t *dev_name, size_t dev_name_len, int *type, int *bits,
                          sim_bytes *priv, sim_bytes *cvreq)
{
    const uint8_t *tmpl, *oid, *v, *car, *chr;
    size_t tmpl_len, oid_len, vl, car_len, chr_len;
    EVP_PKEY *key = NULL;
    int rsa_bits = 2048;
    uint16_t sw = SW_EXEC_ERROR;

    sim_bytes_clear(priv);
    sim_bytes_clear(cvreq);
    *type = 0;
    *bits = 0;
    /* cmd_keypair_gen.c: no (or an empty) 7F49 at the top level is 6700. */
    if (req == NULL || sim_tlv_find(req, req_len, 0x7F49, &tmpl, &tmpl_len) != 1 || tmpl_len == 0) {
        sw = SW_WRONG_DATA;
        goto end;
    }
    if (sim_tlv_find(tmpl, tmpl_len, 0x06, &oid, &oid_len) != 1 || oid_len == 0) {
        /* No algorithm: the firmware answers 9000 with no data and no key. */
        sw = SW_OK;
        goto end;
    }
    /* The firmware compares the RSA OID over the request's OID length and the
     * ECDSA one over at most 10 bytes; anything else (e.g. id-TA-ECDSA-SHA-1)
     * falls through to 9000 with no data and no key (field-notes.md). */
    if (oid_len <= SIM_OID_TA_LEN && memcmp(oid, sim_oid_ta_rsa_v15_sha256, oid_len) == 0) {
        if (sim_tlv_find(tmpl, tmpl_len, 0x02, &v, &vl) == 1 && vl > 0)
            rsa_bits = (int)get_uint(v, vl);
        /* mbedtls_rsa_gen_key refuses odd sizes and sizes below 1024; the
         * answer buffer ends at 4096. Its failure is SW_EXEC_ERROR. 82
         * (exponent) is ignored: only 65537 is usable on the card (6.2). */
        if (rsa_bits < 1024 || rsa_bits > 4096 || rsa_bits % 2 != 0)
            goto end;
        key = sim_rsa_generate(rsa_bits);
    } else if (memcmp(oid, sim_oid_ta_ecdsa_sha256,
                      oid_len < SIM_OID_TA_LEN ? oid_len : SIM_OID_TA_LEN) == 0) {
        if ((key = ec_generate(tmpl, tmpl_len, &sw)) == NULL)
            goto end;
    } else {
        sw = SW_OK;
        goto end;
    }
    if (key == NULL)
        goto end;
    /* CAR and CHR come from the request, else the device name (cvc.c,
     * cvc_configure_cert); libcvc refuses references over 64 bytes. */
    if (sim_tlv_find(req, req_len, 0x42, &car, &car_len) != 1 || car_len == 0) {
        car = dev_name;
        car_len = dev_name_len;
    }
    if (sim_tlv_find(req, req_len, 0x5F20, &chr, &chr_len) != 1 || chr_len == 0) {
        chr = dev_name;
        chr_len = dev_name_len;
    }
    if (devkey == NULL || dev_name == NULL || dev_name_len == 0 || dev_name_len > CVC_MAX_REF ||
        car_len > CVC_MAX_REF || chr_len > CVC_MAX_REF)
        goto end;
    if (put_request(cvreq, key, devkey, car, car_len, chr, chr_len, dev_name, dev_name_len) != 0 ||
        sim_key_to_der(key, priv) != 0 || sim_key_info(key, type, bits) != 0)
        goto end;
    sw = SW_OK;
end:
    if (sw != SW_OK || key == NULL) {
        sim_bytes_clear(priv);
        sim_bytes_clear(cvreq);
        *type = 0;
        *bits = 0;
    }
    EVP_PKEY_free(key);
    return sw;
}

/* ---------------------------------------------------------------- devkey */

int sim_devkey_create(const uint8_t *dev_name, size_t dev_name_len, sim_bytes *priv,
                      sim_bytes *cert)
{
    EVP_PKEY *key = NULL;
    int ret = -1;

    sim_bytes_clear(priv);
    sim_bytes_clear(cert);
    if (dev_name == NULL || dev_name_len == 0 || dev_name_len > CVC_MAX_REF)
        goto end;
    /* 3.4: without an OTP key the device key is a random P-256 key. */
    key = sim_ec_generate(sim_curve_by_name("prime256v1"));
    if (key == NULL || sim_key_to_der(key, priv) != 0 ||
        put_cert(cert, key, key, dev_name, dev_name_len, dev_name, dev_name_len, 1) != 0)
        goto end;
    ret = 0;
end:
    if (ret != 0) {
        sim_bytes_clear(priv);
        sim_bytes_clear(cert);
    }
    EVP_PKEY_free(key);
    return ret;
}

/* -------------------------------------------------------------------- PKA */

static int verify_digest(EVP_PKEY *key, int pad, const uint8_t *hash, const uint8_t *sig,
                         size_t sig_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = 0;

    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1)
        goto end;
    if (pad != 0 && (EVP_PKEY_CTX_set_rsa_padding(ctx, pad) != 1 ||
                     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1))
        goto end;
    /* 5.6: PSS with SHA-256 and MGF1-SHA-256, any salt length. */
    if (pad == RSA_PKCS1_PSS_PADDING &&
        (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) != 1))
        goto end;
    ok = EVP_PKEY_verify(ctx, sig, sig_len, hash, 32) == 1;
end:
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int verify_rsa(const sim_cvc *reg, const uint8_t *hash, const uint8_t *sig, size_t sig_len)
{
    const uint8_t *n, *e;
    size_t nl, el;
    EVP_PKEY *key = NULL;
    int pad, ok = 0;

    /* Only the SHA-256 OIDs can work: the card hashes with SHA-256 and
     * mbedtls checks the hash length against the OID's hash (5.6). */
    if (memcmp(reg->oid, sim_oid_ta_rsa_v15_sha256, SIM_OID_TA_LEN) == 0)
        pad = RSA_PKCS1_PADDING;
    else if (memcmp(reg->oid, sim_oid_ta_rsa_pss_sha256, SIM_OID_TA_LEN) == 0)
        pad = RSA_PKCS1_PSS_PADDING;
    else
        goto end;
    if (sim_tlv_find(reg->pubkey, reg->pubkey_len, 0x81, &n, &nl) != 1 ||
        sim_tlv_find(reg->pubkey, reg->pubkey_len, 0x82, &e, &el) != 1)
        goto end;
    key = sim_rsa_pubkey_new(n, nl, e, el);
    /* mbedtls reads exactly a modulus-length signature. */
    if (key == NULL || sig_len != (size_t)EVP_PKEY_get_size(key))
        goto end;
    ok = verify_digest(key, pad, hash, sig, sig_len);
end:
    EVP_PKEY_free(key);
    return ok;
}

/*
 * 5.2: the curve of an EC PKA key comes from the prime of the first
 * certificate with CAR = CHR met by following CAR -> CHR from the request.
 */
static const sim_curve *pka_curve(const sim_cvc *reg, sim_cert_lookup_fn lookup, void *lookup_ctx)
{
    sim_cvc cur = *reg;
    const uint8_t *cert, *p;
    size_t cert_len, plen;
    int step;

    for (step = 0; step < PKA_MAX_CHAIN; step++) {
        if (cur.car == NULL || (cur.chr != NULL && cur.car_len == cur.chr_len &&
                                memcmp(cur.car, cur.chr, cur.car_len) == 0)) {
            if (sim_tlv_find(cur.pubkey, cur.pubkey_len, 0x81, &p, &plen) != 1)
                return NULL;
            return sim_curve_by_prime(p, plen);
        }
        if (lookup == NULL || lookup(lookup_ctx, cur.car, cur.car_len, &cert, &cert_len) != 1 ||
            sim_cvc_parse(cert, cert_len, &cur) != 0)
            return NULL;
    }
    return NULL;
}

static int verify_ec(const sim_cvc *reg, sim_cert_lookup_fn lookup, void *lookup_ctx,
                     const uint8_t *hash, const uint8_t *sig, size_t sig_len)
{
    const sim_curve *c;
    const uint8_t *q;
    size_t ql, half;
    EVP_PKEY *key = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int derlen, ok = 0;

    if (sim_tlv_find(reg->pubkey, reg->pubkey_len, 0x86, &q, &ql) != 1)
        goto end;
    c = pka_curve(reg, lookup, lookup_ctx);
    if (c == NULL)
        goto end;
    key = sim_ec_pubkey_new(c, q, ql);
    /* Plain r||s: the card reads r and s from the two halves (cvc.c,
     * puk_verify), so a DER signature never verifies (6985, 5.6). */
    if (key == NULL || sig_len == 0 || sig_len % 2 != 0 || sig_len / 2 > 2 * c->field_len)
        goto end;
    half = sig_len / 2;
    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto end;
    r = s = NULL; /* owned by es now */
    derlen = i2d_ECDSA_SIG(es, &der);
    if (derlen <= 0)
        goto end;
    ok = verify_digest(key, 0, hash, der, (size_t)derlen);
end:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    EVP_PKEY_free(key);
    return ok;
}

uint16_t sim_pka_verify(const uint8_t *reg, size_t reg_len, sim_cert_lookup_fn lookup,
                        void *lookup_ctx, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len)
{
    sim_cvc cvc;
    uint8_t hash[32];
    int ok = 0;

    if (sig == NULL || (msg == NULL && msg_len > 0) || sim_cvc_parse(reg, reg_len, &cvc) != 0 ||
        cvc.oid_len != SIM_OID_TA_LEN)
        return SW_CONDITIONS_NOT_SATISFIED;
    if (EVP_Digest(msg != NULL ? msg : (const uint8_t *)"", msg_len, hash, NULL, EVP_sha256(),
                   NULL) != 1)
        return SW_CONDITIONS_NOT_SATISFIED;
    if (memcmp(cvc.oid, sim_oid_ta_rsa_v15_sha256, SIM_OID_TA_LEN - 1) == 0)
        ok = verify_rsa(&cvc, hash, sig, sig_len);
    else if (sim_oid_is_ta_ecdsa(cvc.oid, cvc.oid_len))
        ok = verify_ec(&cvc, lookup, lookup_ctx, hash, sig, sig_len);
    return ok ? SW_OK : SW_CONDITIONS_NOT_SATISFIED;
}

/* ------------------------------------------------------------------- PrKD */

int sim_prkd_default(int type, unsigned keyref, int bits, sim_bytes *out)
{
    /* KeyUsage bits of asn1_build_prkd_generic: EC sign+derive, RSA
     * decrypt+sign+signRecover+unwrap (6.4). */
    static const uint8_t usage_ec[] = {0x07, 0x20, 0x80};
    static const uint8_t usage_rsa[] = {0x02, 0x74};
    const uint8_t *usage;
    size_t usage_len, from;
    unsigned size;
    uint8_t sz[2];
    char id[12];
    int n, ret = -1;
    unsigned outer;

    sim_bytes_clear(out);
    if (type == SIM_KEY_EC) {
        usage = usage_ec;
        usage_len = sizeof(usage_ec);
        outer = 0xA0; /* PrivateECKeyObject [0] */
    } else if (type == SIM_KEY_RSA) {
        usage = usage_rsa;
        usage_len = sizeof(usage_rsa);
        outer = 0x30; /* PrivateRSAKeyObject */
    } else {
        goto end;
    }
    if (bits <= 0 || bits > 0xFFFF)
        goto end;
    /* The firmware records the key size as its byte length times 8 (store_keys),
     * so P-521 shows 528, and always as a two-byte INTEGER. */
    size = ((unsigned)bits + 7) / 8 * 8;
    if (size > 0xFFFF)
        goto end;
    sz[0] = (uint8_t)(size >> 8);
    sz[1] = (uint8_t)size;
    n = snprintf(id, sizeof(id), "%u", keyref);
    if (n <= 0 || (size_t)n >= sizeof(id))
        goto end;
    /* CommonObjectAttributes { label "" } */
    if (sim_tlv_put_header(out, 0x30, 2) != 0 || sim_tlv_put(out, 0x0C, NULL, 0) != 0)
        goto end;
    /* CommonKeyAttributes { ID (ASCII key reference), usage } */
    from = out->len;
    if (sim_tlv_put(out, 0x04, (const uint8_t *)id, (size_t)n) != 0 ||
        sim_tlv_put(out, 0x03, usage, usage_len) != 0 || wrap_from(out, from, 0x30) != 0)
        goto end;
    /* [1] { SEQUENCE { SEQUENCE { path 04 00 }, INTEGER size } } */
    from = out->len;
    if (sim_tlv_put_header(out, 0x30, 2) != 0 || sim_tlv_put(out, 0x04, NULL, 0) != 0 ||
        sim_tlv_put(out, 0x02, sz, sizeof(sz)) != 0 || wrap_from(out, from, 0x30) != 0 ||
        wrap_from(out, from, 0xA1) != 0 || wrap_from(out, 0, outer) != 0)
        goto end;
    ret = 0;
end:
    if (ret != 0)
        sim_bytes_clear(out);
    return ret;
}

/* ------------------------------------------------------------ UNWRAP request */

int sim_key_cvreq(EVP_PKEY *key, EVP_PKEY *devkey, const uint8_t *dev_name, size_t dev_name_len,
                  sim_bytes *out)
{
    sim_bytes_clear(out);
    if (key == NULL || devkey == NULL || dev_name == NULL || dev_name_len == 0 ||
        dev_name_len > CVC_MAX_REF)
        return -1;
    return put_request(out, key, devkey, dev_name, dev_name_len, dev_name, dev_name_len, dev_name,
                       dev_name_len);
}
