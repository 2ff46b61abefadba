/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key types the provider serves, one row each: the names OpenSSL knows
 * the type by, its key manager, the operations it offers (signature, key
 * exchange, asymmetric cipher), the names its encoders and decoders answer
 * to, and the sizes the default provider reports for its keys. provider.c
 * builds the algorithm tables from it, encoder.c and decoder.c their own,
 * store.c and the key managers read names and sizes from it: a new key type
 * is a row here and the files of the operations it adds (style.md).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>
#include <strings.h>

#include "cvc.h"
#include "provider.h"

/*
 * Security strength of an RSA modulus of bits, as the default provider rates
 * it (OpenSSL 3.0.x: 112 for 2048, 128 for 3072, 152 for 4096, by a formula
 * of its own between): asked of it, for a public key of that size made of a
 * placeholder modulus (no device access, no key generation); the table of SP
 * 800-57 part 1 if it cannot answer.
 */
static int rsa_security_bits(int bits)
{
    const char *propq = NULL;
    OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n = BN_new(), *e = BN_new();
    int sec = 0;

    if (bits > 1 && bld != NULL && n != NULL && e != NULL && BN_set_bit(n, bits - 1) &&
        BN_set_bit(n, 0) && BN_set_word(e, 65537) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
        (ctx = EVP_PKEY_CTX_new_from_name(libctx, "RSA", propq)) != NULL &&
        EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1)
        sec = EVP_PKEY_get_security_bits(pk);
    if (sec <= 0)
        sec = bits >= 15360  ? 256
              : bits >= 7680 ? 192
              : bits >= 3072 ? 128
              : bits >= 2048 ? 112
                             : 80;
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return sec;
}

static int rsa_max_size(const pico_key_type_info *info, int bits)
{
    (void)info;
    return (bits + 7) / 8;
}

/* As the default provider's ec_get_params: SP 800-57 part 1 table 2 on the order's bits
 * (the field's on the device's curves, all of cofactor 1). */
static int ec_security_bits(int bits)
{
    return bits >= 512   ? 256
           : bits >= 384 ? 192
           : bits >= 256 ? 128
           : bits >= 224 ? 112
           : bits >= 160 ? 80
                         : bits / 2;
}

/*
 * ECDSA_size: the DER of SEQUENCE { INTEGER r, INTEGER s } with r = s = the
 * order. An INTEGER of the order takes a leading zero when its top bit is
 * set, i.e. when its bits fill whole bytes (P-256: 72, P-521: 139).
 */
static int ecdsa_max_size(const pico_key_type_info *info, int bits)
{
    int n = (bits + 7) / 8 + (bits % 8 == 0), item = 1 + (n < 128 ? 1 : 2) + n, body = 2 * item;

    (void)info;
    return 1 + (body < 128 ? 1 : 2) + body;
}

/* X25519/X448: the shared secret is as long as a public key (RFC 7748) */
static int xdh_max_size(const pico_key_type_info *info, int bits)
{
    (void)bits;
    return (int)info->raw_len;
}

/* Ed25519/Ed448: R || S, twice a public key (RFC 8032 5.1.6, 5.2.6) */
static int eddsa_max_size(const pico_key_type_info *info, int bits)
{
    (void)bits;
    return 2 * (int)info->raw_len;
}

#define RSA_OID "1.2.840.113549.1.1.1"

