/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device object: one per physical device per process, shared by every
 * key on it. It selects the application once per connection, reads the key
 * list and key descriptions once, serialises exchanges with a mutex, notices
 * fork() and re-establishes PC/SC in the child, and keeps the login state:
 * when the device answers "security status not satisfied" after a reset or
 * another process's SELECT, it logs in again with the factors it holds (only
 * when the user allowed holding them).
 *
 * Nothing here knows OSSL_PARAM; the provider maps its objects onto these.
 */
#ifndef PICO_DEVICE_H
#define PICO_DEVICE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"
#include "keypolicy.h"
#include "keytype.h"
#include "uri.h"

typedef struct pico_device pico_device;

/* A key on the device, as its PrKD (C4xx) and public part (CExx) describe it. */
typedef struct pico_key {
    pico_device *dev; /* not owned */
    uint8_t keyref;   /* 1..255: the low byte of CCxx */
    pico_key_type type;
    int bits;       /* RSA modulus bits, EC field bits, the type's fixed size (keytype.h) */
    char curve[32]; /* EC: OpenSSL group name ("prime256v1", ...) */
    char *label;    /* PrKD label, may be NULL */
    uint8_t id[64]; /* PrKD ID */
    size_t id_len;
    uint8_t algid[128]; /* PrKD: the AlgorithmIdentifier (DER) the key is restricted to, as */
    size_t algid_len;   /* an RSASSA-PSS key's; 0 when it has none (pkcs15.h) */
    EVP_PKEY *pub;      /* public key, read lazily: use pico_device_key_public() */
    X509 *cert;         /* certificate stored in CExx, when it holds X.509 */
    int pub_loaded;
    int desc_loaded; /* PrKD read */
} pico_key;

/*
 * The settings of one user of the device layer: a provider instance's section of
 * openssl.cnf (each library context has its own; device objects are shared, their
 * settings are not). Passed where they apply; NULL means none (pico-hsm-tool, a PKA
 * signer's own device).
 */
typedef struct pico_config {
    const char *default_reader; /* substring of a reader name */
    const char *pin_source;     /* file:|env:|fd: default PIN source */
    int cache_pin;              /* hold the PIN (cleansed at exit) to log in again after a reset */
    const char *pka_keys;       /* PKA signers for URIs that name none, separated by spaces */
    const char *pka_pin_source; /* their own PIN (token PIN, PEM passphrase) */
} pico_config;

/*
 * Finds the devices that match uri's token= and reader= (reader= defaults to
 * cfg's pico-reader; any when neither) and calls fn for each, with the shared
 * device object. Stops early when fn
 * returns non-zero. Errors: no reader, no device.
 */
typedef int (*pico_device_fn)(void *arg, pico_device *dev);
pico_err pico_device_foreach(const pico_uri *uri, const pico_config *cfg, pico_device_fn fn,
                             void *arg);

/*
 * The same for a listing (pico:, a store search): when neither uri nor the
 * configuration names a token= or reader=, no reader and no device in any
 * reader are an empty result (PICO_OK, fn never called), not an error. A
 * PC/SC service that cannot be reached stays an error (PICO_E_NO_READER).
 */
pico_err pico_device_foreach_listing(const pico_uri *uri, const pico_config *cfg, pico_device_fn fn,
                                     void *arg);

/* Reader name, device name (CHR of the device certificate) and serial. */
const char *pico_device_reader(const pico_device *dev);
const char *pico_device_name(pico_device *dev);

/* The keys on the device (read once per process). The array belongs to the device. */
pico_err pico_device_keys(pico_device *dev, pico_key ***keys, size_t *count);

/* Keys matching uri's object=, id=, type= (type private or public or none). */
pico_err pico_device_find_key(pico_device *dev, const pico_uri *uri, pico_key **key);

/*
 * The first key uri names on any device that matches its token= and reader=
 * (decoder, PKA signers). A device that fails while being searched does not
 * stop the search; when no device has the key, its error is raised then,
 * else PICO_E_NOT_FOUND is returned unraised (the caller says what it looked
 * for).
 */
