/* SPDX-License-Identifier: Apache-2.0 */
/*
 * As nginx does: a master loads a device key, then forks workers that sign
 * with it. Each worker signs a few messages and verifies them with the public
 * half; the master signs once before the fork (with "presign") and again after
 * its workers are done.
 *
 *   fork-sign URI WORKERS [presign]
 *
 * Exits 0 when every signature of every process verified.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load-providers.h"

static int sign_and_verify(EVP_PKEY *key, int n, const char *who)
{
    unsigned char msg[32], sig[1024];
    size_t sig_len;
    int i, ok = 1;

    for (i = 0; i < n && ok; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        snprintf((char *)msg, sizeof(msg), "%s %d %d", who, (int)getpid(), i);
        sig_len = sizeof(sig);
        ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1 &&
             EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;
        EVP_MD_CTX_free(md);
    }
    if (!ok) {
        fprintf(stderr, "fork-sign: %s %d: signature %d failed\n", who, (int)getpid(), i);
        ERR_print_errors_fp(stderr);
    }
    return ok;
}

int main(int argc, char **argv)
{
    OSSL_STORE_CTX *store;
    EVP_PKEY *key = NULL;
    int workers, i, status, ok = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s URI WORKERS [presign]\n", argv[0]);
        return 2;
    }
    workers = atoi(argv[2]);
    if (!load_providers())
        goto fail;
    if ((store = OSSL_STORE_open(argv[1], NULL, NULL, NULL, NULL)) == NULL ||
        !OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY))
        goto fail;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    if (key == NULL)
        goto fail;
    if (argc > 3 && strcmp(argv[3], "presign") == 0 && !sign_and_verify(key, 1, "master"))
        goto fail;
    fflush(NULL);
    for (i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid < 0)
            goto fail;
        if (pid == 0)
            _exit(sign_and_verify(key, 5, "worker") ? 0 : 1);
    }
    for (i = 0; i < workers; i++) {
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            ok = 0;
    }
    if (!ok || !sign_and_verify(key, 2, "master"))
        goto fail;
    EVP_PKEY_free(key);
    printf("fork-sign: %d workers and the master signed\n", workers);
    return 0;
fail:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    return 1;
}
