/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loads a key file the way nginx and curl do (PEM_read_bio_PrivateKey with a
 * password callback, as nginx's ssl_password_file), then signs a file with
 * SHA-256: the test of the provider's decoder for "PICO HSM KEY URI" files.
 *
 *   pem-key-sign KEYFILE PASSFILE INFILE SIGFILE
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <stdio.h>
#include <string.h>

#include "load-providers.h"

static const char *pass_file;

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    FILE *f = fopen(pass_file, "r");
    int n = 0;

    (void)rwflag;
    (void)u;
    if (f == NULL)
        return 0;
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
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    FILE *in = NULL, *out = NULL;
    BIO *bio = NULL;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: %s KEYFILE PASSFILE INFILE SIGFILE\n", argv[0]);
        return 2;
    }
    pass_file = argv[2];
    if (!load_providers())
        goto end;
    if ((bio = BIO_new_file(argv[1], "r")) == NULL ||
        (key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, NULL)) == NULL)
        goto end;
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
    BIO_free(bio);
    return rc;
}
