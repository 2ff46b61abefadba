/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-pkcs11.so: a PKCS#11 module on the same device layer as the provider
 * (common/device.h). One module state per process (PKCS#11 has no other
 * context); every entry point takes the module lock, so the shared device
 * objects see one caller at a time from here.
 *
 * Object handles carry what they name, so that no table goes stale when a
 * key is generated or another process changes the device:
 *   bits 24..31 slot + 1, bits 16..23 kind, bits 0..15 keyref or cert index.
 */
#ifndef PICO_P11_MODULE_H
#define PICO_P11_MODULE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "device.h"
#include "p11_30.h"
#include "schsm.h"

#define P11_MAX_SLOTS 16
#define P11_MAX_SESSIONS 64
#define P11_MAX_FOUND 512

/* The kinds of object a handle names. */
enum { P11_OBJ_PRIVATE = 1, P11_OBJ_PUBLIC, P11_OBJ_KEY_CERT, P11_OBJ_CERT, P11_OBJ_SECRET };

/* A secret C_DeriveKey made: a session object (n = session index << 4 | entry). */
#define P11_MAX_SECRETS 8
typedef struct p11_secret {
    int used;
    CK_KEY_TYPE type;
    uint8_t value[128];
    size_t len;
    char label[64];
} p11_secret;

typedef struct p11_slot {
    pico_device *dev; /* shared device object (common/), NULL: never seen */
    char reader[128];
    int present;  /* seen at the last listing */
    int reported; /* the presence C_WaitForSlotEvent last reported (or C_GetSlotList showed) */
    int logged_in;
    /* what a PIN probe found (p11_pin_probe_run), kept until the device goes: probed, the
     * device has a user PIN (pin_set) and PKA is configured or not (pka) */
    int probed, pin_set, pka;
    char *so_pin;  /* held while the SO is logged in (C_Login CKU_SO): 8 bytes, secure heap */
    int puk_login; /* that login was OpenSC's PUK login (CKU_CONTEXT_SPECIFIC): C_SetPIN unblocks */
} p11_slot;

/* A private-key operation in progress (sign or decrypt). */
typedef struct p11_op {
    int active;
    CK_MECHANISM_TYPE mech;
    CK_OBJECT_HANDLE key;
    const EVP_MD *md;   /* hash-and-sign: the hash; PSS and OAEP: their hash */
    const EVP_MD *mgf1; /* PSS and OAEP */
    CK_ULONG salt;      /* PSS */
    EVP_MD_CTX *mdctx;  /* hash-and-sign: hashing on the host */
    uint8_t *label;     /* OAEP */
    size_t label_len;
    uint8_t *data; /* C_SignUpdate of a mechanism without a hash: the data so far */
    size_t data_len;
} p11_op;

typedef struct p11_session {
    int used;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    /* C_FindObjects */
    int finding;
    CK_OBJECT_HANDLE found[P11_MAX_FOUND];
    size_t nfound, pos;
    p11_op sign, decrypt;
    p11_secret secrets[P11_MAX_SECRETS];
} p11_session;

typedef struct p11_module {
    int initialized;
    pid_t pid; /* the process that initialised: a child must initialise again */
    pico_config cfg;
    char *cfg_strings[8]; /* what cfg points to */
    int pin_last_try;     /* pin-last-try=yes: a login may spend the last try */
    p11_slot slots[P11_MAX_SLOTS];
    size_t nslots;
    p11_session sessions[P11_MAX_SESSIONS];
    int in_login; /* errors raised now are the user's to read (stderr) */
} p11_module;

extern p11_module p11;

/* module.c */
void p11_pad(CK_UTF8CHAR *dst, size_t cap, const char *src);
CK_RV p11_enter(void);
void p11_leave(void);
CK_RV p11_rv(pico_err err);
p11_session *p11_session_get(CK_SESSION_HANDLE h);
/* p11_enter and the session h names, the entry of every function on a session:
 * CKR_SESSION_HANDLE_INVALID (the module left again) when h names none. */
CK_RV p11_enter_session(CK_SESSION_HANDLE h, p11_session **s);
p11_slot *p11_slot_get(CK_SLOT_ID id);

/* config.c: reads PICO_PKCS11_CONFIG's file, then reserved (x-init-reserved). */
CK_RV p11_config_load(const char *reserved);
void p11_config_free(void);

/* session.c: whether the slot's device has a user PIN, asked without a try
 * (pico_schsm_user_pin_set); set -1 when it cannot tell. A device found with a PIN, and
 * whether it has PKA, are kept for the slot while it is present (p11_slot.probed): the
 * next probes send nothing. */
typedef struct p11_pin_probe {
    pico_select_info si;
    pico_pin_state state;
    int set;
    int pka;   /* 1 PKA configured, 0 not, -1 not known */
    int known; /* in: state is the PIN state already read (not asked again) */
} p11_pin_probe;
pico_err p11_pin_probe_run(p11_slot *slot, p11_pin_probe *p);

/* slot.c */
CK_RV p11_slots_refresh(void);
void p11_slot_logout(p11_slot *s);

/* pin.c: the SO login (C_Login CKU_SO), its end (the held SO-PIN released) */
CK_RV p11_so_login(p11_session *s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len);
void p11_so_logout(p11_slot *slot);
/* Every slot's held SO-PIN released (C_Finalize, a child's C_Initialize). */
void p11_so_release_all(void);

/* object.c */
CK_OBJECT_HANDLE p11_handle(CK_SLOT_ID slot, int kind, unsigned n);
CK_RV p11_object_key(p11_session *s, CK_OBJECT_HANDLE h, int kind, pico_key **key);
CK_RV p11_find_init(p11_session *s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
/* 1 for an RSA key made as RSA-PSS (its PrKD holds the RSASSA-PSS AlgorithmIdentifier): it
 * signs with PSS only, as the provider uses it. */
int p11_key_pss_only(const pico_key *key);
/* An RSA-PSS key's restrictions, from the same AlgorithmIdentifier: its digest, MGF1 digest
 * (NIDs) and minimum salt length. restricted 0: none (any other key, or an RSA-PSS key made
 * without them). 0 when the description cannot be read. */
typedef struct p11_pss_limits {
    int restricted;
    int md_nid, mgf1_nid;
    CK_ULONG min_salt;
} p11_pss_limits;
int p11_key_pss_limits(const pico_key *key, p11_pss_limits *out);
/* DER of an EC key's named curve (CKA_EC_PARAMS) into out (cap bytes). */
CK_RV p11_ec_params(const char *curve, uint8_t *out, size_t cap, size_t *len);
/* The key type and (EC) curve CKA_EC_PARAMS names: an OID, or 3.0's curveName
 * (PrintableString "curve25519", "curve448", "edwards25519", "edwards448"). */
CK_RV p11_ec_params_type(const uint8_t *der, size_t len, pico_key_type *type, char *curve,
                         size_t cap);
/* CKA_KEY_TYPE of a key, and what its type can do (PICO_CAP_*). */
CK_KEY_TYPE p11_key_type(const pico_key *k);
unsigned p11_key_caps(const pico_key *k);

/* crypto.c */
void p11_op_clear(p11_op *op);
/* One private-key operation, once more after a login from the configured factors when the
 * card lost this process's login (pin-source=, cache-pin=yes). */
CK_RV p11_key_op(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len, uint8_t *out,
                 size_t *out_len);

#endif
