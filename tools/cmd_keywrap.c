/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool key wrap, key unwrap, key import: keys out of and into a device under its
 * DKEK (sc-hsm-protocol.md 8). The files are sc-hsm-tool's wrapped-key files
 * (30 { 04 blob, PrKD, certificate }); an import builds the key blob here from a PEM or
 * PKCS#12 key and the DKEK opened from its share files (common/device_wrap.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device_wrap.h"
#include "dkek.h"
#include "keyblob.h"
#include "secret.h"
#include "tool.h"

static const char usage_wrap[] =
    "Usage: " TOOL_NAME " key wrap (--label LABEL | --id HEX) --out FILE\n"
    "                         [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...] [--json]\n"
    "\n"
    "Exports a key encrypted under the device's DKEK (WRAP), with its description and\n"
    "certificate, into FILE in sc-hsm-tool's wrapped-key format (--wrap-key). Only a\n"
    "device with the same DKEK (the same share files) can unwrap it. FILE must not exist.\n";

static const char usage_unwrap[] =
    "Usage: " TOOL_NAME " key unwrap --in FILE [--label LABEL] [--via-ef]\n"
    "                           [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...] [--json]\n"
    "\n"
    "Imports a wrapped key (from key wrap or sc-hsm-tool --wrap-key) into the first free key\n"
    "reference, with its description and certificate; --label gives it another label.\n"
    "The device must hold the DKEK the key was wrapped under. --via-ef sends the blob\n"
    "through EF 2F10 as OpenSC does, instead of in the command.\n";

static const char usage_import[] =
    "Usage: " TOOL_NAME " key import (--pem FILE | --pkcs12 FILE) --label LABEL [--id HEX]\n"
    "                           [--pass-source SRC] --dkek-share FILE [--dkek-share FILE ...]\n"
    "                           [--dkek-password-source SRC ...]\n"
    "                           [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...] [--json]\n"
    "\n"
    "Imports a private key (RSA with e = 65537, EC on a curve the device has) from a PEM\n"
    "file or a PKCS#12 file (its certificate too). The key is encrypted on this host under\n"
    "the DKEK made of the share files (the same shares the device got; each share's\n"
    "password from its --dkek-password-source, in order, or the terminal) and unwrapped by\n"
    "the device. --pass-source: the PEM or PKCS#12 password. The ID defaults to the SHA-1\n"
    "of the RSA modulus or of the EC x coordinate, as OpenSC makes it.\n";

enum {
    OPT_LABEL = OPT_FIRST_LOCAL,
    OPT_ID,
    OPT_OUT,
    OPT_IN,
    OPT_VIA_EF,
    OPT_PEM,
    OPT_PKCS12,
    OPT_PASS_SOURCE,
    OPT_DKEK_SHARE,
    OPT_DKEK_PW_SOURCE,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    {"label", required_argument, NULL, OPT_LABEL},
    {"id", required_argument, NULL, OPT_ID},
    {"out", required_argument, NULL, OPT_OUT},
    {"in", required_argument, NULL, OPT_IN},
    {"via-ef", no_argument, NULL, OPT_VIA_EF},
    {"pem", required_argument, NULL, OPT_PEM},
    {"pkcs12", required_argument, NULL, OPT_PKCS12},
    {"pass-source", required_argument, NULL, OPT_PASS_SOURCE},
    {"dkek-share", required_argument, NULL, OPT_DKEK_SHARE},
    {"dkek-password-source", required_argument, NULL, OPT_DKEK_PW_SOURCE},
    {NULL, 0, NULL, 0},
};

#define MAX_SHARES 8

typedef struct wrap_args {
    tool_auth auth;
    const char *label, *out, *in, *pem, *pkcs12, *pass_source;
    const char *shares[MAX_SHARES], *share_pw[MAX_SHARES];
    size_t nshares, nshare_pw;
    uint8_t id[PICO_URI_MAX_ID];
    size_t id_len;
    int via_ef, too_many;
} wrap_args;

