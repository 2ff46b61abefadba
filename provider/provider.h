/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the provider's operation files: the provider context,
 * the key object every operation works on, and the dispatch tables each file
 * exports. No APDU bytes here (design.md): keys reach the device through
 * common/device.h.
 */
#ifndef PICO_PROVIDER_H
#define PICO_PROVIDER_H

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>

#include "device.h"
#include "err.h"
#include "uri.h"

#define PICO_PROV_NAME "pico"
#define PICO_PROPS "provider=pico"
/* Software parts (hashes, public-key operations) from any provider but this one */
#define PICO_SW_PROPQ "provider!=pico"

typedef struct pico_prov_ctx {
    struct pico_prov_ctx *next; /* the live instances (provider.c) */
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx; /* child library context: the application's providers (core BIOs) */
    CRYPTO_RWLOCK *sw_lock;
    OSSL_LIB_CTX *sw;  /* software parts: libctx, or own when the application has none */
    OSSL_LIB_CTX *own; /* common/'s context with the default provider (pico loaded alone) */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;
    pico_config cfg; /* strings below are owned */
    char *cfg_reader, *cfg_pin_source, *cfg_pka_keys, *cfg_pka_pin_source;
} pico_prov_ctx;

/*
 * The library context for the software parts (hashes, public-key operations,
 * keys made in software): the application's providers other than this one,
 * or, when the application loaded none (`-provider pico` alone), a private
 * context with the default provider. Decided at first need, when the
 * application has loaded all its providers.
 */
OSSL_LIB_CTX *pico_prov_sw(pico_prov_ctx *prov);

/*
 * The provider's key object (keymgmt keydata). A key on the device has hsm
 * set; a public key imported from elsewhere (to verify, or to be matched)
 * has only pub. A key made by key generation without a device target
 * (libssl's ephemeral ECDHE keys when pico's EC key manager is the one
 * fetched) is soft: pub is a whole software key and every operation on it
 * runs in software, as the default provider alone would do it. The login
 * factors given with the key's URI travel with it, secrets cleansed at free.
 */
typedef struct pico_pkey {
    pico_prov_ctx *prov;
    pico_key_type type;
    int rsa_pss;   /* RSA-PSS keymgmt flavour */
    int soft;      /* pub is a software key pair (or its parameters), not on the device */
    int sel;       /* without hsm: what pub holds (OSSL_KEYMGMT_SELECT_*) */
    pico_key *hsm; /* owned by the device object, not by this */
    EVP_PKEY *pub; /* public half (a reference we hold), may be NULL until needed */
    pico_uri uri;  /* where it came from: path + login factors */
    char *app_pin; /* PIN the application's passphrase callback gave at load, held
                    * (pico_secret_hold) until the key's first login */
    /* Threads share one key object (a server's key, loaded once): lock guards what
     * changes after load, pub filled on first need and app_pin handed to one login */
    pthread_mutex_t lock;
    /* the devices holding the same key, when more than one does and the URI names no
     * token= or reader= (device.h): every private-key operation goes through it */
    pico_pool *pool;
    unsigned pool_logged; /* the members logged in (bit i: member i), for app_pin */
} pico_pkey;

pico_pkey *pico_pkey_new(pico_prov_ctx *prov, pico_key_type type);
/* Sets the URI the key came from (parsed and kept). 0 on a malformed URI (error raised). */
int pico_pkey_set_uri(pico_pkey *key, const char *uri);
/*
 * The key a pico: URI names (first private key matching, on the first device
 * that has one), for the store and the decoder. When the device will need a
 * PIN that no URI attribute or config key provides, the application's
 * passphrase callback is asked now, while it is valid (-passin, nginx's
 * ssl_password_file); the PIN is held, cleansed, until the first login.
 */
pico_err pico_pkey_from_key(pico_prov_ctx *prov, pico_key *hsm, const pico_uri *uri,
                            OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg, pico_pkey **out);
/* A copy sharing the device key (hsm) and holding its own pub reference and URI copy. */
pico_pkey *pico_pkey_dup(const pico_pkey *key);
void pico_pkey_free(pico_pkey *key);
/*
 * The public half, read from the device on first use (once, whichever thread
 * asks first). NULL (and an error raised) on failure.
 */
EVP_PKEY *pico_pkey_public(pico_pkey *key);
/*
 * Logs in for this key's device with the key's factors, if not yet logged in.
 * Threads using the key wait for one login: the application's PIN goes to one
 * VERIFY at most, and is released once the device took or refused it.
 */
pico_err pico_pkey_login(pico_pkey *key);

/*
 * The key's private-key operation on the device (pico_device_key_op), after
 * pico_pkey_login. When the device lost the login meanwhile (a reset,
 * another client's SELECT: sc-hsm-protocol.md 4.6) and the key's PIN comes
 * from what the user configured (pin-value or a file:/env: pin-source in the
 * URI or openssl.cnf), it logs in again by reading it again, with the
 * configured PKA keys, and repeats once. A PIN typed at a prompt or handed in
 * by the application is not kept for that: only pico-cache-pin holds one
 * (and the device layer uses it itself).
 */
