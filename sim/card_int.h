/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by sim/card*.c: framing, files, INITIALIZE and domains, keys, PINs and PKA. */
#ifndef SIM_CARD_INT_H
#define SIM_CARD_INT_H

#include <stdint.h>

#include "apdu.h"
#include "card.h"
#include "crypto.h"
#include "state.h"
#include "util.h"

/* Status words (sc-hsm-protocol.md 1.7). */
#define SW_OK 0x9000
#define SW_PKA_AUTHENTICATED 0x9001
#define SW_EOF 0x6282
#define SW_EXEC_ERROR 0x6400
#define SW_MEMORY 0x6581
#define SW_WRONG_LENGTH 0x6700
#define SW_CHAIN_MISMATCH 0x6883
#define SW_SECURITY 0x6982
#define SW_PIN_BLOCKED 0x6983
#define SW_DATA_INVALID 0x6984
#define SW_CONDITIONS 0x6985
#define SW_NOT_ALLOWED 0x6986
#define SW_CURVE 0x6A81
#define SW_NOT_FOUND 0x6A82
#define SW_NO_SPACE 0x6A84
#define SW_WRONG_P1P2 0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_NOT_EMPTY 0x6A89
#define SW_WRONG_P1P2_ISO 0x6B00
#define SW_INS 0x6D00
#define SW_CLA 0x6E00

/* Device option bits (3.2). */
#define OPT_RRC 0x0001
#define OPT_TRANSPORT_PIN 0x0002
#define OPT_PKA_REPLACEABLE 0x0008
#define OPT_RRC_COUNTER_ONLY 0x0020

/* Internal EFs: never readable by the host (2.6). */
#define FID_MKEK_USER 0x100A /* MKEK sealed under the user PIN key */
#define FID_MKEK_SO 0x100B   /* MKEK sealed under the SO-PIN key */
#define FID_OPTIONS 0x100E   /* 2 bytes */
#define FID_USER_PIN 0x1081  /* pin record, see below */
#define FID_SO_PIN 0x1088
#define FID_PKA_CONF 0x1090 /* total, still to register, required */
#define FID_KDOM 0x10A0     /* per domain: shares total, imported (FF FF: none) */
#define FID_DKEK 0x10C0     /* + domain: XOR of the shares (32), or DKEK sealed */
#define FID_PKA_SLOT 0x10D0 /* + slot: registered request */
#define FID_SERIAL 0x10F0   /* 8-byte chip serial */
#define FID_DEVCERT 0x2F02

#define MAX_PKA 8
#define MAX_KEY_DOMAINS 16
#define MAX_APDU_DATA 2028
#define MAX_CHAIN 2038
#define SO_PIN_RETRIES 15

/* PIN record: len(1) max_retries(1) retries_left(1) salt(16) verifier(32). */
#define PIN_REC_LEN (3 + 16 + 32)

struct sim_card {
    sim_state *st;
    char dev_name_cfg[64];

    /* security state: cleared by SELECT and reset */
    int applet_selected;
    int user_auth;
    int user_session, so_session;
    uint8_t user_tok[32], so_tok[32]; /* PIN-derived keys that open the MKEK */
    int pka_selected;                 /* MSE-selected slot, -1 none */
    uint8_t challenge[256];
    size_t challenge_len;
    uint8_t pka_round[MAX_PKA];
    uint16_t current_ef;

    /* framing */
    sim_bytes chain;
    uint8_t chain_hdr[4];
    int chaining;
    sim_bytes pending;
    size_t pending_off;
    uint16_t pending_sw;
    int pending_secret; /* the pending answer is a DECIPHER result */
    int last_secret;    /* leading data bytes of the last frame the log hides */
    int answer_secret;  /* the last answer's data is secret (DECIPHER) */

    sim_bytes resp; /* answer data of the command in progress */

