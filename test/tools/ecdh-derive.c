/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDH through the C API, as CMS calls it: derives with KEY (a pico: URI or a
 * key file, loaded through OSSL_STORE) and the public key in PEER.pem into a
 * buffer of exactly OUTLEN bytes. With DIGEST (and KDF-OUTLEN, UKM-HEX) the
 * X9.63 KDF is asked for through the EVP_PKEY_CTX_set_ecdh_* calls CMS makes
 * (cofactor mode 0, as for dhSinglePass-stdDH). Prints the derived bytes as
 * hex, then the context's parameters read back:
 *
 *   secret=<hex>
 *   kdf-type=<n> kdf-md=<name> kdf-outlen=<n> ukm=<hex> cofactor=<n>
 *
 *   ecdh-derive [-d] KEY PEER.pem OUTLEN [DIGEST KDF-OUTLEN UKM-HEX]
 *
 * -d loads the default provider alone: the reference derive, from the peer side.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load-providers.h"

static EVP_PKEY *load_key(const char *uri)
{
    OSSL_STORE_CTX *store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    EVP_PKEY *key = NULL;

    if (store == NULL)
        return NULL;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return key;
}

/* EVP_PKEY_CTX_get0_ecdh_kdf_ukm is deprecated in 3.0: the parameter it reads */
static int get_ukm(EVP_PKEY_CTX *ctx, unsigned char **ukm, size_t *len)
{
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_octet_ptr(OSSL_EXCHANGE_PARAM_KDF_UKM, (void **)ukm, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_PKEY_CTX_get_params(ctx, params))
        return 0;
    *len = params[0].return_size;
    return 1;
}

static void print_hex(const char *name, const unsigned char *p, size_t n)
{
    size_t i;

    printf("%s=", name);
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
}

int main(int argc, char **argv)
{
    EVP_PKEY *key = NULL, *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PROVIDER *dflt = NULL;
    FILE *f = NULL;
    unsigned char *out = NULL, *ukm = NULL, *got_ukm = NULL;
    size_t outlen = 0, bufsize = 0, got_ukmlen = 0;
    long ukmlen = 0;
    int default_only = 0, kdf, type, cofactor, kdf_outlen = 0, rc = 1;
    const EVP_MD *md = NULL;

    if (argc > 1 && strcmp(argv[1], "-d") == 0) {
        default_only = 1;
        argv++;
        argc--;
    }
    kdf = argc == 7;
    if (argc != 4 && argc != 7) {
        fprintf(stderr, "usage: %s [-d] KEY PEER.pem OUTLEN [DIGEST KDF-OUTLEN UKM-HEX]\n",
                argv[0]);
        return 2;
    }
    /* -d: the default provider's own reference is dropped at the end (LeakSanitizer found
     * the provider left behind) */
    if (!(default_only ? (dflt = OSSL_PROVIDER_load(NULL, "default")) != NULL : load_providers()) ||
        (key = load_key(argv[1])) == NULL || (f = fopen(argv[2], "r")) == NULL ||
        (peer = PEM_read_PUBKEY(f, NULL, NULL, NULL)) == NULL)
        goto end;
    bufsize = outlen = (size_t)strtoul(argv[3], NULL, 10);
    /* exactly outlen bytes: a derive that writes past them is caught by ASan/valgrind */
    if ((out = OPENSSL_zalloc(bufsize > 0 ? bufsize : 1)) == NULL ||
        (ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL || EVP_PKEY_derive_init(ctx) <= 0)
        goto end;
    if (kdf) {
        kdf_outlen = atoi(argv[5]);
        /* set0 takes the UKM over */
        if ((md = EVP_get_digestbyname(argv[4])) == NULL ||
            (ukm = OPENSSL_hexstr2buf(argv[6], &ukmlen)) == NULL ||
            EVP_PKEY_CTX_set_ecdh_cofactor_mode(ctx, 0) <= 0 ||
            EVP_PKEY_CTX_set_ecdh_kdf_type(ctx, EVP_PKEY_ECDH_KDF_X9_63) <= 0 ||
            EVP_PKEY_CTX_set_ecdh_kdf_md(ctx, md) <= 0 ||
            EVP_PKEY_CTX_set_ecdh_kdf_outlen(ctx, kdf_outlen) <= 0 ||
            EVP_PKEY_CTX_set0_ecdh_kdf_ukm(ctx, ukm, (int)ukmlen) <= 0)
            goto end;
        ukm = NULL;
    }
    if (EVP_PKEY_derive_set_peer(ctx, peer) <= 0 || EVP_PKEY_derive(ctx, out, &outlen) <= 0)
        goto end;
    print_hex("secret", out, outlen);
    printf("\n");
    md = NULL;
    if ((type = EVP_PKEY_CTX_get_ecdh_kdf_type(ctx)) < 0 ||
        EVP_PKEY_CTX_get_ecdh_kdf_md(ctx, &md) <= 0 ||
        EVP_PKEY_CTX_get_ecdh_kdf_outlen(ctx, &kdf_outlen) <= 0 ||
        !get_ukm(ctx, &got_ukm, &got_ukmlen) ||
        (cofactor = EVP_PKEY_CTX_get_ecdh_cofactor_mode(ctx)) < 0)
        goto end;
    printf("kdf-type=%d kdf-md=%s kdf-outlen=%d ", type, md != NULL ? EVP_MD_get0_name(md) : "",
           kdf_outlen);
    print_hex("ukm", got_ukm, got_ukmlen);
    printf(" cofactor=%d\n", cofactor);
    rc = 0;
end:
    ERR_print_errors_fp(stderr);
    if (f != NULL)
        fclose(f);
    OPENSSL_free(ukm);
    OPENSSL_clear_free(out, bufsize > 0 ? bufsize : 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    OSSL_PROVIDER_unload(dflt);
    return rc;
}
