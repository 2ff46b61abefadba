/* SPDX-License-Identifier: Apache-2.0 */
#include "pkcs15.h"

#include <string.h>

#include "tlv.h"

/* typeAttributes [1] { SEQUENCE { Path, INTEGER size, ..., [SEQUENCE { OID } ecDomain],
 * [0] { AlgorithmIdentifier } } }: the first INTEGER is the size; the ecDomain of an A0 key
 * names a type of keytype.c; the [0] our restriction extension. -1 when malformed. */
static int type_attrs(const uint8_t *p, size_t n, pico_prkd *out)
{
    pico_tlv seq, t, a;
    const uint8_t *q;
    size_t i, m, v = 0;
    int have_size = 0;

    if (pico_tlv_next(&p, &n, &seq) != 1 || seq.tag != 0x30)
        return 0;
    p = seq.val;
    n = seq.len;
    while (pico_tlv_next(&p, &n, &t) == 1) {
        if (t.tag == 0x02 && !have_size) {
            have_size = 1;
            if (t.len == 0 || t.len > 3)
                continue;
            for (i = 0; i < t.len; i++)
                v = v << 8 | t.val[i];
            out->size = (int)v;
        } else if (t.tag == 0x30 && have_size && out->type == PICO_KEY_EC) {
            /* an ecDomain of no curve we know leaves a plain EC key, as OpenSC reads it */
            const pico_key_type_info *k;
            if (pico_tlv_find(t.val, t.len, 0x06, &a) == 1 &&
                (k = pico_key_type_by_prkd_oid(a.val, a.len)) != NULL)
                out->type = k->type;
        } else if (t.tag == 0xA0 && have_size) {
            q = t.val;
            m = t.len;
            if (pico_tlv_next(&q, &m, &a) != 1 || a.tag != 0x30 ||
                (size_t)(q - t.val) > sizeof(out->algid))
                return -1;
            out->algid_len = (size_t)(q - t.val);
            memcpy(out->algid, t.val, out->algid_len);
        }
    }
    return 0;
}

int pico_prkd_decode(const uint8_t *der, size_t len, pico_prkd *out)
{
    pico_tlv obj, t, f;
    const uint8_t *p, *q;
    size_t n, m;
    int child = 0;

    memset(out, 0, sizeof(*out));
    p = der;
    n = len;
    if (pico_tlv_next(&p, &n, &obj) != 1 || (obj.tag != 0xA0 && obj.tag != 0x30))
        return -1;
    out->type = obj.tag == 0xA0 ? PICO_KEY_EC : PICO_KEY_RSA;
    p = obj.val;
    n = obj.len;
    while (pico_tlv_next(&p, &n, &t) == 1) {
        child++;
        if (child == 1 && t.tag == 0x30) {
            /* CommonObjectAttributes: label UTF8String first, flags, authId */
            q = t.val;
            m = t.len;
            if (pico_tlv_find(q, m, 0x0C, &f) == 1) {
                size_t l = f.len < sizeof(out->label) - 1 ? f.len : sizeof(out->label) - 1;
                memcpy(out->label, f.val, l);
                out->label[l] = '\0';
            }
        } else if (child == 2 && t.tag == 0x30) {
            /* CommonKeyAttributes: iD OCTET STRING first */
            q = t.val;
            m = t.len;
            if (pico_tlv_next(&q, &m, &f) == 1 && f.tag == 0x04) {
                if (f.len > sizeof(out->id))
                    return -1;
                memcpy(out->id, f.val, f.len);
                out->id_len = f.len;
            }
        } else if (t.tag == 0xA1) {
            if (type_attrs(t.val, t.len, out) != 0)
                return -1;
        }
    }
    return child >= 2 ? 0 : -1;
}

/* Appends a TLV; returns the new position or 0 when it does not fit. */
static size_t put(uint8_t *out, size_t pos, size_t cap, unsigned tag, const uint8_t *v, size_t l)
{
    size_t h = pico_tlv_header(NULL, tag, l);

    if (pos + h + l > cap)
        return 0;
    pico_tlv_header(out + pos, tag, l);
    if (l > 0)
        memcpy(out + pos + h, v, l);
    return pos + h + l;
}

/* typeAttributes [1] { SEQUENCE { Path, INTEGER field size | modulus bits, [SEQUENCE { OID }
 * ecDomain of the curve25519/448 keys], [0] { AlgorithmIdentifier } when the key is
 * restricted to one } } */