static int parse_local(wrap_args *a, int c, const char *cmd)
{
    switch (c) {
    case OPT_LABEL:
        a->label = optarg;
        break;
    case OPT_OUT:
        a->out = optarg;
        break;
    case OPT_IN:
        a->in = optarg;
        break;
    case OPT_VIA_EF:
        a->via_ef = 1;
        break;
    case OPT_PEM:
        a->pem = optarg;
        break;
    case OPT_PKCS12:
        a->pkcs12 = optarg;
        break;
    case OPT_PASS_SOURCE:
        a->pass_source = optarg;
        break;
    case OPT_ID:
        if (tool_hex_decode(optarg, a->id, sizeof(a->id), &a->id_len) != 0 || a->id_len == 0)
            return tool_usage_error(cmd, "--id takes 1 to %d bytes in hexadecimal",
                                    PICO_URI_MAX_ID);
        break;
    case OPT_DKEK_SHARE:
        if (a->nshares == MAX_SHARES)
            a->too_many = 1;
        else
            a->shares[a->nshares++] = optarg;
        break;
    case OPT_DKEK_PW_SOURCE:
        if (a->nshare_pw == MAX_SHARES)
            a->too_many = 1;
        else
            a->share_pw[a->nshare_pw++] = optarg;
        break;
    default:
        return -2;
    }
    return -1;
}

/* Parses the options; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, const char *cmd, const char *usage, int argc, char **argv,
                 wrap_args *a)
{
    int c, rc;

    memset(a, 0, sizeof(*a));
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        if ((rc = parse_local(a, c, cmd)) == -2)
            return tool_bad_option(cmd, argv);
        if (rc >= 0)
            return rc;
    }
    if (ctx->help)
        return tool_help(usage);
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected extra argument");
    if (a->auth.pka_too_many)
        return tool_usage_error(cmd, "at most %d --pka-key", PICO_URI_MAX_PKA_KEYS);
    if (a->too_many)
        return tool_usage_error(cmd, "at most %d dkek shares", MAX_SHARES);
    if (a->label != NULL && (a->label[0] == '\0' || strlen(a->label) > 100))
        return tool_usage_error(cmd, "--label takes 1 to 100 characters");
    return -1;
}

/* ------------------------------------------------------------ files */

/* A whole file (up to 64 KB) into *data (malloc'ed). */
static int read_all(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(65536);
    size_t n = 0;

    *data = NULL;
    *len = 0;
    if (f == NULL || b == NULL) {
        if (f != NULL)
            fclose(f);
        free(b);
        return -1;
    }
    n = fread(b, 1, 65536, f);
    if (ferror(f) || !feof(f)) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    *data = b;
    *len = n;
    return 0;
}

/* Writes a new file (never over an existing one), mode 0600. */
static int write_new(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    size_t done = 0;

    if (fd < 0)
        return -1;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

static void print_key(tool_ctx *ctx, const char *what, const pico_key *k, const char *file)
{
    size_t i;

    if (ctx->json) {
        printf("{\"keyref\":%u,\"type\":\"%s\",\"label\":", k->keyref,
               k->type == PICO_KEY_EC ? "EC" : "RSA");
        tool_json_str(stdout, k->label);
        printf(",\"id\":\"");
        for (i = 0; i < k->id_len; i++)
            printf("%02x", k->id[i]);
        printf("\",\"file\":");
        tool_json_str(stdout, file);
        printf("}\n");
        return;
    }
    printf("%s key %u ('%s', id ", what, k->keyref, k->label != NULL ? k->label : "");
    for (i = 0; i < k->id_len; i++)
        printf("%02x", k->id[i]);
    printf(")%s%s.\n", file != NULL ? ", file " : "", file != NULL ? file : "");
}

/* ------------------------------------------------------------ key wrap */

static int key_wrap(tool_ctx *ctx, int argc, char **argv)
{
    pico_wrapped w;
    pico_key *key;
    uint8_t *file = NULL;
    size_t file_len = 0;
    wrap_args a;
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "key wrap", usage_wrap, argc, argv, &a)) >= 0)
        return rc;
    if (a.label == NULL && a.id_len == 0)
        return tool_usage_error("key wrap", "name the key with --label or --id");
    if (a.out == NULL)
        return tool_usage_error("key wrap", "--out FILE names the wrapped-key file to write");
    if (access(a.out, F_OK) == 0)
        return tool_fail_msg(TOOL_EXIT_OTHER, "%s exists: the wrapped key goes to a new file",
                             a.out);
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_find_key(ctx, a.label, a.id_len > 0 ? a.id : NULL, a.id_len, &key)) !=
            PICO_OK ||
        (err = tool_login(ctx, &a.auth)) != PICO_OK || (err = pico_device_wrap(key, &w)) != PICO_OK)
        return tool_fail(err);
    err = pico_wrapfile_encode(w.blob, w.blob_len, w.prkd, w.prkd_len, w.cert, w.cert_len, &file,
                               &file_len);
    pico_wrapped_free(&w);
    if (err != PICO_OK)
        return tool_fail(err);
    rc = write_new(a.out, file, file_len);
    free(file);
    if (rc != 0)
        return tool_fail_msg(TOOL_EXIT_OTHER, "cannot write %s: %s", a.out, strerror(errno));
    print_key(ctx, "Wrapped", key, a.out);
    return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------ key unwrap */

