/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints what a key reports through its key manager, one line:
 *   TYPE bits=N security-bits=N max-size=N default-digest=NAME
 * for the key URI names (pico: or a file, loaded with OSSL_STORE: a device
 * key answers through pico's key manager), and with -pub for its public key
 * re-made by the default provider from its SubjectPublicKeyInfo: the two
 * lines must be equal for a device key to report what the default provider
 * does (the sizes libssl and the openssl tools size buffers and check
 * security levels by).
 *
 *   pkey-sizes [-pub] URI
 */
#include <openssl/evp.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "load-providers.h"

static EVP_PKEY *load(const char *uri)
{
    OSSL_STORE_CTX *store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    OSSL_STORE_INFO *info;
    EVP_PKEY *key = NULL;

    while (store != NULL && key == NULL && (info = OSSL_STORE_load(store)) != NULL) {
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        else if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PUBKEY)
            key = OSSL_STORE_INFO_get1_PUBKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return key;
}

/* The public key as the default provider makes it from its SubjectPublicKeyInfo. */
static EVP_PKEY *default_public(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int len = i2d_PUBKEY(key, &der);

    p = der;
    if (len > 0)
        pub = d2i_PUBKEY_ex(NULL, &p, len, NULL, "provider=default");
    OPENSSL_free(der);
    return pub;
}

int main(int argc, char **argv)
{
    int pub = argc == 3 && strcmp(argv[1], "-pub") == 0;
    EVP_PKEY *key = NULL, *use;
    char md[64] = "";
    int rc = 1;

    if (argc != 2 + pub) {
        fprintf(stderr, "usage: %s [-pub] URI\n", argv[0]);
        return 2;
    }
    if (!load_providers() || (key = load(argv[1 + pub])) == NULL) {
        fprintf(stderr, "%s: cannot load %s\n", argv[0], argv[1 + pub]);
        goto end;
    }
    use = pub ? default_public(key) : key;
    if (use == NULL)
        goto end;
    if (EVP_PKEY_get_default_digest_name(use, md, sizeof(md)) <= 0)
        strcpy(md, "-");
    printf("%s bits=%d security-bits=%d max-size=%d default-digest=%s\n",
           EVP_PKEY_get0_type_name(use), EVP_PKEY_get_bits(use), EVP_PKEY_get_security_bits(use),
           EVP_PKEY_get_size(use), md);
    if (use != key)
        EVP_PKEY_free(use);
    rc = 0;
end:
    EVP_PKEY_free(key);
    return rc;
}