pico_err pico_device_find_key_any(const pico_uri *uri, const pico_config *cfg, pico_key **key);

/* Public key of a key (reads CExx on first use). Not owned by the caller. */
pico_err pico_device_key_public(pico_key *key, EVP_PKEY **pub);

/*
 * A certificate stored without a key: EF CAxx, described by the PKCS#15
 * certificate description in C8xx (label, ID), as OpenSC stores a
 * certificate whose ID matches no key. A key's own certificate (CExx) is
 * pico_key.cert, under the key's label and ID.
 */
typedef struct pico_cert {
    pico_device *dev; /* not owned */
    uint16_t fid;     /* CAxx */
    char *label;      /* CD label, may be NULL */
    uint8_t id[64];   /* CD ID */
    size_t id_len;
    int authority; /* the CD's authority flag */
    X509 *x509;
} pico_cert;

/*
 * The certificates stored without a key, read once per process (each C8xx
 * and its CAxx; a description without a readable certificate is skipped).
 * The array belongs to the device.
 */
pico_err pico_device_certs(pico_device *dev, pico_cert ***certs, size_t *count);

/*
 * Makes sure the device is logged in for key use: PIN status (no try spent),
 * then VERIFY with the PIN from uri (pin-value, pin-source), the PIN the
 * application gave (app_pin, may be NULL), cfg's pin-source, or the prompt;
 * the PKA signers uri names, else cfg's pico-pka-key ones. cfg NULL: uri's
 * factors only (the device of a pico: PKA signer, whose own login must not
 * open the signers it serves). Never retries a wrong PIN; refuses to spend the
 * last try unless uri says pin-last-try=yes (or a person at the prompt was
 * told it is the last).
 */
pico_err pico_device_login(pico_device *dev, const pico_uri *uri, const pico_config *cfg,
                           const char *app_pin, const pico_pin_prompt *prompt);

/*
 * Reads cfg's factors now (pico-pin-source, and the pico-pka-key
 * signers when every one is a file: key) and keeps them for the first login
 * of a key whose URI names no factor of its own: called where a key is
 * loaded, so that a daemon's master, before it forks and drops privileges,
 * opens what its workers could not read. Nothing is sent to the device; a
 * factor that cannot be read now is left to the login, which reports it.
 * The first login with the same settings consumes them (pico-cache-pin then
 * holds them on).
 */
void pico_device_preload_login(pico_device *dev, const pico_config *cfg);

/* 1 when this process logged in on the device and the card has not lost it since. */
int pico_device_logged_in(pico_device *dev);

/*
 * What a private-key operation asks of the device; the device layer picks the
 * command and its algorithm byte (sc-hsm-protocol.md 7.1, 7.2). Callers above
 * common/ name mechanisms, never bytes.
 */
typedef enum pico_mech {
    PICO_MECH_ECDSA = 1,       /* in: the hash (the device truncates it); out: DER */
    PICO_MECH_RSA_RAW,         /* in: a modulus-length block the host padded; out: the block^d */
    PICO_MECH_RSA_PSS,         /* in: the hash; the device pads PSS, salt = MGF1 = hash length */
    PICO_MECH_RSA_DECRYPT_RAW, /* in: a modulus-length ciphertext; out: the raw block */
    PICO_MECH_ECDH,            /* in: the peer's uncompressed point; out: 04 || x */
    PICO_MECH_XDH,   /* X25519/X448: in the peer's raw u-coordinate (32/56 B); out the RFC 7748
                        shared secret (the device's leading 04 stripped here) */
    PICO_MECH_EDDSA, /* Ed25519/Ed448: in the whole message (one APDU: longer is PICO_E_ARGS);
                        out raw R || S (64/114 B) */
} pico_mech;

/* The longest message PICO_MECH_EDDSA takes: one extended command APDU of at most 2038 bytes
 * on hardware (sc-hsm-protocol.md 1.4) less its header, Lc and Le. */
#define PICO_EDDSA_MAX_MESSAGE 2029

/* A private-key operation: one APDU (plus a login if the device lost it). */
pico_err pico_device_key_op(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len,
                            uint8_t *out, size_t *out_len);

