/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device-cache READER PIN-FILE KEY-CERT CA-CERT: the device object stays true through the
 * device-level changes, in one process over common/ (as pico-hsm-tool uses it). Lists the
 * keys, deletes the one labelled "gone", lists again (it is gone, "web" and "mail" are
 * there, no APDU sent), stores KEY-CERT with "web" and CA-CERT without a key (label
 * "myca", id 42): both known at once, no APDU. Then forgets everything and reads the
 * device again: what it holds is what the object knew. Prints the APDU counts; exit 0
 * when every check held, 1 with the first that did not.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "device-cache: " __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int first_device(void *arg, pico_device *dev)
{
    *(pico_device **)arg = dev;
    return 1;
}

static pico_key *key_by_label(pico_device *dev, const char *label, size_t *count)
{
    pico_key **keys, *found = NULL;
    size_t i, n;

    CHECK(pico_device_keys(dev, &keys, &n) == PICO_OK, "key list");
    for (i = 0; i < n; i++)
        if (keys[i]->label != NULL && strcmp(keys[i]->label, label) == 0)
            found = keys[i];
    if (count != NULL)
        *count = n;
    return found;
}

static pico_cert *cert_by_label(pico_device *dev, const char *label, size_t *count)
{
    pico_cert **certs, *found = NULL;
    size_t i, n;

    CHECK(pico_device_certs(dev, &certs, &n) == PICO_OK, "certificate list");
    for (i = 0; i < n; i++)
        if (certs[i]->label != NULL && strcmp(certs[i]->label, label) == 0)
            found = certs[i];
    *count = n;
    return found;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    CHECK(x != NULL, "%s: no PEM certificate", path);
    fclose(f);
    return x;
}

/* Delete "gone", list again: returns the APDUs of the deletion. */
static unsigned long delete_and_list(pico_device *dev, size_t *count)
{
    size_t n0, n1;
    pico_key *gone = key_by_label(dev, "gone", &n0);
    unsigned long a0, a1;

    CHECK(gone != NULL && key_by_label(dev, "web", NULL) && key_by_label(dev, "mail", NULL),
          "the keys gone, web and mail are not all there");
    a0 = pico_device_apdus(dev);
    CHECK(pico_device_delete_key(dev, gone, NULL) == PICO_OK, "delete");
    a1 = pico_device_apdus(dev);
    CHECK(key_by_label(dev, "gone", &n1) == NULL, "the deleted key is still listed");
    CHECK(n1 + 1 == n0, "%zu keys before, %zu after", n0, n1);
    CHECK(key_by_label(dev, "web", NULL) && key_by_label(dev, "mail", NULL), "a key went too");
    CHECK(pico_device_apdus(dev) == a1, "the list was read again: %lu APDUs",
          pico_device_apdus(dev) - a1);
    *count = n1;
    return a1 - a0;
}

int main(int argc, char **argv)
{
    char uri_str[600];
    pico_uri uri;
    pico_device *dev = NULL;
    pico_key *web;
    pico_cert *myca;
    EVP_PKEY *pub;
    X509 *kx, *ca;
    size_t nkeys, ncerts, n;
    unsigned long del, a0;
    const uint8_t id42[] = {0x42};

    CHECK(argc == 5, "usage: device-cache READER PIN-FILE KEY-CERT CA-CERT");
    kx = read_cert(argv[3]);
    ca = read_cert(argv[4]);
    snprintf(uri_str, sizeof(uri_str), "pico:?pin-source=file:%s", argv[2]);
    CHECK(pico_uri_parse(uri_str, &uri, NULL) == PICO_URI_OK, "uri");
    uri.reader = strdup(argv[1]);
    pico_device_init();
    CHECK(pico_device_foreach(&uri, NULL, first_device, &dev) == PICO_OK && dev != NULL,
          "no device");
    CHECK(pico_device_login(dev, &uri, NULL, NULL, NULL) == PICO_OK, "login");

    del = delete_and_list(dev, &nkeys);
    web = key_by_label(dev, "web", NULL);
    CHECK(pico_device_key_public(web, &pub) == PICO_OK, "web's public key");
    a0 = pico_device_apdus(dev);
    CHECK(pico_device_put_cert(dev, web, kx, NULL, NULL, 0, NULL) == PICO_OK, "put key cert");
    printf("delete: %lu APDUs, list after it: 0; key certificate: %lu", del,
           pico_device_apdus(dev) - a0);
    CHECK(web->cert != NULL && X509_cmp(web->cert, kx) == 0, "web's certificate is not known");
    CHECK(cert_by_label(dev, "myca", &ncerts) == NULL, "myca is there before");
    a0 = pico_device_apdus(dev);
    CHECK(pico_device_put_cert(dev, NULL, ca, "myca", id42, 1, NULL) == PICO_OK, "put CA cert");
    printf(", certificate without a key: %lu\n", pico_device_apdus(dev) - a0);
    a0 = pico_device_apdus(dev);
    myca = cert_by_label(dev, "myca", &n);
    CHECK(myca != NULL && n == ncerts + 1 && X509_cmp(myca->x509, ca) == 0, "myca is not known");
    CHECK(pico_device_apdus(dev) == a0, "the certificates were read again");

    /* what the device holds, read again from scratch */
    pico_device_forget(dev);
    web = key_by_label(dev, "web", &n);
    CHECK(n == nkeys && key_by_label(dev, "gone", NULL) == NULL, "the device holds other keys");
    CHECK(pico_device_key_public(web, &pub) == PICO_OK && web->cert != NULL &&
              X509_cmp(web->cert, kx) == 0,
          "the device holds another certificate for web");
    myca = cert_by_label(dev, "myca", &n);
    CHECK(myca != NULL && n == ncerts + 1 && X509_cmp(myca->x509, ca) == 0 && myca->id_len == 1 &&
              myca->id[0] == 0x42,
          "the device holds another myca");
    printf("OK\n");
    pico_uri_free(&uri);
    X509_free(kx);
    X509_free(ca);
    pico_device_cleanup();
    return 0;
}