    /* domain + 1 of a DKEK completed without a PIN session, sealed at the next VERIFY; in
     * RAM only, as the firmware's pending_save_dkek: not cleared by SELECT, lost at restart */
    int dkek_save_pending;
};

#define SIM_DEFAULT_DEV_NAME "ESPICOHSMTR00001"
#define FW_MAJOR 6
#define FW_MINOR 6

/* Key record (content of CCxx, never readable): TLVs
 * 80 type, 81 bits (2), 90 use counter (4), 91 allowed algorithms, 92 key domain, 93,
 * 99 the PKCS#8 private key sealed under the MKEK. */
#define KREC_TYPE 0x80
#define KREC_BITS 0x81
#define KREC_COUNTER 0x90
#define KREC_ALGS 0x91
#define KREC_DOMAIN 0x92
#define KREC_META93 0x93 /* kept as the firmware keeps it, of no known use */
#define KREC_SEALED 0x99

void card_security_reset(sim_card *c);
int card_initialized(sim_card *c);
uint16_t card_options(sim_card *c);
int card_pka_configured(sim_card *c, uint8_t conf[3]);
/* Device name: CHR of the first certificate in 2F02, else ESPICOHSMTR00001. */
void card_dev_name(sim_card *c, const uint8_t **name, size_t *len);

/* The MKEK of the current PIN/SO-PIN session: SW_OK, or SW_EXEC_ERROR when locked. */
uint16_t card_mkek(sim_card *c, uint8_t mkek[32]);
/* Seals a completed DKEK that waited for an MKEK session (after a VERIFY). */
void card_flush_pending_dkek(sim_card *c);
/* Creates the PIN record and MKEK copy for a PIN at INITIALIZE/RRC/CHANGE. */
int card_set_pin(sim_card *c, uint16_t rec_fid, const uint8_t *pin, size_t len, uint8_t retries,
                 const uint8_t mkek[32]);

/* card_keys.c: the device key made at INITIALIZE (its record, CV request and PrKD). */
int card_create_device_key(sim_card *c, const uint8_t mkek[32]);

/* Commands in card_files.c. */
uint16_t cmd_select(sim_card *c, const sim_apdu *a);
uint16_t cmd_read_binary(sim_card *c, const sim_apdu *a);
uint16_t cmd_update_binary(sim_card *c, const sim_apdu *a);
uint16_t cmd_delete_file(sim_card *c, const sim_apdu *a);
uint16_t cmd_list_keys(sim_card *c, const sim_apdu *a);
/* Commands in card_init.c. */
uint16_t cmd_initialize(sim_card *c, const sim_apdu *a);
uint16_t cmd_key_domain(sim_card *c, const sim_apdu *a);
/* Commands in card_keys.c. */
uint16_t cmd_generate(sim_card *c, const sim_apdu *a);
uint16_t cmd_key_op(sim_card *c, const sim_apdu *a);
uint16_t cmd_extras(sim_card *c, const sim_apdu *a);
/* card_init.c: is domain dom's DKEK complete; its DKEK through this session's MKEK (0, -1). */
int card_dkek_complete(sim_card *c, uint8_t dom);
int card_dkek_load(sim_card *c, uint8_t dom, uint8_t dkek[32]);
/* Commands in card_wrap.c. */
uint16_t cmd_wrap(sim_card *c, const sim_apdu *a);
uint16_t cmd_unwrap(sim_card *c, const sim_apdu *a);

/* Commands in card_auth.c. */
uint16_t cmd_verify(sim_card *c, const sim_apdu *a);
uint16_t cmd_change_pin(sim_card *c, const sim_apdu *a);
uint16_t cmd_reset_retry(sim_card *c, const sim_apdu *a);
uint16_t cmd_manage_pka(sim_card *c, const sim_apdu *a);
uint16_t cmd_mse(sim_card *c, const sim_apdu *a);
uint16_t cmd_challenge(sim_card *c, const sim_apdu *a);
uint16_t cmd_external_auth(sim_card *c, const sim_apdu *a);

#endif