static int key_unwrap(tool_ctx *ctx, int argc, char **argv)
{
    pico_unwrap_spec s;
    pico_key *key = NULL;
    uint8_t *file = NULL;
    size_t len = 0;
    wrap_args a;
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "key unwrap", usage_unwrap, argc, argv, &a)) >= 0)
        return rc;
    if (a.in == NULL)
        return tool_usage_error("key unwrap", "--in FILE names the wrapped-key file");
    if (read_all(a.in, &file, &len) != 0)
        return tool_fail_msg(TOOL_EXIT_OTHER, "cannot read %s", a.in);
    memset(&s, 0, sizeof(s));
    s.label = a.label;
    s.use_ef = a.via_ef;
    if ((err = pico_wrapfile_decode(file, len, &s.blob, &s.blob_len, &s.prkd, &s.prkd_len, &s.cert,
                                    &s.cert_len)) != PICO_OK ||
        (err = tool_open_device(ctx)) != PICO_OK || (err = tool_login(ctx, &a.auth)) != PICO_OK ||
        (err = pico_device_unwrap(ctx->dev, &s, &key)) != PICO_OK) {
        free(file);
        return tool_fail(err);
    }
    free(file);
    print_key(ctx, "Unwrapped", key, NULL);
    return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------ key import */

typedef struct pass_ctx {
    const char *source;
    int asked;
} pass_ctx;

/* The PEM password, asked only when the file is encrypted. */
static int pem_pass(char *buf, int size, int rwflag, void *arg)
{
    pass_ctx *p = arg;
    size_t len = 0;

    (void)rwflag;
    if (p->asked++ > 0 || size <= 1)
        return -1;
    if (tool_get_secret("password of the key file", NULL, p->source, 0, buf, (size_t)size, &len) !=
        PICO_OK)
        return -1;
    return (int)len;
}

static pico_err load_pem(const char *path, const char *pass_source, EVP_PKEY **key)
{
    pass_ctx p = {pass_source, 0};
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return pico_err_raise(PICO_E_FILE, "cannot read %s", path);
    *key = PEM_read_PrivateKey(f, NULL, pem_pass, &p);
    fclose(f);
    if (*key == NULL)
        return pico_err_raise(PICO_E_FILE, "%s: no private key (or a wrong password)", path);
    return PICO_OK;
}

static pico_err load_pkcs12(const char *path, const char *pass_source, EVP_PKEY **key, X509 **cert)
{
    char pw[256];
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    PKCS12 *p12 = f != NULL ? d2i_PKCS12_fp(f, NULL) : NULL;
    pico_err err = PICO_OK;

    if (f != NULL)
        fclose(f);
    if (p12 == NULL)
        return pico_err_raise(PICO_E_FILE, "%s: not a pkcs#12 file", path);
    pw[0] = '\0';
    /* an unprotected file opens with no password; else the source or the prompt */
    if (pass_source != NULL ||
        (!PKCS12_verify_mac(p12, NULL, 0) && !PKCS12_verify_mac(p12, "", 0))) {
        if ((err = tool_get_secret("password of the pkcs#12 file", NULL, pass_source, 0, pw,
                                   sizeof(pw), &len)) != PICO_OK)
            goto end;
    }
    if (!PKCS12_parse(p12, pw, key, cert, NULL) || *key == NULL)
        err = pico_err_raise(PICO_E_FILE, "%s: wrong password or no private key in it", path);
end:
    OPENSSL_cleanse(pw, sizeof(pw));
    PKCS12_free(p12);
    return err;
}

/* The DKEK: every share file opened with its password (common/dkek.c), XORed as the device
 * does. */
