/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The private key a URI names, through OSSL_STORE in libctx (NULL: the default
 * context): the first PKEY the store gives, or NULL. For the test programs.
 */
#ifndef TEST_STORE_LOAD_H
#define TEST_STORE_LOAD_H

#include <openssl/store.h>

static EVP_PKEY *store_load_pkey(OSSL_LIB_CTX *libctx, const char *uri)
{
    OSSL_STORE_CTX *store = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
    EVP_PKEY *key = NULL;

    if (store == NULL || !OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY)) {
        OSSL_STORE_close(store);
        return NULL;
    }
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return key;
}

#endif