/*
 * The same, but a device another thread of this process is using at the moment is
 * not waited for: PICO_E_BUSY, unraised, and nothing sent (a pool tries another).
 */
pico_err pico_device_key_op_try(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len,
                                uint8_t *out, size_t *out_len);

/* Whether a key operation (of any process, this one included) runs on the device now: a
 * pool's hint to leave it alone (not a lock; busy.h). */
int pico_device_busy(pico_device *d);

/*
 * A device pool: the devices that hold the same key (the same public key, e.g.
 * restored from one backup), for a URI without token= or reader=. The first key
 * the URI names is the anchor; every other matching device whose key the URI
 * names has an EVP_PKEY_eq-equal public key is a member. Operations go to the
 * members in turn (round-robin), skip one busy in another thread, and fail over:
 * a member that is removed or cannot be reached (PICO_E_REMOVED, _COMM,
 * _NO_READER, _NO_DEVICE) is marked down and the same operation goes to the next;
 * a down member is tried again after a short back-off (it rejoins when back). A
 * pool made by pico_pool_new looks at the readers again every 2 s from an
 * operation: a device new since then holding the key joins.
 */
typedef struct pico_pool pico_pool;

/*
 * Makes the pool of uri: PICO_E_NOT_FOUND unraised when no device holds the key.
 * The anchor's public key is read only when another device holds a key the URI
 * names (one device costs nothing more than finding the key).
 */
pico_err pico_pool_new(const pico_uri *uri, const pico_config *cfg, pico_pool **pool);
/* A pool of the given keys, keys[0] the anchor (no comparison: unit tests, callers
 * that compared). */
pico_pool *pico_pool_of_keys(pico_key *const *keys, size_t n);
/* One more reference; pico_pool_free drops one (the last frees it; the keys stay). */
pico_pool *pico_pool_up_ref(pico_pool *pool);
void pico_pool_free(pico_pool *pool);
size_t pico_pool_size(const pico_pool *pool);
/* Member i (0 is the anchor). */
pico_key *pico_pool_key(const pico_pool *pool, size_t i);
/* 1 while member i is marked down. */
int pico_pool_member_down(pico_pool *pool, size_t i);

/*
 * Logs a member in the first time it is used (and again after it was down): the
 * provider's calls pico_device_login with the key's URI, configuration and PINs.
 */
typedef pico_err (*pico_pool_login_fn)(void *arg, pico_key *member);

/* A private-key operation on one member, as pico_device_key_op. */
pico_err pico_pool_key_op(pico_pool *pool, pico_pool_login_fn login, void *arg, pico_mech mech,
                          const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len);

/*
 * Runs fn with the device's card, selected, inside one PC/SC transaction and
 * under the device lock: for read-only commands, which change nothing the
 * object knows (status queries: PIN and PKA state, no try spent). A command
 * that changes the device or its session goes through the operations below,
 * which keep the object true. fn must not call other pico_device_* functions
 * of the same device.
 */
typedef pico_err (*pico_card_fn)(void *arg, pico_card *card);
pico_err pico_device_run(pico_device *dev, pico_card_fn fn, void *arg);

/*
 * The same for a login the caller makes itself (pico-hsm-tool pin verify, pka
 * login: fn sends the VERIFY, the PKA round): the login the object had is
 * then taken as gone (a VERIFY with data drops both PIN sessions first, 4.1),
 * and the next pico_device_login asks the device (the PIN state, no try
 * spent) instead of assuming. Keys, certificates, name, held factors stay.
 */
pico_err pico_device_run_login(pico_device *dev, pico_card_fn fn, void *arg);

/*
 * Forgets everything the object knows of the device (key list, descriptions,
 * certificates, name, SELECT answer, login, held factors and refused PINs):
 * for a device something else changed (another program; INITIALIZE, which
 * pico_device_initialize forgets with). Everything is read again at the next
 * use. The pico_key objects stay allocated, naming keys that may be gone, until
 * pico_device_cleanup; the certificate list (pico_device_certs) is freed.
 */
void pico_device_forget(pico_device *dev);

