/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A key of the device used through common/ alone (no provider): the reference the tests
 * compare the default provider with, for the key types of common/keytype.c.
 *
 *   pico-keyop READER LABEL derive PEER.pem OUT   XDH with the peer's public key: OUT the secret
 *   pico-keyop READER LABEL sign MSG OUT          EdDSA over the file MSG: OUT the signature
 *   pico-keyop READER - supports TYPE             pico_device_supports before and after a login:
 *                                                 "before=0|1 after=0|1 apdus=N"
 *
 * The PIN comes from $PICO_PIN (pin-source=env:PICO_PIN). Errors go to stderr, exit 1.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

static void print_error(void *arg, pico_err code, const char *file, int line, const char *func,
                        const char *fmt, va_list ap)
{
    (void)arg;
    (void)file;
    (void)line;
    (void)func;
    fprintf(stderr, "pico-keyop: %s: ", pico_err_reason(code));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(buf, 1, cap, f) : 0;

    if (f != NULL)
        fclose(f);
    return n;
}

static int write_file(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(buf, 1, n, f) == n;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok;
}

static int first_device(void *arg, pico_device *dev)
{
    *(pico_device **)arg = dev;
    return 1;
}

static pico_err supports(pico_uri *uri, const char *name)
{
    const pico_key_type_info *t = pico_key_type_by_tool_name(name);
    pico_device *dev = NULL;
    int before;
    pico_err err;

    if (t == NULL)
        return pico_err_raise(PICO_E_ARGS, "no key type %s", name);
    if ((err = pico_device_foreach(uri, first_device, &dev)) != PICO_OK)
        return err;
    before = pico_device_supports(dev, t->type);
    if ((err = pico_device_login(dev, uri, NULL, NULL)) != PICO_OK)
        return err;
    printf("before=%d after=%d", before, pico_device_supports(dev, t->type));
    printf(" apdus=%lu\n", pico_device_apdus(dev));
    return PICO_OK;
}

static pico_err key_op(pico_uri *uri, const char *op, const char *in_path, const char *out_path)
{
    uint8_t in[4096], out[256];
    size_t in_len = 0, out_len = sizeof(out);
    pico_key *key;
    EVP_PKEY *peer = NULL;
    FILE *f;
    pico_err err;

    if ((err = pico_device_find_key_any(uri, &key)) != PICO_OK ||
        (err = pico_device_login(key->dev, uri, NULL, NULL)) != PICO_OK)
        return err;
    if (strcmp(op, "derive") == 0) {
        in_len = sizeof(in);
        if ((f = fopen(in_path, "r")) == NULL ||
            (peer = PEM_read_PUBKEY(f, NULL, NULL, NULL)) == NULL ||
            !EVP_PKEY_get_raw_public_key(peer, in, &in_len))
            err = pico_err_raise(PICO_E_FILE, "%s: no raw public key", in_path);
        if (f != NULL)
            fclose(f);
        EVP_PKEY_free(peer);
        if (err == PICO_OK)
            err = pico_device_key_op(key, PICO_MECH_XDH, in, in_len, out, &out_len);
    } else {
        in_len = read_file(in_path, in, sizeof(in));
        err = pico_device_key_op(key, PICO_MECH_EDDSA, in, in_len, out, &out_len);
    }
    if (err == PICO_OK && !write_file(out_path, out, out_len))
        err = pico_err_raise(PICO_E_FILE, "cannot write %s", out_path);
    return err;
}

int main(int argc, char **argv)
{
    pico_uri uri;
    pico_err err;

    if (argc < 5 || (strcmp(argv[3], "supports") != 0 && argc != 6)) {
        fprintf(stderr, "usage: pico-keyop READER LABEL derive|sign IN OUT | READER - supports "
                        "TYPE\n");
        return 2;
    }
    pico_err_set_handler(print_error, NULL);
    pico_device_init();
    memset(&uri, 0, sizeof(uri));
    uri.pin_last_try = -1;
    uri.reader = strdup(argv[1]);
    uri.pin_source = strdup("env:PICO_PIN");
    if (strcmp(argv[2], "-") != 0)
        uri.object = strdup(argv[2]);
    if (strcmp(argv[3], "supports") == 0)
        err = supports(&uri, argv[4]);
    else
        err = key_op(&uri, argv[3], argv[4], argv[5]);
    pico_uri_free(&uri);
    pico_device_cleanup();
    return err == PICO_OK ? 0 : 1;
}
