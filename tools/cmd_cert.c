/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool cert import: stores an X.509 certificate with its key.
 *
 * Where: EF CE<keyref> (protocol 6.1, 6.6), as OpenSC's sc-hsm driver stores
 * a certificate whose ID is a key's: the card wrote the key's CV request
 * there at generation, and a host replaces it with the certificate (first
 * byte 30 instead of 67). OpenSC, the provider and this tool then take the
 * public key from the certificate and show the certificate under the key's
 * label and ID; no separate description (C8xx) is needed for it.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "tool.h"

static const char usage_import[] =
    "Usage: " TOOL_NAME " cert import (--label LABEL | --id HEX) CERT\n"
    "                           [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...]\n"
    "\n"
    "Stores the certificate CERT (PEM or DER) with the key it certifies, in the\n"
    "key's certificate file (CExx), where OpenSC and the pico provider find it.\n"
    "The certificate's public key must be the key's. This replaces the key's CV\n"
    "request (or a previous certificate).\n";

enum {
    OPT_LABEL = OPT_FIRST_LOCAL,
    OPT_ID,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    {"label", required_argument, NULL, OPT_LABEL},
    {"id", required_argument, NULL, OPT_ID},
    {NULL, 0, NULL, 0},
};

/* A certificate in PEM or DER. */
static X509 *read_cert(const char *path)
{
    BIO *in = BIO_new_file(path, "rb");
    X509 *x = NULL;

    if (in == NULL)
        return NULL;
    x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    if (x == NULL && BIO_reset(in) == 0)
        x = d2i_X509_bio(in, NULL);
    BIO_free(in);
    return x;
}

static int cert_import(tool_ctx *ctx, int argc, char **argv)
{
    tool_auth auth;
    const char *label = NULL;
    uint8_t id[PICO_URI_MAX_ID];
    size_t id_len = 0;
    unsigned char *der = NULL;
    X509 *x = NULL;
    pico_key *key;
    EVP_PKEY *pub;
    int c, n, rc = TOOL_EXIT_OK, replaced = 0;
    pico_err err;

    memset(&auth, 0, sizeof(auth));
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&auth, c, optarg))
            continue;
        switch (c) {
        case OPT_LABEL:
            label = optarg;
            break;
        case OPT_ID:
            if (tool_hex_decode(optarg, id, sizeof(id), &id_len) != 0 || id_len == 0)
                return tool_usage_error("cert import", "--id takes 1 to %d bytes in hexadecimal",
                                        PICO_URI_MAX_ID);
            break;
        default:
            return tool_bad_option("cert import", argv);
        }
    }
    if (ctx->help)
        return tool_help(usage_import);
    if (optind + 1 != argc)
        return tool_usage_error("cert import", "give one certificate file");
    if (label == NULL && id_len == 0)
        return tool_usage_error("cert import", "name the key with --label or --id");
    if (auth.pka_too_many)
        return tool_usage_error("cert import", "at most %d --pka-key", PICO_URI_MAX_PKA_KEYS);
    if ((x = read_cert(argv[optind])) == NULL) {
        return tool_fail_msg(TOOL_EXIT_OTHER, "%s: not a readable PEM or DER certificate",
                             argv[optind]);
    }
    if ((n = i2d_X509(x, &der)) <= 0) {
        rc = tool_fail(pico_err_raise(PICO_E_INTERNAL, "certificate encoding"));
        goto end;
    }
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_find_key(ctx, label, id, id_len, &key)) != PICO_OK ||
        (err = pico_device_key_public(key, &pub)) != PICO_OK) {
        rc = tool_fail(err);
        goto end;
    }
    /* A certificate for another key would make the key unusable through it */
    if (EVP_PKEY_eq(pub, X509_get0_pubkey(x)) != 1) {
        rc = tool_fail_msg(TOOL_EXIT_OTHER,
                           "the certificate's public key is not the public key of key %u",
                           key->keyref);
        goto end;
    }
    /* key->cert is then this certificate: the device object stays true */
    if ((err = tool_login(ctx, &auth)) != PICO_OK ||
        (err = pico_device_put_cert(ctx->dev, key, x, NULL, NULL, 0, &replaced)) != PICO_OK) {
        rc = tool_fail(err);
        goto end;
    }
    if (ctx->json)
        printf("{\"keyref\":%u,\"certificate_bytes\":%d,\"replaced\":%s}\n", key->keyref, n,
               replaced ? "true" : "false");
    else
        printf("Stored the certificate (%d bytes) with key %u%s.\n", n, key->keyref,
               replaced ? ", replacing the previous one" : "");
end:
    OPENSSL_free(der);
    X509_free(x);
    return rc;
}

int tool_cmd_cert(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"import", cert_import, "store a certificate with its key"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "cert", cmds, argc, argv);
}
