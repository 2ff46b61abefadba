/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two library contexts of one process, each configured by its own openssl.cnf
 * (as two libraries of a daemon would have them): each pico instance must use
 * its own section - its pico-reader, its pico-pin-source - whatever order they
 * were loaded in and whichever is used first.
 *
 *   two-libctx-config CNF_A PUB_A CNF_B PUB_B URI
 *
 * Loads URI (which names no reader and no PIN) in both contexts, and checks that
 * the key of context A is the public key in PUB_A (a PEM file), B's the one in
 * PUB_B, and that both sign (the signature verifying with the public key file).
 * Prints "a ok" and "b ok" and exits 0 when so.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdio.h>

#include "store-load.h"

static EVP_PKEY *read_pub(const char *file)
{
    FILE *f = fopen(file, "r");
    EVP_PKEY *pub = f != NULL ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;

    if (f != NULL)
        fclose(f);
    return pub;
}

/* Signs with key in libctx, verifies with pub in the default context. */
static int signs_as(OSSL_LIB_CTX *libctx, EVP_PKEY *key, EVP_PKEY *pub)
{
    unsigned char msg[] = "one configuration per library context", sig[1024];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             EVP_DigestSignInit_ex(md, NULL, "SHA256", libctx, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1 &&
             EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pub, NULL) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

static int check(const char *name, OSSL_LIB_CTX *libctx, const char *uri, const char *pub_file)
{
    EVP_PKEY *key = store_load_pkey(libctx, uri), *pub = read_pub(pub_file);
    int ok = 0;

    if (key == NULL || pub == NULL) {
        fprintf(stderr, "two-libctx-config: %s: %s\n", name,
                key == NULL ? "the key did not load" : "no public key file");
    } else if (EVP_PKEY_eq(key, pub) != 1) {
        fprintf(stderr, "two-libctx-config: %s: the key is not the one its configuration names\n",
                name);
    } else if (!signs_as(libctx, key, pub)) {
        fprintf(stderr, "two-libctx-config: %s: the signature does not verify\n", name);
    } else {
        printf("%s ok\n", name);
        fflush(stdout);
        ok = 1;
    }
    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
    return ok;
}

int main(int argc, char **argv)
{
    OSSL_LIB_CTX *a = OSSL_LIB_CTX_new(), *b = OSSL_LIB_CTX_new();
    int rc = 1;

    if (argc != 6) {
        fprintf(stderr, "usage: %s CNF_A PUB_A CNF_B PUB_B URI\n", argv[0]);
        return 2;
    }
    /* both configured before either is used: the second must not replace the first */
    if (a == NULL || b == NULL || !OSSL_LIB_CTX_load_config(a, argv[1]) ||
        !OSSL_LIB_CTX_load_config(b, argv[3]) || !OSSL_PROVIDER_available(a, "pico") ||
        !OSSL_PROVIDER_available(b, "pico")) {
        fprintf(stderr, "two-libctx-config: the configurations did not load pico\n");
        goto end;
    }
    if (check("a", a, argv[5], argv[2]) && check("b", b, argv[5], argv[4]) &&
        check("a again", a, argv[5], argv[2]))
        rc = 0;
end:
    ERR_print_errors_fp(stderr);
    OSSL_LIB_CTX_free(a);
    OSSL_LIB_CTX_free(b);
    return rc;
}
