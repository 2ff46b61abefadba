/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host-side CV objects (common/cvc.c): the public key of a key generation
 * answer or certificate, and the CHR of EF 2F02, both device answers. A key
 * that parses also goes through pico_cvc_pka_request (a PKA key the user
 * gives), whose request must parse back to the same key and CHR.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stand-in signer: the request's layout is under test, not its signatures. */
static pico_err fake_sign(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    if (*sig_len < 64)
        return PICO_E_ARGS;
    memset(sig, 0x5A, 64);
    *sig_len = 64;
    return PICO_OK;
}

static void check_request(EVP_PKEY *pub)
{
    static const char chr[] = "FUZZ00001";
    uint8_t *req = NULL;
    const uint8_t *c;
    size_t req_len = 0, c_len;
    EVP_PKEY *back = NULL;
    char curve[64];
    int bits = 0;

    if (pico_cvc_pka_request(pub, chr, fake_sign, NULL, &req, &req_len) != PICO_OK)
        goto end;
    if (pico_cvc_public_key(req, req_len, &back, curve, sizeof(curve), &bits) != PICO_OK ||
        EVP_PKEY_eq(pub, back) != 1)
        abort();
    if (pico_cvc_chr(req, req_len, &c, &c_len) != PICO_OK || c_len != strlen(chr) ||
        memcmp(c, chr, c_len) != 0)
        abort();
end:
    EVP_PKEY_free(back);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    EVP_PKEY *pub = NULL;
    const uint8_t *chr = NULL;
    size_t chr_len = 0;
    char curve[64];
    int bits = 0;

    if (pico_cvc_chr(data, size, &chr, &chr_len) == PICO_OK &&
        (chr_len == 0 || chr < data || chr + chr_len > data + size))
        abort();
    if (pico_cvc_public_key(data, size, &pub, curve, sizeof(curve), &bits) == PICO_OK) {
        if (pub == NULL || bits <= 0)
            abort();
        check_request(pub);
    }
    EVP_PKEY_free(pub);
    return 0;
}
