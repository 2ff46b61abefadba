/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an application finds on OpenSSL's error queue after an operation
 * through the provider: opens a pico: URI with OSSL_STORE (a search across
 * every reader), loads its private key and signs INFILE with SHA-256.
 *
 *   store-sign-errors ok URI INFILE
 *       the signature must succeed and leave the queue empty (ERR_peek_error
 *       is 0): the readers that held no such key failed as expected, inside
 *       a mark, and left nothing behind;
 *   store-sign-errors fail REASON URI INFILE
 *       the load or the signature must fail, with an error of the provider
 *       whose reason string contains REASON on the queue.
 * The queue is printed on stderr when it holds anything.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/store.h>
#include <stdio.h>
#include <string.h>

#include "load-providers.h"

/* 1 when the key loads and signs */
static int store_sign(const char *uri, const char *path)
{
    unsigned char msg[4096], sig[1024];
    size_t msg_len, sig_len = sizeof(sig);
    OSSL_STORE_CTX *store;
    OSSL_STORE_INFO *info;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    FILE *in;
    int ok = 0;

    if ((in = fopen(path, "rb")) == NULL)
        return 0;
    msg_len = fread(msg, 1, sizeof(msg), in);
    fclose(in);
    if ((store = OSSL_STORE_open_ex(uri, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) == NULL)
        return 0;
    while (key == NULL && !OSSL_STORE_eof(store) && (info = OSSL_STORE_load(store)) != NULL) {
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    ok = key != NULL && (md = EVP_MD_CTX_new()) != NULL &&
         EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestSign(md, sig, &sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ok;
}

/* 1 when an error on the queue has a reason string containing want */
static int queue_has(const char *want)
{
    unsigned long e;
    const char *reason;
    int found = 0;

    while ((e = ERR_get_error()) != 0) {
        reason = ERR_reason_error_string(e);
        fprintf(stderr, "queue: lib %d reason %d: %s\n", ERR_GET_LIB(e), ERR_GET_REASON(e),
                reason != NULL ? reason : "(none)");
        if (reason != NULL && strstr(reason, want) != NULL)
            found = 1;
    }
    return found;
}

int main(int argc, char **argv)
{
    int ok;

    if (!((argc == 4 && strcmp(argv[1], "ok") == 0) ||
          (argc == 5 && strcmp(argv[1], "fail") == 0))) {
        fprintf(stderr, "usage: %s ok URI INFILE | fail REASON URI INFILE\n", argv[0]);
        return 2;
    }
    if (!load_providers()) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    ERR_clear_error();
    if (argc == 4) {
        ok = store_sign(argv[2], argv[3]);
        if (!ok || ERR_peek_error() != 0) {
            fprintf(stderr, "%s, and the error queue is %s\n", ok ? "signed" : "not signed",
                    ERR_peek_error() != 0 ? "not empty" : "empty");
            ERR_print_errors_fp(stderr);
            return 1;
        }
        printf("signed, error queue empty\n");
        return 0;
    }
    if (store_sign(argv[3], argv[4])) {
        fprintf(stderr, "signed, but must fail\n");
        return 1;
    }
    if (!queue_has(argv[2])) {
        fprintf(stderr, "no error with reason '%s' on the queue\n", argv[2]);
        return 1;
    }
    printf("failed with '%s'\n", argv[2]);
    return 0;
}
