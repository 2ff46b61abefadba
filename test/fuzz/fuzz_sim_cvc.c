/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual device's CV code (sim/cvc.c) on what a host sends it: CV
 * requests and certificates (sim_cvc_parse), PKA registrations checked
 * against a signature with a CA certificate to follow (sim_pka_verify), and
 * key generation requests (sim_key_generate, EC only: RSA key generation
 * would time the fuzzer out). The input is up to four parts, each
 *
 *   <length, 2 bytes BE> <bytes>
 *
 * the object, a certificate the lookup finds, the message and the signature.
 * Beyond the sanitizers: every pointer the parser returns lies inside its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_int.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static EVP_PKEY *devkey;
static const uint8_t dev_name[] = "ESPICOHSMTR00001";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sim_bytes priv = {0}, cert = {0};

    if (sim_devkey_create(dev_name, sizeof(dev_name) - 1, &priv, &cert) != 0 ||
        (devkey = sim_key_load(priv.data, priv.len)) == NULL)
        abort();
    sim_bytes_free(&priv);
    sim_bytes_free(&cert);
    return 0;
}

typedef struct part {
    const uint8_t *p;
    size_t len;
} part;

static part next_part(const uint8_t **data, size_t *size)
{
    part r = {NULL, 0};
    size_t len;

    if (*size < 2)
        return r;
    len = (size_t)(*data)[0] << 8 | (*data)[1];
    *data += 2;
    *size -= 2;
    if (len > *size)
        len = *size;
    r.p = *data;
    r.len = len;
    *data += len;
    *size -= len;
    return r;
}

static void inside(const uint8_t *q, size_t n, const part *in)
{
    if (q == NULL ? n != 0 : (q < in->p || n > in->len || q + n > in->p + in->len))
        abort();
}

static int lookup(void *ctx, const uint8_t *chr, size_t chr_len, const uint8_t **cert,
                  size_t *cert_len)
{
    const part *ca = ctx;

    if (ca->p == NULL)
        return 0;
    *cert = ca->p;
    *cert_len = ca->len;
    return 1;
}

static int rsa_request(const uint8_t *req, size_t len)
{
    const uint8_t *tmpl, *oid;
    size_t tmpl_len, oid_len;

    if (sim_tlv_find(req, len, 0x7F49, &tmpl, &tmpl_len) != 1 ||
        sim_tlv_find(tmpl, tmpl_len, 0x06, &oid, &oid_len) != 1 || oid_len == 0)
        return 0;
    return oid_len <= SIM_OID_TA_LEN && memcmp(oid, sim_oid_ta_rsa_v15_sha256, oid_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    part obj = next_part(&data, &size), ca = next_part(&data, &size);
    part msg = next_part(&data, &size), sig = next_part(&data, &size);
    sim_bytes priv = {0}, cvreq = {0};
    sim_cvc cvc;
    int type, bits;

    if (obj.p == NULL)
        return 0;
    if (sim_cvc_parse(obj.p, obj.len, &cvc) == 0) {
        inside(cvc.body, cvc.body_len, &obj);
        inside(cvc.car, cvc.car_len, &obj);
        inside(cvc.chr, cvc.chr_len, &obj);
        inside(cvc.pubkey, cvc.pubkey_len, &obj);
        inside(cvc.oid, cvc.oid_len, &obj);
        inside(cvc.outer_car, cvc.outer_car_len, &obj);
    }
    (void)sim_pka_verify(obj.p, obj.len, lookup, &ca, msg.p, msg.len,
                         sig.p != NULL ? sig.p : (const uint8_t *)"", sig.len);
    if (!rsa_request(obj.p, obj.len)) {
        uint16_t sw = sim_key_generate(obj.p, obj.len, devkey, dev_name, sizeof(dev_name) - 1,
                                       &type, &bits, &priv, &cvreq);
        /* a request that made a key answers it as a CV request the card itself parses */
        if (sw == 0x9000 && cvreq.len > 0 && sim_cvc_parse(cvreq.data, cvreq.len, &cvc) != 0)
            abort();
    }
    sim_bytes_free(&priv);
    sim_bytes_free(&cvreq);
    return 0;
}
