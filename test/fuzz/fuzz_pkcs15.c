/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#15 descriptions read from the device (common/pkcs15.c): PrKD (EF
 * C4xx) and CD (EF C8xx). The first input byte picks the decoder. A PrKD
 * that decodes is encoded again (a relabel does that) and must decode to the
 * same label, ID, size and algorithm restriction. Its algorithm restriction is
 * read as an RSA-PSS key's (common/rsapss.c): restricted only when PSS, a
 * salt in range, and any failure raised, never a half-filled answer.
 */
#include <openssl/err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs15.h"
#include "rsapss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void prkd_round_trip(const pico_prkd *k)
{
    uint8_t der[1024];
    size_t n = pico_prkd_encode(k, der, sizeof(der));
    const pico_key_type_info *t = pico_key_type_info_of(k->type);
    pico_prkd back;

    if (n == 0)
        return;
    if (n > sizeof(der) || pico_prkd_decode(der, n, &back) != 0)
        abort();
    if (back.type != k->type || strcmp(back.label, k->label) != 0 || back.id_len != k->id_len ||
        memcmp(back.id, k->id, k->id_len) != 0 || back.algid_len != k->algid_len ||
        memcmp(back.algid, k->algid, k->algid_len) != 0)
        abort();
    /* the encoder writes two size bytes: device key sizes are at most 4096 bits; the types of
     * fixed size always their own */
    if (t != NULL && t->prkd_size != 0 ? back.size != t->prkd_size
                                       : k->size >= 0 && k->size <= 0xFFFF && back.size != k->size)
        abort();
}

static void pss_restriction(const pico_prkd *k)
{
    pico_key key;
    pico_pss_params pp;
    pico_err err;

    memset(&key, 0, sizeof(key));
    key.type = PICO_KEY_RSA;
    memcpy(key.algid, k->algid, k->algid_len);
    key.algid_len = k->algid_len;
    err = pico_key_pss_params(&key, &pp);
    if ((pp.restricted && !pp.pss) || (err != PICO_OK && pp.restricted) || pp.min_salt < 0 ||
        pp.min_salt > 0xFFFF)
        abort();
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pico_prkd k;
    pico_cd cd;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        if (pico_cd_decode(data + 1, size - 1, &cd) == 0 &&
            (cd.id_len > sizeof(cd.id) || memchr(cd.label, '\0', sizeof(cd.label)) == NULL))
            abort();
        return 0;
    }
    if (pico_prkd_decode(data + 1, size - 1, &k) != 0)
        return 0;
    if (k.id_len > sizeof(k.id) || k.algid_len > sizeof(k.algid) ||
        memchr(k.label, '\0', sizeof(k.label)) == NULL)
        abort();
    prkd_round_trip(&k);
    if (k.algid_len <= sizeof(((pico_key *)0)->algid))
        pss_restriction(&k);
    return 0;
}