static size_t type_attrs_encode(const pico_key_type_info *t, const pico_prkd *in, uint8_t *out,
                                size_t cap)
{
    /* Path { OCTET STRING empty }: the key reference always comes from the FID (6.4) */
    static const uint8_t empty_path[] = {0x04, 0x00};
    int size = t->prkd_size != 0 ? t->prkd_size : in->size;
    const uint8_t size_be[2] = {(uint8_t)(size >> 8), (uint8_t)size};
    uint8_t attrs[160], dom[24];
    size_t nattrs, ndom = 0, nseq;

    if ((nattrs = put(attrs, 0, sizeof(attrs), 0x30, empty_path, sizeof(empty_path))) == 0 ||
        (nattrs = put(attrs, nattrs, sizeof(attrs), 0x02, size_be, 2)) == 0)
        return 0;
    if (t->prkd_oid_len > 0 &&
        ((ndom = put(dom, 0, sizeof(dom), 0x06, t->prkd_oid, t->prkd_oid_len)) == 0 ||
         (nattrs = put(attrs, nattrs, sizeof(attrs), 0x30, dom, ndom)) == 0))
        return 0;
    if (in->algid_len > 0 &&
        (in->algid_len > sizeof(in->algid) ||
         (nattrs = put(attrs, nattrs, sizeof(attrs), 0xA0, in->algid, in->algid_len)) == 0))
        return 0;
    if ((nseq = put(out, 0, cap, 0x30, attrs, nattrs)) == 0)
        return 0;
    return nseq;
}

size_t pico_prkd_encode(const pico_prkd *in, uint8_t *out, size_t cap)
{
    const pico_key_type_info *t = pico_key_type_info_of(in->type);
    uint8_t coa[160], cka[80], seq[176], body[512];
    size_t ncoa, ncka, nseq, nbody;

    if (t == NULL)
        return 0;
    if ((ncoa = put(coa, 0, sizeof(coa), 0x0C, (const uint8_t *)in->label, strlen(in->label))) == 0)
        return 0;
    if ((ncka = put(cka, 0, sizeof(cka), 0x04, in->id, in->id_len)) == 0 ||
        (ncka = put(cka, ncka, sizeof(cka), 0x03, t->prkd_usage, t->prkd_usage_len)) == 0)
        return 0;
    if ((nseq = type_attrs_encode(t, in, seq, sizeof(seq))) == 0)
        return 0;
    if ((nbody = put(body, 0, sizeof(body), 0x30, coa, ncoa)) == 0 ||
        (nbody = put(body, nbody, sizeof(body), 0x30, cka, ncka)) == 0 ||
        (nbody = put(body, nbody, sizeof(body), 0xA1, seq, nseq)) == 0)
        return 0;
    return put(out, 0, cap, t->prkd_tag, body, nbody);
}

/* The label UTF8String of CommonObjectAttributes, into a NUL-terminated buffer. */
static void common_label(const uint8_t *p, size_t n, char *label, size_t cap)
{
    pico_tlv f;

    if (pico_tlv_find(p, n, 0x0C, &f) == 1) {
        size_t l = f.len < cap - 1 ? f.len : cap - 1;
        memcpy(label, f.val, l);
        label[l] = '\0';
    }
}

/* X509CertificateAttributes { value Path { OCTET STRING path ... } ... }: the last file ID. */
static uint16_t cert_attr_fid(const uint8_t *p, size_t n)
{
    pico_tlv attrs, path, f;

    if (pico_tlv_next(&p, &n, &attrs) != 1 || attrs.tag != 0x30)
        return 0;
    p = attrs.val;
    n = attrs.len;
    /* the value is a Path (indirect); a direct [0] value has no file */
    if (pico_tlv_next(&p, &n, &path) != 1 || path.tag != 0x30)
        return 0;
    if (pico_tlv_find(path.val, path.len, 0x04, &f) != 1 || f.len < 2 || f.len % 2 != 0)
        return 0;
    return (uint16_t)(f.val[f.len - 2] << 8 | f.val[f.len - 1]);
}

int pico_cd_decode(const uint8_t *der, size_t len, pico_cd *out)
{
    pico_tlv obj, t, f;
    const uint8_t *p, *q;
    size_t n, m;
    int child = 0, have_attrs = 0;

    memset(out, 0, sizeof(*out));
    p = der;
    n = len;
    /* x509Certificate is the SEQUENCE choice of CertificateType; others are tagged [n] */
    if (pico_tlv_next(&p, &n, &obj) != 1 || obj.tag != 0x30)
        return -1;
    p = obj.val;
    n = obj.len;
    for (;;) {
        int r = pico_tlv_next(&p, &n, &t);
        if (r == 0)
            break;
        if (r < 0)
            return -1;
        child++;
        if (child == 1 && t.tag == 0x30) {
            common_label(t.val, t.len, out->label, sizeof(out->label));
        } else if (child == 2 && t.tag == 0x30) {
            /* CommonCertificateAttributes: iD OCTET STRING, authority BOOLEAN DEFAULT FALSE */
            q = t.val;
            m = t.len;
            if (pico_tlv_next(&q, &m, &f) != 1 || f.tag != 0x04 || f.len > sizeof(out->id))
                return -1;
            memcpy(out->id, f.val, f.len);
            out->id_len = f.len;
            if (pico_tlv_next(&q, &m, &f) == 1 && f.tag == 0x01 && f.len == 1)
                out->authority = f.val[0] != 0;
        } else if (child >= 3 && t.tag == 0xA1) {
            out->fid = cert_attr_fid(t.val, t.len);
            have_attrs = 1;
        }
    }
    return child >= 2 && have_attrs ? 0 : -1;
}
