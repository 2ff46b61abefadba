/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signatures per second through the provider in one long-running process:
 * loads the key once through OSSL_STORE, then N EVP_DigestSign calls
 * (SHA-256; ECDSA or RSA PKCS#1 v1.5), as a TLS server would.
 *
 *   provider_sign URI N
 *
 * Prints "provider_sign N=<n> <ops/s> ops/s <ms> ms/op".
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store-load.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    OSSL_PROVIDER *pico, *dflt;
    EVP_PKEY *key = NULL;
    unsigned char msg[64] = "bench", sig[1024];
    size_t sig_len;
    int n, i, rc = 1;
    double t0, dt;

    if (argc != 3) {
        fprintf(stderr, "usage: %s URI N\n", argv[0]);
        return 2;
    }
    n = atoi(argv[2]);
    dflt = OSSL_PROVIDER_load(NULL, "default"); /* default first (pico-provider(7)) */
    pico = OSSL_PROVIDER_load(NULL, "pico");
    if (pico == NULL || dflt == NULL)
        goto end;
    /* as openssl's apps do: say a private key is wanted */
    key = store_load_pkey(NULL, argv[1]);
    if (key == NULL)
        goto end;
    t0 = now_ms();
    for (i = 0; i < n; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        sig_len = sizeof(sig);
        msg[0] = (unsigned char)i;
        if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) != 1) {
            EVP_MD_CTX_free(md);
            goto end;
        }
        EVP_MD_CTX_free(md);
    }
    dt = now_ms() - t0;
    printf("provider_sign N=%d %.1f ops/s %.3f ms/op\n", n, n * 1000.0 / dt, dt / n);
    rc = 0;
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    OSSL_PROVIDER_unload(pico);
    OSSL_PROVIDER_unload(dflt);
    return rc;
}