pico_err pico_pkey_op(pico_pkey *key, pico_mech mech, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len);

/* Raises a provider error with a reason from err.h (common/ reaches it through its handler). */
#define pico_prov_raise(prov, code, ...)                                                           \
    pico_prov_raise_at((prov), (code), __FILE__, __LINE__, __func__, __VA_ARGS__)
void pico_prov_raise_at(pico_prov_ctx *prov, pico_err code, const char *file, int line,
                        const char *func, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 6, 7)))
#endif
    ;
void pico_prov_vraise(pico_prov_ctx *prov, pico_err code, const char *file, int line,
                      const char *func, const char *fmt, va_list ap);

/* PEM name of a key file that holds a device key's pico: URI (encoder.c, decoder.c) */
#define PICO_PEM_URI_NAME "PICO HSM KEY URI"

/*
 * Names only this provider's key managers answer to (aliases of each type's
 * OpenSSL name, "PICO-" and that name: a row's ref_type in keytypes.c): a key
 * reference typed with them can never reach another provider's keymgmt
 * (OSSL_STORE's file: loader fetches a keymgmt by the object's data type).
 */
#define PICO_REF_TYPE(name) "PICO-" name
/* The decoders' intermediate structure: a bare pico: URI, as DER for the file: store */
#define PICO_URI_STRUCTURE "pico-uri"

/* The object reference the store and decoder hand to keymgmt's load (a pico_pkey *). */
#define PICO_OBJ_REF_SIZE sizeof(pico_pkey *)

/* Console prompt for a PIN (OpenSSL's UI method), when nothing else gives one. */
const pico_pin_prompt *pico_console_prompt(void);

/* Shared keymgmt pieces (keymgmt_common.c) */
int pico_keymgmt_get_params(void *keydata, OSSL_PARAM params[]);
int pico_keymgmt_has(const void *keydata, int selection);
int pico_keymgmt_match(const void *a, const void *b, int selection);
void *pico_keymgmt_load(const void *reference, size_t reference_sz);
int pico_keymgmt_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg);
/* Keys not on the device (peer keys, soft keys): the software key's own parameters. */
int pico_keymgmt_set_params(void *keydata, const OSSL_PARAM params[]);
void pico_keymgmt_free(void *keydata);
void *pico_keymgmt_dup(const void *keydata, int selection);
/* Imports a public key into key: builds pub from params with the software provider, as a key
 * of the key object's type (its row's name: "RSA", "RSA-PSS", "EC", "X25519", ...). */
int pico_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[]);
/*
 * Key generation, shared by every key type: the context and its pico-label,
 * pico-id (hex) and pico-uri (device and login factors) parameters. A
 * request that names a device key (any of them) makes it on the device;
 * one that does not (libssl's ephemeral keys, `genpkey` of a software key
 * with pico first) makes a soft key in software, with every parameter
 * handed to the software provider's generator, as with that provider alone.
 * The device's own limits (curves, sizes) are checked only for device keys,
 * at generation (check, set by the RSA and EC files).
 */
typedef struct pico_genctx {
    pico_prov_ctx *prov;
    pico_keygen spec;
    int selection;
    int target; /* pico-label, pico-id or pico-uri given: a device key */
    char label[128];
    uint8_t id[64];
    char curve[32];
    char *uri;
    EVP_PKEY_CTX *sw; /* the software generator, NULL without a software provider */
    int sw_failed;    /* it refused a parameter: a soft key cannot be made */
    int (*check)(struct pico_genctx *ctx); /* the device's limits, for device keys */
    int e_bad, primes_bad;                 /* RSA parameters the device cannot make */
    /* RSA-PSS restrictions asked for (rsa_pss_keygen_md, _mgf1_md, _saltlen; keymgmt_rsa.c),
     * written in the key's PrKD as its AlgorithmIdentifier */
    char pss_md[64], pss_mgf1[64], pss_props[128];
    int pss_saltlen, pss_saltlen_set;
    uint8_t algid[128];
} pico_genctx;
/* alg: the software provider's name for the key type ("EC", "RSA", "RSA-PSS", "X25519") */
pico_genctx *pico_keymgmt_gen_init(pico_prov_ctx *prov, pico_key_type type, const char *alg,
                                   int selection);
int pico_keymgmt_gen_set_common(pico_genctx *ctx, const OSSL_PARAM params[]);
void pico_keymgmt_gen_cleanup(void *genctx);
void *pico_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg);
#define PICO_GEN_SETTABLE_COMMON                                                                   \
    OSSL_PARAM_utf8_string("pico-label", NULL, 0), OSSL_PARAM_utf8_string("pico-id", NULL, 0),     \
        OSSL_PARAM_utf8_string("pico-uri", NULL, 0)

