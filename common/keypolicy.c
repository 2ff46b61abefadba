/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key policy names and tags 90/91/92 (keypolicy.h). The names are the algorithms the
 * firmware tells apart by the P2 byte of SIGN (7.1) and DECIPHER (7.2), and WRAP (8.2):
 * "ecdsa" is SIGN 70 (the hash made on the host, what the provider sends), "ecdsa-sha256"
 * SIGN 73 (the card hashes); "rsa-pkcs1" and "rsa-raw" are both SIGN 20, since the provider
 * pads PKCS#1 v1.5 on the host (30 is broken on the firmware); "rsa-decrypt" is every
 * DECIPHER of an RSA key (21 raw, 22 PKCS#1 v1.5, 23 OAEP).
 */
#include "keypolicy.h"

#include <string.h>

#include "tlv.h"

#define K_RSA 1u
#define K_EC 2u
#define K_XDH 4u
#define K_ED 8u

typedef struct alg_name {
    const char *name;
    unsigned kinds;
    uint8_t algs[3];
    size_t nalgs;
} alg_name;

static const alg_name names[] = {
    {"ecdsa", K_EC, {0x70}, 1},
    {"ecdsa-sha1", K_EC, {0x71}, 1},
    {"ecdsa-sha224", K_EC, {0x72}, 1},
    {"ecdsa-sha256", K_EC, {0x73}, 1},
    {"ecdsa-sha384", K_EC, {0x74}, 1},
    {"ecdsa-sha512", K_EC, {0x75}, 1},
    {"eddsa", K_ED, {0x70}, 1},
    {"ecdh", K_EC | K_XDH, {0x80}, 1},
    {"rsa-pkcs1", K_RSA, {0x20}, 1},
    {"rsa-raw", K_RSA, {0x20}, 1},
    {"rsa-pkcs1-sha256", K_RSA, {0x33}, 1},
    {"rsa-pss", K_RSA, {0x40}, 1},
    {"rsa-pss-sha256", K_RSA, {0x43}, 1},
    {"rsa-decrypt", K_RSA, {0x21, 0x22, 0x23}, 3},
    {"wrap", K_RSA | K_EC | K_XDH | K_ED, {0x92}, 1},
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

void pico_key_policy_init(pico_key_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->domain = -1;
}

static unsigned kind_of(pico_key_type type)
{
    const pico_key_type_info *t = pico_key_type_info_of(type);

    if (t == NULL)
        return 0;
    if (t->shape == PICO_CVC_RSA)
        return K_RSA;
    if (t->shape == PICO_CVC_EC)
        return K_EC;
    return t->needs_eddsa ? K_ED : K_XDH;
}

static pico_err add_name(pico_key_policy *p, unsigned kind, const char *name, size_t len)
{
    size_t i, j;

    for (i = 0; i < NNAMES; i++)
        if (strlen(names[i].name) == len && strncmp(names[i].name, name, len) == 0)
            break;
    if (i == NNAMES)
        return pico_err_raise(PICO_E_ARGS, "unknown algorithm \"%.*s\" (known: %s)", (int)len, name,
                              pico_key_policy_names());
    if ((names[i].kinds & kind) == 0)
        return pico_err_raise(PICO_E_ARGS, "algorithm %s is not one of this key type",
                              names[i].name);
    for (j = 0; j < names[i].nalgs; j++) {
        if (memchr(p->algs, names[i].algs[j], p->nalgs) != NULL)
            continue;
        if (p->nalgs == sizeof(p->algs))
            return pico_err_raise(PICO_E_ARGS, "too many algorithms");
        p->algs[p->nalgs++] = names[i].algs[j];
    }
    return PICO_OK;
}

pico_err pico_key_policy_add_algs(pico_key_policy *p, pico_key_type type, const char *list)
{
    unsigned kind = kind_of(type);
    const char *s = list, *e;
    pico_err err = PICO_OK;

    while (err == PICO_OK && s != NULL && *s != '\0') {
        e = strchr(s, ',');
        if (e == NULL)
            e = s + strlen(s);
        if (e == s)
            err = pico_err_raise(PICO_E_ARGS, "empty algorithm name in \"%s\"", list);
        else
            err = add_name(p, kind, s, (size_t)(e - s));
        s = *e == ',' ? e + 1 : e;
    }
    return err;
}

const char *pico_key_policy_alg_name(uint8_t alg)
{
    size_t i, j;

    for (i = 0; i < NNAMES; i++)
        for (j = 0; j < names[i].nalgs; j++)
            if (names[i].algs[j] == alg && names[i].nalgs == 1)
                return names[i].name;
    for (i = 0; i < NNAMES; i++) /* 21, 22, 23: only in "rsa-decrypt" */
        if (memchr(names[i].algs, alg, names[i].nalgs) != NULL)
            return names[i].name;
    return NULL;
}

const char *pico_key_policy_names(void)
{
    return "ecdsa, ecdsa-sha1, ecdsa-sha224, ecdsa-sha256, ecdsa-sha384, ecdsa-sha512, eddsa, "
           "ecdh, rsa-pkcs1, rsa-raw, rsa-pkcs1-sha256, rsa-pss, rsa-pss-sha256, rsa-decrypt, "
           "wrap";
}

static int put(uint8_t *buf, size_t cap, size_t *pos, unsigned tag, const uint8_t *v, size_t l)
{
    size_t h = pico_tlv_header(NULL, tag, l);

    if (*pos + h + l > cap)
        return 0;
    *pos += pico_tlv_header(buf + *pos, tag, l);
    memcpy(buf + *pos, v, l);
    *pos += l;
    return 1;
}

int pico_key_policy_encode(const pico_key_policy *p, uint8_t *buf, size_t cap, size_t *pos)
{
    const uint8_t c[4] = {(uint8_t)(p->use_counter >> 24), (uint8_t)(p->use_counter >> 16),
                          (uint8_t)(p->use_counter >> 8), (uint8_t)p->use_counter};
    const uint8_t d = (uint8_t)p->domain;

    return (!p->has_counter || put(buf, cap, pos, 0x90, c, 4)) &&
           (p->nalgs == 0 || put(buf, cap, pos, 0x91, p->algs, p->nalgs)) &&
           (p->domain < 0 || put(buf, cap, pos, 0x92, &d, 1));
}

/* 90 04 counter, 91 L algorithms, 92 01 domain; 93 is kept by the firmware, of no use */
static pico_err parse_meta(const uint8_t *m, size_t len, pico_key_policy *p)
{
    pico_tlv t;
    int r;

    while ((r = pico_tlv_next(&m, &len, &t)) == 1) {
        if (t.tag == 0x90 && t.len == 4) {
            p->has_counter = 1;
            p->use_counter = (uint32_t)t.val[0] << 24 | (uint32_t)t.val[1] << 16 |
                             (uint32_t)t.val[2] << 8 | t.val[3];
        } else if (t.tag == 0x91 && t.len <= sizeof(p->algs)) {
            memcpy(p->algs, t.val, t.len);
            p->nalgs = t.len;
        } else if (t.tag == 0x92 && t.len == 1) {
            p->domain = t.val[0];
        }
    }
    return r < 0 ? pico_err_raise(PICO_E_BAD_RESPONSE, "key metadata: malformed") : PICO_OK;
}

pico_err pico_key_policy_from_fcp(const uint8_t *fcp, size_t len, pico_key_policy *p)
{
    pico_tlv outer, meta;
    int r;

    pico_key_policy_init(p);
    if (pico_tlv_find(fcp, len, 0x62, &outer) != 1)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "key file: no FCP in the SELECT answer");
    r = pico_tlv_find(outer.val, outer.len, 0xA5, &meta);
    if (r < 0)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "key file: malformed FCP");
    return r == 0 ? PICO_OK : parse_meta(meta.val, meta.len, p);
}