/* clang-format off */
static const pico_prov_keytype keytypes[] = {
    {
        .type = PICO_KEY_RSA, .name = "RSA", .ref_type = PICO_REF_TYPE("RSA"),
        .keymgmt_names = "RSA:rsaEncryption:" RSA_OID ":" PICO_REF_TYPE("RSA"),
        .keymgmt = pico_rsa_keymgmt_functions,
        .sig_names = "RSA:rsaEncryption:" RSA_OID, .signature = pico_rsa_signature_functions,
        .cipher_names = "RSA:rsaEncryption:" RSA_OID, .cipher = pico_rsa_asym_cipher_functions,
        .codec_names = "RSA:rsaEncryption", .default_digest = "SHA256",
        .security_bits = rsa_security_bits, .max_size = rsa_max_size,
    },
    {
        /* RSA keys whose PrKD restricts them to PSS: RSA's signature serves them */
        .type = PICO_KEY_RSA, .rsa_pss = 1, .name = "RSA-PSS",
        .ref_type = PICO_REF_TYPE("RSA-PSS"),
        .keymgmt_names = "RSA-PSS:RSASSA-PSS:1.2.840.113549.1.1.10:" PICO_REF_TYPE("RSA-PSS"),
        .keymgmt = pico_rsapss_keymgmt_functions,
        .codec_names = "RSA-PSS:RSASSA-PSS", .default_digest = "SHA256",
        .security_bits = rsa_security_bits, .max_size = rsa_max_size,
    },
    {
        .type = PICO_KEY_EC, .name = "EC", .ref_type = PICO_REF_TYPE("EC"),
        .keymgmt_names = "EC:id-ecPublicKey:1.2.840.10045.2.1:" PICO_REF_TYPE("EC"),
        .keymgmt = pico_ec_keymgmt_functions,
        .sig_names = "ECDSA", .signature = pico_ecdsa_signature_functions,
        .exch_names = "ECDH", .keyexch = pico_ecdh_keyexch_functions,
        .codec_names = "EC:id-ecPublicKey", .default_digest = "SHA256",
        .security_bits = ec_security_bits, .max_size = ecdsa_max_size,
    },
    {
        .type = PICO_KEY_X25519, .name = "X25519", .ref_type = PICO_REF_TYPE("X25519"),
        .keymgmt_names = "X25519:1.3.101.110:" PICO_REF_TYPE("X25519"),
        .keymgmt = pico_x25519_keymgmt_functions,
        .exch_names = "X25519:1.3.101.110", .keyexch = pico_xdh_keyexch_functions,
        .codec_names = "X25519", .max_size = xdh_max_size,
    },
    {
        .type = PICO_KEY_X448, .name = "X448", .ref_type = PICO_REF_TYPE("X448"),
        .keymgmt_names = "X448:1.3.101.111:" PICO_REF_TYPE("X448"),
        .keymgmt = pico_x448_keymgmt_functions,
        .exch_names = "X448:1.3.101.111", .keyexch = pico_xdh_keyexch_functions,
        .codec_names = "X448", .max_size = xdh_max_size,
    },
    {
        /* PureEdDSA: the message is signed whole, no digest (mandatory digest "none") */
        .type = PICO_KEY_ED25519, .name = "ED25519", .ref_type = PICO_REF_TYPE("ED25519"),
        .keymgmt_names = "ED25519:1.3.101.112:" PICO_REF_TYPE("ED25519"),
        .keymgmt = pico_ed25519_keymgmt_functions,
        .sig_names = "ED25519:1.3.101.112", .signature = pico_eddsa_signature_functions,
        .codec_names = "ED25519", .mandatory_digest = "", .max_size = eddsa_max_size,
    },
    {
        .type = PICO_KEY_ED448, .name = "ED448", .ref_type = PICO_REF_TYPE("ED448"),
        .keymgmt_names = "ED448:1.3.101.113:" PICO_REF_TYPE("ED448"),
        .keymgmt = pico_ed448_keymgmt_functions,
        .sig_names = "ED448:1.3.101.113", .signature = pico_eddsa_signature_functions,
        .codec_names = "ED448", .mandatory_digest = "", .max_size = eddsa_max_size,
    },
};
/* clang-format on */

#define N_KEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))
_Static_assert(N_KEYTYPES <= PICO_PROV_MAX_KEYTYPES, "more key types than the tables hold");

const pico_prov_keytype *pico_prov_keytypes(size_t *n)
{
    *n = N_KEYTYPES;
    return keytypes;
}

const pico_prov_keytype *pico_prov_keytype_of(pico_key_type type, int rsa_pss)
{
    size_t i;

    for (i = 0; i < N_KEYTYPES; i++)
        if (keytypes[i].type == type && keytypes[i].rsa_pss == (rsa_pss != 0))
            return &keytypes[i];
    return NULL;
}

const pico_prov_keytype *pico_prov_keytype_of_key(const pico_key *hsm)
{
    return pico_prov_keytype_of(hsm->type, pico_rsa_pss_key(hsm));
}

const pico_prov_keytype *pico_prov_keytype_by_name(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < N_KEYTYPES; i++)
        if (strcasecmp(keytypes[i].name, name) == 0)
            return &keytypes[i];
    return NULL;
}
