/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loads a private key with OSSL_STORE_open_ex (a file path or a file: URI,
 * as the openssl tools and OSSL_STORE applications do), the PIN from PASSFILE
 * through the store's UI method ("-": none, the key's URI names its PIN),
 * writes its public key as PEM and signs INFILE with SHA-256: the test of
 * "PICO HSM KEY URI" files read through the file: store.
 *
 *   store-key-sign URI PASSFILE|- INFILE SIGFILE PUBFILE
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <stdio.h>
#include <string.h>

#include "load-providers.h"

static const char *pass_file;

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    FILE *f;
    int n = 0;

    (void)rwflag;
    (void)u;
    if (strcmp(pass_file, "-") == 0 || (f = fopen(pass_file, "r")) == NULL)
        return -1;
    if (fgets(buf, size, f) != NULL) {
        buf[strcspn(buf, "\r\n")] = '\0';
        n = (int)strlen(buf);
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    unsigned char msg[65536], sig[1024];
    size_t msg_len, sig_len = sizeof(sig);
    UI_METHOD *ui = NULL;
    OSSL_STORE_CTX *store = NULL;
    OSSL_STORE_INFO *info = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    FILE *in = NULL, *out = NULL;
    int rc = 1;

    if (argc != 6) {
        fprintf(stderr, "usage: %s URI PASSFILE|- INFILE SIGFILE PUBFILE\n", argv[0]);
        return 2;
    }
    pass_file = argv[2];
    if (!load_providers())
        goto end;
    if ((ui = UI_UTIL_wrap_read_pem_callback(password_cb, 0)) == NULL ||
        (store = OSSL_STORE_open_ex(argv[1], NULL, NULL, ui, NULL, NULL, NULL, NULL)) == NULL ||
        OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY) != 1)
        goto end;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        if ((info = OSSL_STORE_load(store)) == NULL)
            break;
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    if (key == NULL) {
        fprintf(stderr, "no private key in %s\n", argv[1]);
        goto end;
    }
    if ((out = fopen(argv[5], "w")) == NULL || PEM_write_PUBKEY(out, key) != 1)
        goto end;
    fclose(out);
    out = NULL;
    if ((in = fopen(argv[3], "rb")) == NULL)
        goto end;
    msg_len = fread(msg, 1, sizeof(msg), in);
    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, msg, msg_len) != 1)
        goto end;
    if ((out = fopen(argv[4], "wb")) == NULL || fwrite(sig, 1, sig_len, out) != sig_len)
        goto end;
    rc = 0;
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    if (out != NULL)
        fclose(out);
    if (in != NULL)
        fclose(in);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    OSSL_STORE_close(store);
    UI_destroy_method(ui);
    return rc;
}
