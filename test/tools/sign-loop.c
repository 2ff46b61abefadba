/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A long-running signer for the fault tests: loads a key by URI once, then
 * signs "sign-loop <i>" with SHA-256 every SIGN_LOOP_MS milliseconds (default
 * 20) until DIR/stop exists (or SIGN_LOOP_MAX signatures, default 100000).
 * A failed signature does not end the loop: a server goes on after one.
 * With SIGN_LOOP_RELOAD set, it loads the key again before each signature, as
 * a server that opens its key per request or at each reload does.
 * With SIGN_LOOP_STEP set, it makes signature <i> once DIR/steps holds a
 * number above <i> instead: the test places a fault between two signatures.
 * With SIGN_LOOP_PIN set, the application hands that PIN in through its
 * passphrase callback when it loads the key (as -passin does).
 *
 *   sign-loop URI DIR
 *
 * Writes each signature to DIR/<i>.sig and its message to DIR/<i>.msg, for
 * plain openssl to verify, and prints one line per signature (line-buffered):
 * "<i> ok <ms>" or "<i> fail <ms> <the errors, on one line>", <ms> the time
 * the signature took. Exits 0 when it stopped, 1 when the key did not load.
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

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int put_error(const char *str, size_t len, void *u)
{
    (void)u;
    /* one line per failure: the error lines joined */
    printf(" | %.*s", (int)(len > 0 && str[len - 1] == '\n' ? len - 1 : len), str);
    return 1;
}

static int write_file(const char *dir, int i, const char *ext, const unsigned char *p, size_t n)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%d.%s", dir, i, ext);
    if ((f = fopen(path, "wb")) == NULL)
        return 0;
    ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Waits until DIR/steps allows signature i (or DIR/stop exists): 1 to go on. */
static int wait_step(const char *dir, const char *stop, int i)
{
    char path[4096];
    long allowed = 0;

    snprintf(path, sizeof(path), "%s/steps", dir);
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fscanf(f, "%ld", &allowed) != 1)
                allowed = 0;
            fclose(f);
        }
        if (access(stop, F_OK) == 0)
            return 0;
        if (allowed > i)
            return 1;
        usleep(5000);
    }
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

static EVP_PKEY *load_key(const char *uri)
{
    UI_METHOD *ui = getenv("SIGN_LOOP_PIN") != NULL ? UI_UTIL_wrap_read_pem_callback(app_pin, 0)
                                                    : NULL;
    OSSL_STORE_CTX *store;
    EVP_PKEY *key = NULL;

    if ((store = OSSL_STORE_open(uri, ui, NULL, NULL, NULL)) == NULL)
        goto end;
    /* as openssl's apps do: say a private key is wanted */
    if (!OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY))
        goto end;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
end:
    OSSL_STORE_close(store);
    UI_destroy_method(ui); /* after the store: it uses the method until it is closed */
    return key;
}

static int sign(EVP_PKEY *key, const unsigned char *msg, size_t msg_len, unsigned char *sig,
                size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, sig_len, msg, msg_len) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

int main(int argc, char **argv)
{
    EVP_PKEY *key = NULL;
    const char *ms_env = getenv("SIGN_LOOP_MS"), *max_env = getenv("SIGN_LOOP_MAX");
    long delay = ms_env != NULL ? atol(ms_env) : 20, max = max_env != NULL ? atol(max_env) : 100000;
    int step = getenv("SIGN_LOOP_STEP") != NULL, reload = getenv("SIGN_LOOP_RELOAD") != NULL;
    char stop[4096], msg[64];
    unsigned char sig[1024];
    int i, rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s URI DIR\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(stop, sizeof(stop), "%s/stop", argv[2]);
    /* as openssl.cnf would: the configuration file in OPENSSL_CONF loads the providers */
    if (!OSSL_PROVIDER_available(NULL, "pico") && !load_providers())
        goto end;
    if ((key = load_key(argv[1])) == NULL)
        goto end;
    for (i = 0; i < max && access(stop, F_OK) != 0; i++) {
        size_t sig_len = sizeof(sig), msg_len;
        double t0;
        int ok;

        if (step && !wait_step(argv[2], stop, i))
            break;
        t0 = now_ms();
        if (reload) {
            EVP_PKEY_free(key);
            key = load_key(argv[1]);
        }
        msg_len = (size_t)snprintf(msg, sizeof(msg), "sign-loop %d", i);
        ok = key != NULL && sign(key, (const unsigned char *)msg, msg_len, sig, &sig_len);
        printf("%d %s %.0f", i, ok ? "ok" : "fail", now_ms() - t0);
        if (ok && (!write_file(argv[2], i, "msg", (const unsigned char *)msg, msg_len) ||
                   !write_file(argv[2], i, "sig", sig, sig_len)))
            printf(" | cannot write the signature");
        ERR_print_errors_cb(put_error, NULL);
        printf("\n");
        if (!step && delay > 0)
            usleep((useconds_t)delay * 1000);
    }
    rc = 0;
end:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_free(key);
    return rc;
}