/*
 * Changes of the device (pico-hsm-tool). Each runs its commands in one PC/SC
 * transaction and updates what the object knows to what the device then
 * holds, exactly: the rest (other keys, descriptions, certificates, name,
 * login) is kept and not read again. Arrays from pico_device_keys and
 * pico_device_certs are valid until the next change; the pico_key objects
 * until pico_device_cleanup, also a deleted one's; the pico_cert objects
 * until pico_device_initialize or pico_device_forget.
 *
 * The caller's steps in the same transaction, before and after the change:
 * check (PIN state checks, a VERIFY the change needs) and report (status
 * queries for the output). Either may be NULL; neither may change what the
 * object knows. When check fails nothing is changed, on the device or here.
 */
typedef struct pico_admin_steps {
    pico_card_fn check;
    pico_card_fn report; /* after the change succeeded */
    void *arg;
} pico_admin_steps;

/*
 * Deletes key: CCxx, then its PrKD (C4xx) and CExx when there (6.8). The key
 * leaves the key list and its files the FID list; the object itself stays
 * allocated until pico_device_cleanup with its fields as they were, so a
 * pointer a caller still holds never dangles (it names a key the device no
 * longer has: a key operation with it fails on the device). files: how many
 * of C4xx and CExx were there (may be NULL). A failure after CCxx went leaves
 * the key list to be read again at the next use.
 */
pico_err pico_device_delete_key(pico_device *dev, pico_key *key, int *files);

/*
 * The policy a key was generated with, as the device holds it now (the use counter
 * left): SELECT of CCxx, whose FCP carries the metadata (no PIN needed).
 */
pico_err pico_device_key_info(pico_device *dev, pico_key *key, pico_key_policy *policy);

/*
 * Stores the X.509 certificate x. For a key: in its CExx (6.6), replacing the
 * CV request or a previous certificate; x's public key must be the key's.
 * key->cert becomes a reference to x (the previous one is freed: a caller
 * that keeps one holds its own reference); key->pub stays the same key.
 * *replaced: 1 when CExx held a certificate before (may be NULL).
 * Without a key (key NULL): in the first free EF CAxx with a certificate
 * description C8xx (label, may be NULL, and id, which no key may have), as
 * OpenSC stores a certificate whose ID matches no key; it joins the list
 * pico_device_certs gives. label and id are for this case only.
 */
pico_err pico_device_put_cert(pico_device *dev, pico_key *key, X509 *x, const char *label,
                              const uint8_t *id, size_t id_len, int *replaced);

/* What pico_device_initialize found after INITIALIZE. */
typedef struct pico_init_result {
    int pin_verified; /* the new user PIN was verified (not with the transport PIN) */
    int pin_tries;
} pico_init_result;

/*
 * INITIALIZE DEVICE with spec (3), then the VERIFY of the new user PIN (none
 * with the transport-PIN option, 3.2) and steps->report, in one transaction:
 * no other client in between. Whatever the outcome the object forgets
 * everything (pico_device_forget): keys, certificates, name, the SELECT
 * answer (options), the login and the held factors and refused PINs. steps
 * may be NULL; its check is not used.
 */
pico_err pico_device_initialize(pico_device *dev, const pico_init_spec *spec,
                                const pico_admin_steps *steps, pico_init_result *res);

/*
 * CHANGE REFERENCE DATA of the user PIN or the SO-PIN (ref PICO_PIN_USER,
 * PICO_PIN_SO; 4.2) after steps->check. The login this process had is taken
 * as gone (a wrong old PIN drops both PIN sessions); when the device refused
 * the old user PIN it is never sent again (as any refused PIN); after a new
 * user PIN the held factors are dropped and the refused PINs forgotten: the
 * new PIN may be sent, whichever it is. Keys, certificates, name stay.
 */
pico_err pico_device_change_pin(pico_device *dev, uint8_t ref, const uint8_t *old_pin,
                                size_t old_len, const uint8_t *new_pin, size_t new_len,
                                const pico_admin_steps *steps, int *tries);

