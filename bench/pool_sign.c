/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signatures per second from THREADS threads sharing one key, loaded once
 * through OSSL_STORE (a threaded server's key): with a pool (the same key on
 * several devices) the threads' signatures spread over the devices. With
 * PROCS, the key is loaded once and the process forks PROCS workers of
 * THREADS threads each (a pre-forking server's key: nginx's workers), which
 * share the N signatures.
 *
 *   pool_sign URI N THREADS [PROCS]
 *
 * Prints "pool_sign N=<n> threads=<t> procs=<p> <ops/s> ops/s"; exits 1 when
 * a signature failed.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store-load.h"

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

/* n signatures from t threads of this process; 0 when every one was made */
static int sign_threads(int n, int t)
{
    pthread_t th[64];
    int i;

    atomic_store(&left, n);
    for (i = 0; i < t; i++)
        pthread_create(&th[i], NULL, signer, NULL);
    for (i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    return atomic_load(&failed) != 0;
}

/* p workers forked from this process share n signatures; 0 when every one was made */
static int sign_procs(int n, int t, int p)
{
    pid_t pid[64];
    int i, st, rc = 0;

    for (i = 0; i < p; i++) {
        if ((pid[i] = fork()) == 0) {
            fflush(stdout);
            _exit(sign_threads(n / p + (i < n % p), t));
        }
        if (pid[i] < 0)
            return 1;
    }
    for (i = 0; i < p; i++)
        if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    OSSL_PROVIDER *pico, *dflt;
    int n, t, p = 0, rc = 1;
    double t0, dt;

    if ((argc != 4 && argc != 5) || (t = atoi(argv[3])) < 1 || t > 64 ||
        (argc == 5 && ((p = atoi(argv[4])) < 1 || p > 64))) {
        fprintf(stderr, "usage: %s URI N THREADS (1..64) [PROCS (1..64)]\n", argv[0]);
        return 2;
    }
    n = atoi(argv[2]);
    dflt = OSSL_PROVIDER_load(NULL, "default"); /* default first (pico-provider(7)) */
    pico = OSSL_PROVIDER_load(NULL, "pico");
    if (pico == NULL || dflt == NULL || (key = store_load_pkey(NULL, argv[1])) == NULL)
        goto end;
    t0 = now_ms();
    rc = p > 0 ? sign_procs(n, t, p) : sign_threads(n, t);
    dt = now_ms() - t0;
    printf("pool_sign N=%d threads=%d procs=%d %.1f ops/s\n", n, t, p, n * 1000.0 / dt);
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    OSSL_PROVIDER_unload(pico);
    OSSL_PROVIDER_unload(dflt);
    return rc;
}
