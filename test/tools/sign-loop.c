/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A long-running signer that goes on after a failure, as a server does: loads
 * a key by URI, then signs (SHA-256) a fixed message every few milliseconds
 * until the file STOP exists. Prints one line per signature on stdout, "ok" or
 * "fail", and the errors of a failure on stderr. The last good signature is
 * written to SIG, for a check with plain openssl. With SIGN_LOOP_PIN set, the
 * application hands that PIN in through its passphrase callback (-passin).
 *
 *   sign-loop URI STOP SIG
 *
 * The message is "sign-loop". Exits 0 when the last signature succeeded.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load-providers.h"

static const unsigned char msg[] = "sign-loop";

static int sign(EVP_PKEY *key, unsigned char *sig, size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, sig_len, msg, sizeof(msg) - 1) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

static int app_pin(char *buf, int size, int rwflag, void *u)
{
    const char *pin = getenv("SIGN_LOOP_PIN");
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
    const struct timespec pause = {0, 5 * 1000 * 1000};
    unsigned char sig[1024];
    size_t sig_len;
    UI_METHOD *ui = NULL;
    OSSL_STORE_CTX *store;
    EVP_PKEY *key = NULL;
    int ok = 0;
    FILE *f;

    if (argc != 4) {
        fprintf(stderr, "usage: %s URI STOP SIG\n", argv[0]);
        return 2;
    }
    /* as openssl.cnf would: the configuration file in OPENSSL_CONF loads the providers */
    if (!OSSL_PROVIDER_available(NULL, "pico") && !load_providers())
        goto end;
    if (getenv("SIGN_LOOP_PIN") != NULL &&
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
    if (key == NULL)
        goto end;
    while (access(argv[2], F_OK) != 0) {
        sig_len = sizeof(sig);
        ok = sign(key, sig, &sig_len);
        if (ok && (f = fopen(argv[3], "wb")) != NULL) {
            fwrite(sig, 1, sig_len, f);
            fclose(f);
        }
        printf("%s\n", ok ? "ok" : "fail");
        fflush(stdout);
        if (!ok) {
            ERR_print_errors_fp(stderr);
            fflush(stderr);
        }
        nanosleep(&pause, NULL);
    }
end:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    UI_destroy_method(ui);
    return ok ? 0 : 1;
}
