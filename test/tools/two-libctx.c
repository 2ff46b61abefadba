/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two library contexts, each with the default and the pico provider (as two
 * libraries of one process would have them): a key is loaded and used in
 * both, then one context goes (its providers unloaded, the context freed)
 * and the other's key must still sign, verify and report errors.
 *
 *   two-libctx URI
 *
 * Prints "before ok", "after ok" and exits 0 when every signature verified
 * and a failure in the device layer left an error on the stack.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdio.h>

#include "store-load.h"

static int sign_verify(OSSL_LIB_CTX *libctx, EVP_PKEY *key)
{
    unsigned char msg[] = "two library contexts", sig[1024];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             EVP_DigestSignInit_ex(md, NULL, "SHA256", libctx, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1 &&
             EVP_DigestVerifyInit_ex(md, NULL, "SHA256", libctx, NULL, key, NULL) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

/* A failure inside the device layer (no such reader) must leave an error on the stack. */
static int failure_reported(OSSL_LIB_CTX *libctx)
{
    EVP_PKEY *key;

    ERR_clear_error();
    if ((key = store_load_pkey(libctx, "pico:reader=No%20Such%20Reader;object=x")) != NULL) {
        EVP_PKEY_free(key);
        return 0;
    }
    if (ERR_peek_error() == 0) {
        fprintf(stderr, "two-libctx: a failed load left no error\n");
        return 0;
    }
    ERR_clear_error();
    return 1;
}

int main(int argc, char **argv)
{
    OSSL_LIB_CTX *a = OSSL_LIB_CTX_new(), *b = OSSL_LIB_CTX_new();
    OSSL_PROVIDER *pa[2] = {NULL, NULL}, *pb[2] = {NULL, NULL};
    EVP_PKEY *ka = NULL, *kb = NULL;
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URI\n", argv[0]);
        return 2;
    }
    if (a == NULL || b == NULL || (pa[0] = OSSL_PROVIDER_load(a, "default")) == NULL ||
        (pa[1] = OSSL_PROVIDER_load(a, "pico")) == NULL ||
        (pb[0] = OSSL_PROVIDER_load(b, "default")) == NULL ||
        (pb[1] = OSSL_PROVIDER_load(b, "pico")) == NULL)
        goto end;
    if ((ka = store_load_pkey(a, argv[1])) == NULL || (kb = store_load_pkey(b, argv[1])) == NULL ||
        !sign_verify(a, ka) || !sign_verify(b, kb))
        goto end;
    printf("before ok\n");
    fflush(stdout);
    /* the library that loaded pico last goes: its key, its providers, its context */
    EVP_PKEY_free(kb);
    kb = NULL;
    OSSL_PROVIDER_unload(pb[1]);
    OSSL_PROVIDER_unload(pb[0]);
    pb[0] = pb[1] = NULL;
    OSSL_LIB_CTX_free(b);
    b = NULL;
    if (!sign_verify(a, ka) || !failure_reported(a))
        goto end;
    /* and a key loaded after it went */
    EVP_PKEY_free(ka);
    if ((ka = store_load_pkey(a, argv[1])) == NULL || !sign_verify(a, ka))
        goto end;
    printf("after ok\n");
    rc = 0;
end:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    OSSL_PROVIDER_unload(pa[1]);
    OSSL_PROVIDER_unload(pa[0]);
    OSSL_PROVIDER_unload(pb[1]);
    OSSL_PROVIDER_unload(pb[0]);
    OSSL_LIB_CTX_free(a);
    OSSL_LIB_CTX_free(b);
    return rc;
}
