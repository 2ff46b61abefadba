/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signatures per second from THREADS threads sharing one key, loaded once
 * through OSSL_STORE (a threaded server's key): with a pool (the same key on
 * several devices) the threads' signatures spread over the devices.
 *
 *   pool_sign URI N THREADS
 *
 * Prints "pool_sign N=<n> threads=<t> <ops/s> ops/s"; exits 1 when a
 * signature failed.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static EVP_PKEY *key;
static atomic_int left, failed;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *signer(void *arg)
{
    unsigned char msg[64] = "bench", sig[1024];
    size_t sig_len;

    (void)arg;
    while (atomic_fetch_sub(&left, 1) > 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        sig_len = sizeof(sig);
        if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) != 1) {
            ERR_print_errors_fp(stderr);
            atomic_fetch_add(&failed, 1);
        }
        EVP_MD_CTX_free(md);
    }
    return NULL;
}

static EVP_PKEY *load(const char *uri)
{
    OSSL_STORE_CTX *store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    EVP_PKEY *k = NULL;

    if (store != NULL && !OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY))
        store = NULL;
    while (store != NULL && k == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            k = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return k;
}

int main(int argc, char **argv)
{
    OSSL_PROVIDER *pico, *dflt;
    pthread_t th[64];
    int n, t, i, rc = 1;
    double t0, dt;

    if (argc != 4 || (t = atoi(argv[3])) < 1 || t > 64) {
        fprintf(stderr, "usage: %s URI N THREADS (1..64)\n", argv[0]);
        return 2;
    }
    n = atoi(argv[2]);
    dflt = OSSL_PROVIDER_load(NULL, "default"); /* default first (pico-provider(7)) */
    pico = OSSL_PROVIDER_load(NULL, "pico");
    if (pico == NULL || dflt == NULL || (key = load(argv[1])) == NULL)
        goto end;
    atomic_store(&left, n);
    t0 = now_ms();
    for (i = 0; i < t; i++)
        pthread_create(&th[i], NULL, signer, NULL);
    for (i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    dt = now_ms() - t0;
    printf("pool_sign N=%d threads=%d %.1f ops/s\n", n, t, n * 1000.0 / dt);
    rc = atomic_load(&failed) != 0;
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    OSSL_PROVIDER_unload(pico);
    OSSL_PROVIDER_unload(dflt);
    return rc;
}
