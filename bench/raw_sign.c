/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor a provider is measured against: SELECT, VERIFY, then N times the
 * same SIGN APDU the provider sends (ECDSA over a SHA-256 digest, RSA raw
 * with a PKCS#1 v1.5 block, or PureEdDSA over a 32-byte message), straight
 * through the command layer.
 *
 *   raw_sign READER KEYREF rsa|ec|ed25519|ed448 BITS N   (PIN from PICO_PIN, default 648219)
 *
 * Prints "raw_sign N=<n> <ops/s> ops/s <ms> ms/op".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytype.h"
#include "log.h"
#include "schsm.h"
#include "transport.h"

int main(int argc, char **argv)
{
    static pico_card card;
    const char *pin = getenv("PICO_PIN") ? getenv("PICO_PIN") : "648219";
    uint8_t in[512], out[1024];
    size_t in_len, out_len;
    pico_select_info info;
    const pico_key_type_info *type;
    int keyref, bits, n, i, tries;
    double t0, dt;

    if (argc != 6) {
        fprintf(stderr, "usage: %s READER KEYREF rsa|ec|ed25519|ed448 BITS N\n", argv[0]);
        return 2;
    }
    keyref = atoi(argv[2]);
    if ((type = pico_key_type_by_tool_name(argv[3])) == NULL || !(type->caps & PICO_CAP_SIGN)) {
        fprintf(stderr, "raw_sign: no signing key type '%s'\n", argv[3]);
        return 2;
    }
    bits = atoi(argv[4]);
    n = atoi(argv[5]);
    if (pico_pcsc_open(argv[1], &card.t) != PICO_OK || pico_schsm_select(&card, &info) != PICO_OK ||
        pico_schsm_verify(&card, PICO_PIN_USER, (const uint8_t *)pin, strlen(pin), &tries) !=
            PICO_OK) {
        fprintf(stderr, "raw_sign: cannot open, select or log in to '%s'\n", argv[1]);
        return 1;
    }
    if (type->type != PICO_KEY_RSA) {
        in_len = 32; /* the digest for ECDSA, the message for EdDSA: the same SIGN 70 */
        memset(in, 0x5A, in_len);
    } else {
        /* 00 01 FF .. FF 00 || 19-byte SHA-256 DigestInfo prefix || hash, as the provider builds */
        in_len = (size_t)bits / 8;
        memset(in, 0xFF, in_len);
        in[0] = 0x00;
        in[1] = 0x01;
        memcpy(in + in_len - 52,
               "\x00\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01"
               "\x05\x00\x04\x20",
               20);
        memset(in + in_len - 32, 0x5A, 32);
    }
    t0 = pico_log_now_ms();
    for (i = 0; i < n; i++) {
        out_len = type->type != PICO_KEY_RSA ? 256 : in_len;
        if (pico_schsm_sign(&card, (uint8_t)keyref,
                            type->type != PICO_KEY_RSA ? PICO_ALG_ECDSA : PICO_ALG_RSA_RAW, in,
                            in_len, out, &out_len) != PICO_OK) {
            fprintf(stderr, "raw_sign: SIGN failed (sw=%04X)\n", card.last_sw);
            return 1;
        }
    }
    dt = pico_log_now_ms() - t0;
    printf("raw_sign N=%d %.1f ops/s %.3f ms/op\n", n, n * 1000.0 / dt, dt / n);
    card.t->ops->free(card.t);
    return 0;
}