static pico_err open_dkek(const wrap_args *a, uint8_t dkek[32])
{
    uint8_t file[PICO_DKEK_FILE_LEN], share[PICO_DKEK_SHARE_LEN];
    char pw[256], what[96];
    size_t pwlen = 0, i, j;
    pico_err err = PICO_OK;

    memset(dkek, 0, 32);
    for (i = 0; i < a->nshares && err == PICO_OK; i++) {
        if ((err = pico_dkek_read_file(a->shares[i], file)) != PICO_OK)
            break;
        snprintf(what, sizeof(what), "password of dkek share %s", a->shares[i]);
        err = tool_get_secret(what, NULL, i < a->nshare_pw ? a->share_pw[i] : NULL, 0, pw,
                              sizeof(pw), &pwlen);
        if (err == PICO_OK) {
            tool_note("Opening %s (10,000,000 rounds: a few seconds)", a->shares[i]);
            err = pico_dkek_open(file, (const uint8_t *)pw, pwlen, PICO_DKEK_ITERATIONS, NULL, NULL,
                                 share);
        }
        OPENSSL_cleanse(pw, sizeof(pw));
        for (j = 0; err == PICO_OK && j < sizeof(share); j++)
            dkek[j] ^= share[j];
    }
    OPENSSL_cleanse(share, sizeof(share));
    return err;
}

static int import_checks(const wrap_args *a)
{
    if ((a->pem == NULL) == (a->pkcs12 == NULL))
        return tool_usage_error("key import", "give one of --pem FILE and --pkcs12 FILE");
    if (a->label == NULL)
        return tool_usage_error("key import", "--label LABEL names the imported key");
    if (a->nshares == 0)
        return tool_usage_error("key import",
                                "--dkek-share FILE: the key is encrypted on this host under the "
                                "device's dkek, made of its share files");
    if (a->nshare_pw > a->nshares)
        return tool_usage_error("key import", "more --dkek-password-source than --dkek-share");
    return -1;
}

static int key_import(tool_ctx *ctx, int argc, char **argv)
{
    EVP_PKEY *priv = NULL;
    X509 *cert = NULL;
    uint8_t dkek[32], *der = NULL;
    int der_len = 0, rc;
    pico_keygen spec;
    pico_key *key = NULL;
    wrap_args a;
    pico_err err;

    if ((rc = parse(ctx, "key import", usage_import, argc, argv, &a)) >= 0 ||
        (rc = import_checks(&a)) >= 0)
        return rc;
    memset(dkek, 0, sizeof(dkek));
    memset(&spec, 0, sizeof(spec));
    spec.label = a.label;
    spec.id = a.id_len > 0 ? a.id : NULL;
    spec.id_len = a.id_len;
    /* what the device would mangle is refused before any share is opened */
    if ((err = a.pem != NULL ? load_pem(a.pem, a.pass_source, &priv)
                             : load_pkcs12(a.pkcs12, a.pass_source, &priv, &cert)) != PICO_OK ||
        (err = pico_keyblob_check_key(priv)) != PICO_OK ||
        (err = tool_open_device(ctx)) != PICO_OK ||
        (err = pico_device_check_new_key(ctx->dev, &spec)) != PICO_OK ||
        (err = open_dkek(&a, dkek)) != PICO_OK || (err = tool_login(ctx, &a.auth)) != PICO_OK)
        goto end;
    if (cert != NULL && (der_len = i2d_X509(cert, &der)) <= 0) {
        err = pico_err_raise(PICO_E_FILE, "%s: unreadable certificate", a.pkcs12);
        goto end;
    }
    err = pico_device_import(ctx->dev, priv, dkek, a.label, spec.id, spec.id_len, der,
                             der_len > 0 ? (size_t)der_len : 0, &key);
end:
    OPENSSL_cleanse(dkek, sizeof(dkek));
    EVP_PKEY_free(priv); /* OpenSSL cleanses the key's numbers as it frees them */
    X509_free(cert);
    OPENSSL_free(der);
    if (err != PICO_OK)
        return tool_fail(err);
    print_key(ctx, "Imported", key, NULL);
    return TOOL_EXIT_OK;
}

int tool_key_wrap(tool_ctx *ctx, int argc, char **argv)
{
    return key_wrap(ctx, argc, argv);
}

int tool_key_unwrap(tool_ctx *ctx, int argc, char **argv)
{
    return key_unwrap(ctx, argc, argv);
}

int tool_key_import(tool_ctx *ctx, int argc, char **argv)
{
    return key_import(ctx, argc, argv);
}