/*
 * RSA-PSS device keys (keymgmt_rsa.c): their PrKD carries an RSASSA-PSS
 * AlgorithmIdentifier (RFC 4055), with the restrictions of a key made with
 * rsa_pss_keygen_md/_mgf1_md/_saltlen, as OpenSSL's RSA-PSS keys hold them.
 */
typedef struct pico_pss_limits {
    int restricted; /* 0: any digest, MGF1 digest and salt length */
    char md[32];    /* the digest and MGF1 digest the key signs with (OpenSSL names) */
    char mgf1[32];
    int min_saltlen;
} pico_pss_limits;
/* 1 when the device key is an RSA-PSS key. */
int pico_rsa_pss_key(const pico_key *hsm);
/* Its restrictions; 0 (error raised) when its AlgorithmIdentifier is malformed. */
int pico_rsa_pss_limits(pico_prov_ctx *prov, const pico_key *hsm, pico_pss_limits *out);
/* Its public key as an RSA-PSS key with those restrictions, from the device's RSA key. */
EVP_PKEY *pico_rsa_pss_public(pico_prov_ctx *prov, const pico_key *hsm, EVP_PKEY *rsa);

/*
 * One row per key type the provider serves (keytypes.c): what OpenSSL calls
 * it, its key manager and the operations it offers, and the sizes its keys
 * report. The algorithm tables (provider.c), encoders, decoders and the store
 * are made from it.
 */
typedef struct pico_prov_keytype {
    pico_key_type type;
    int rsa_pss;               /* the RSA-PSS flavour of an RSA key (its PrKD says so) */
    const char *name;          /* OpenSSL key type name: "EC", "RSA-PSS", "X25519" */
    const char *ref_type;      /* the data type of references only pico's keymgmt takes */
    const char *keymgmt_names; /* the key manager's names, ref_type among them */
    const OSSL_DISPATCH *keymgmt;
    const char *sig_names; /* NULL: no signature of its own */
    const OSSL_DISPATCH *signature;
    const char *exch_names;
    const OSSL_DISPATCH *keyexch;
    const char *cipher_names;
    const OSSL_DISPATCH *cipher;
    const char *codec_names;      /* the key file encoders' and the text encoder's names */
    const char *default_digest;   /* OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL: none */
    const char *mandatory_digest; /* OSSL_PKEY_PARAM_MANDATORY_DIGEST ("": none), NULL: unset */
    /* Sizes as the default provider reports them, from the key's bits (its description's,
     * or the type's fixed size in keytype.h); security_bits NULL: keytype.h's fixed one */
    int (*security_bits)(int bits);
    int (*max_size)(const pico_key_type_info *info, int bits);
} pico_prov_keytype;

/* The most rows the tables made from it hold (provider.c, encoder.c, decoder.c) */
#define PICO_PROV_MAX_KEYTYPES 16
/* The rows (n of them), in the order the algorithm tables list them. */
const pico_prov_keytype *pico_prov_keytypes(size_t *n);
/* NULL when the provider has no row for the type. */
const pico_prov_keytype *pico_prov_keytype_of(pico_key_type type, int rsa_pss);
const pico_prov_keytype *pico_prov_keytype_of_key(const pico_key *hsm);
/* By OpenSSL key type name (case-insensitive), NULL if none. */
const pico_prov_keytype *pico_prov_keytype_by_name(const char *name);
/* The row of a key object. */
#define pico_pkey_keytype(key) pico_prov_keytype_of((key)->type, (key)->rsa_pss)

/* Dispatch tables, one file each (style.md). */
extern const OSSL_DISPATCH pico_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH pico_rsapss_keymgmt_functions[];
extern const OSSL_DISPATCH pico_ec_keymgmt_functions[];
extern const OSSL_DISPATCH pico_x25519_keymgmt_functions[];
extern const OSSL_DISPATCH pico_x448_keymgmt_functions[];
extern const OSSL_DISPATCH pico_ed25519_keymgmt_functions[];
extern const OSSL_DISPATCH pico_ed448_keymgmt_functions[];
extern const OSSL_DISPATCH pico_eddsa_signature_functions[];
extern const OSSL_DISPATCH pico_xdh_keyexch_functions[];
extern const OSSL_DISPATCH pico_rsa_signature_functions[];
extern const OSSL_DISPATCH pico_ecdsa_signature_functions[];
extern const OSSL_DISPATCH pico_rsa_asym_cipher_functions[];
extern const OSSL_DISPATCH pico_ecdh_keyexch_functions[];
extern const OSSL_DISPATCH pico_store_functions[];
/* The encoders and decoders, one of each kind per key type (made once, from keytypes.c) */
const OSSL_ALGORITHM *pico_encoders(void);
const OSSL_ALGORITHM *pico_decoders(void);

#endif