/*
 * RESET RETRY COUNTER (4.3) with the SO-PIN after steps->check: with a new
 * user PIN (P1=00; the held factors dropped and the refused PINs forgotten,
 * as after a change), or without (new_pin NULL, P1=01: counter only, the PIN
 * and what is known of it stay). The PIN session the command opens is
 * closed: the application is selected again at the next use, so the state
 * read next is a new session's and this process holds no login it did not
 * ask for.
 */
pico_err pico_device_unblock_pin(pico_device *dev, const uint8_t *so_pin, size_t so_len,
                                 const uint8_t *new_pin, size_t new_len,
                                 const pico_admin_steps *steps, int *tries);

/*
 * VERIFY of the SO-PIN (4.1, P2 88) after steps->check (the PIN state, no try spent): the
 * Security Officer's login (pico-pkcs11's C_Login CKU_SO). A VERIFY with data drops both
 * PIN sessions first, so the login this process had is taken as gone, right or wrong; a
 * wrong SO-PIN spends one try (tries: what is left). Without PKA a verified SO-PIN also
 * grants key use on a Pico (4.1): the caller ends it (pico_device_forget) with its SO
 * session. Keys, certificates, name, held factors stay.
 */
pico_err pico_device_so_login(pico_device *dev, const uint8_t *so_pin, size_t so_len,
                              const pico_admin_steps *steps, int *tries);

/*
 * MANAGE PKA add (slot < 0) or replace (5.3) of the registration request req,
 * after steps->check (the VERIFY it needs) and before steps->report. The
 * login this process had is taken as gone (the check's VERIFY changed the
 * session, and what a login needs changed); keys, certificates, name and the
 * held factors stay. st: the PKA status the device answers (2.3).
 */
pico_err pico_device_pka_register(pico_device *dev, int slot, const uint8_t *req, size_t len,
                                  const pico_admin_steps *steps, uint8_t st[4]);

/*
 * Whether the device can generate and use keys of type t (Ed25519/Ed448 only on
 * firmware built with EdDSA). Asks the device at most once per device object,
 * without a PIN try and without leaving a key behind: an Ed key already on the
 * device answers yes without a login; otherwise, with this process's login, a
 * GENERATE of an Ed25519 key that is deleted at once (a firmware without EdDSA
 * makes an X25519 key of it). Without a login and such a key: 0, not cached.
 * pico_device_generate of an Ed type is a probe of its own (it fails with
 * PICO_E_UNSUPPORTED and leaves nothing): callers about to generate need not ask.
 */
int pico_device_supports(pico_device *dev, pico_key_type t);

/* Key generation on the device (needs a login). bits for RSA, curve for EC, nothing else for
 * the types of fixed size. */
typedef struct pico_keygen {
    pico_key_type type;
    int bits;
    const char *curve; /* OpenSSL group name */
    const char *label;
    const uint8_t *id;
    size_t id_len;
    const uint8_t *algid; /* restriction written in the PrKD (pico_key.algid), may be NULL */
    size_t algid_len;
    const pico_key_policy *policy; /* use counter, allowed algorithms, domain; NULL: none */
} pico_keygen;
pico_err pico_device_generate(pico_device *dev, const pico_keygen *spec, pico_key **key);

/*
 * Refuses, before any login or change, a key that spec would make ambiguous:
 * no label or an empty one, a label or an ID another key of the device has
 * (every URI naming it would then name both). Reads the key descriptions
 * (no PIN). pico_device_generate checks it too.
 */
pico_err pico_device_check_new_key(pico_device *dev, const pico_keygen *spec);

/* APDUs exchanged so far with this device (for tests and benchmarks). */
unsigned long pico_device_apdus(const pico_device *dev);

/*
 * The device objects are shared by every user of common/ in the process (each
 * provider instance, one per library context, and the tool): each user calls
 * pico_device_init once and pico_device_cleanup once; the objects, the
 * configuration and what they hold go with the last user.
 */
void pico_device_init(void);
void pico_device_cleanup(void);

/* Options and firmware version from the device's SELECT answer (2.2). */
pico_err pico_device_select_info(pico_device *dev, pico_select_info *info);

#endif
