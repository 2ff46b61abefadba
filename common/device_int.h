/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the device object, shared by device*.c only: not installed,
 * not part of the API. The API is device.h.
 */
#ifndef PICO_DEVICE_INT_H
#define PICO_DEVICE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "busy.h"
#include "device.h"
#include "transport.h"

#define MAX_FIDS 1024

struct pico_device {
    struct pico_device *next;
    char *reader;
    pico_card *card;
    pthread_mutex_t lock;
    pid_t pid;
    int selected;  /* the application is selected on this card session */
    int logged_in; /* this process verified the PIN in this card session */
    int txn;       /* a PC/SC transaction is open (pico_dev_enter) */
    pico_select_info info;
    char *name; /* CHR of the device certificate, read on demand */
    char desc[320];
    uint16_t fids[MAX_FIDS];
    size_t nfids;
    int listed;
    pico_key **keys;
    size_t nkeys;
    char *held_pin; /* pico_secret_hold: out of core dumps */
    size_t held_len;
    /* the factors of the last login, held when the user allowed it (pico-cache-pin) */
    int can_relogin;
    int login_had_pka; /* the last login ran a PKA round */
    int login_had_pin; /* the last login verified the PIN (the MKEK is open) */
    pico_pka_signer *held_signers[PICO_URI_MAX_PKA_KEYS];
    size_t n_held_signers;
    /* the configured factors read where a key was loaded (a daemon's master, before it
     * forks and drops privileges), for this process's (or a child's) first login */
    char *pre_pin; /* pico_secret_hold */
    char *pre_for; /* the settings they were read from (pre_key_of): another instance's differ */
    pico_pka_signer *pre_signers[PICO_URI_MAX_PKA_KEYS];
    size_t n_pre_signers;
    int preloaded;
    /* the PINs this device refused to this process (salted digests): never sent again,
     * whichever login path reads them (first login, sources again, held PIN) */
    pico_refused_pins refused;
    /* certificates stored without a key (C8xx + CAxx), read once: pico_device_certs */
    pico_cert **certs;
    size_t ncerts;
    int certs_read;
    /* keys out of the list (deleted, or forgotten with it), kept allocated until the device
     * object goes: a pico_key pointer never dangles (device.h) */
    pico_key **gone;
    size_t ngone;
    /* the firmware's EdDSA (ENABLE_EDDSA build): 0 not known yet, 1 yes, -1 no; a property of
     * the firmware, kept when the object forgets what the device holds */
    int eddsa;
    /* another process's pool sees this device busy while a key operation runs (busy.h) */
    char busy_name[PICO_BUSY_NAME_LEN];
    int busy_mark;
};

/* device.c: the device taken and given back for a sequence of exchanges */
pico_err pico_dev_enter(pico_device *d);
void pico_dev_leave(pico_device *d);

/* device.c: a device object over the transport t (taken), selected, in the registry (the
 * caller holds the registry's lock, or is a single-threaded unit test over a scripted one) */
pico_err pico_dev_open(const char *reader, pico_transport *t, pico_device **out);

/* device_keys.c: what the device holds, listed once (its FIDs, keys, certificates) */
pico_err pico_dev_list(pico_device *d);
int pico_dev_has_fid(const pico_device *d, uint16_t fid);
pico_err pico_dev_key_read_desc(pico_key *k);
pico_err pico_dev_key_read_public(pico_key *k);
void pico_dev_key_free(pico_key *k);
/* device_keys.c: a new key's default ID, OpenSC's intrinsic one (as its pkcs15init and
 * sc-hsm-tool give keys): SHA-1 of the RSA modulus, of an EC point's x, or of the raw public
 * key (X25519, X448, Ed25519, Ed448) */
pico_err pico_dev_key_intrinsic_id(EVP_PKEY *pub, uint8_t id[20]);
/* device_keys.c: a new key's label (required; label_hint says where it is given) and ID
 * (when given) are no other key's on d: every URI naming the new key names it alone. The
 * device entered. */
pico_err pico_dev_check_label_id(pico_device *d, const char *label, const uint8_t *id,
                                 size_t id_len, const char *label_hint);
void pico_dev_certs_free(pico_device *d);

/* device_login.c: the held factors and the login again with them */
void pico_dev_drop_held(pico_device *d);
/* Every device's held factors dropped (device.c; at exit: devices busy in another thread are
 * skipped). */
void pico_dev_drop_held_all(void);
/* the held factors and the refused PINs: the device object goes, or this process changed
 * the device's PIN */
void pico_dev_forget_login(pico_device *d);
pico_err pico_dev_relogin_locked(pico_device *d);
pico_err pico_dev_explain_refusal(pico_device *d, const char *op, pico_err why);

#endif
