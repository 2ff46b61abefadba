/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pre-forking server's two workers on a device pool: the key is loaded once
 * through OSSL_STORE, then two workers are forked. Worker A signs MSG at once;
 * worker B waits until it reads a byte from the FIFO GO (the test writes it
 * while A's signature runs on a device), then signs MSG. Each writes its
 * signature (SHA-256, DER) to PREFIX.a / PREFIX.b.
 *
 *   pool-workers URI MSG PREFIX GO
 *
 * Exits 0 when both workers signed.
 */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load-providers.h"
#include "store-load.h"

static int sign_to(EVP_PKEY *key, const char *msg_path, const char *out_path)
{
    unsigned char msg[4096], sig[1024];
    size_t msg_len, sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    FILE *f = fopen(msg_path, "rb");
    int ok = 0;

    if (f == NULL || md == NULL)
        goto end;
    msg_len = fread(msg, 1, sizeof(msg), f);
    fclose(f);
    f = NULL;
    if (EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, msg_len) != 1)
        goto end;
    if ((f = fopen(out_path, "wb")) == NULL || fwrite(sig, 1, sig_len, f) != sig_len)
        goto end;
    ok = 1;
end:
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        ERR_print_errors_fp(stderr);
    EVP_MD_CTX_free(md);
    return ok;
}

/* Worker B: waits for the go, then signs. */
static int worker_b(EVP_PKEY *key, const char *msg, const char *out, const char *go)
{
    char c;
    int fd = open(go, O_RDONLY);

    if (fd < 0 || read(fd, &c, 1) != 1)
        return 0;
    close(fd);
    return sign_to(key, msg, out);
}

int main(int argc, char **argv)
{
    char out_a[4096], out_b[4096];
    EVP_PKEY *key;
    pid_t a, b;
    int st_a = 1, st_b = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: %s URI MSG PREFIX GO\n", argv[0]);
        return 2;
    }
    snprintf(out_a, sizeof(out_a), "%s.a", argv[3]);
    snprintf(out_b, sizeof(out_b), "%s.b", argv[3]);
    if (!load_providers() || (key = store_load_pkey(NULL, argv[1])) == NULL) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    fflush(NULL);
    if ((a = fork()) == 0)
        _exit(sign_to(key, argv[2], out_a) ? 0 : 1);
    if ((b = fork()) == 0)
        _exit(worker_b(key, argv[2], out_b, argv[4]) ? 0 : 1);
    if (a > 0)
        waitpid(a, &st_a, 0);
    if (b > 0)
        waitpid(b, &st_b, 0);
    EVP_PKEY_free(key);
    return a > 0 && b > 0 && WIFEXITED(st_a) && WEXITSTATUS(st_a) == 0 && WIFEXITED(st_b) &&
                   WEXITSTATUS(st_b) == 0
               ? 0
               : 1;
}
