/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A long-running signer: loads a key by URI, signs and verifies once, waits
 * for a line on stdin (the test makes the device lose its login meanwhile),
 * then signs and verifies again. Prints "first ok", then "second ok" or the
 * errors of the second signature. With SIGN_TWICE_PIN set, the application
 * hands that PIN in through its passphrase callback (as -passin does).
 *
 *   sign-twice URI
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load-providers.h"

static int sign_verify(EVP_PKEY *key)
{
    unsigned char msg[] = "sign-twice", sig[1024];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1 &&
             EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

static int app_pin(char *buf, int size, int rwflag, void *u)
{
    const char *pin = getenv("SIGN_TWICE_PIN");
    int n = pin != NULL ? (int)strlen(pin) : 0;

    (void)rwflag;
    (void)u;
    if (n == 0 || n >= size)
        return 0;
    memcpy(buf, pin, (size_t)n);
    return n;
}

int main(int argc, char **argv)
{
    UI_METHOD *ui = NULL;
    OSSL_STORE_CTX *store;
    EVP_PKEY *key = NULL;
    char line[16];
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URI\n", argv[0]);
        return 2;
    }
    /* as openssl.cnf would: the configuration file in OPENSSL_CONF loads the providers */
    if (!OSSL_PROVIDER_available(NULL, "pico") && !load_providers())
        goto end;
    if (getenv("SIGN_TWICE_PIN") != NULL &&
        (ui = UI_UTIL_wrap_read_pem_callback(app_pin, 0)) == NULL)
        goto end;
    if ((store = OSSL_STORE_open(argv[1], ui, NULL, NULL, NULL)) == NULL ||
        !OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY))
        goto end;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    if (key == NULL || !sign_verify(key))
        goto end;
    printf("first ok\n");
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL)
        goto end;
    if (!sign_verify(key))
        goto end;
    printf("second ok\n");
    rc = 0;
end:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    UI_destroy_method(ui);
    return rc;
}
