/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SmartCard-HSM / Pico HSM commands: one function per command, bytes per
 * ../shared/docs/sc-hsm-protocol.md (section numbers quoted below). Every
 * exchange goes through pico_schsm_xfer, which traces the command name,
 * lengths and status word (never the data of a PIN or key command), follows
 * 61xx with GET RESPONSE, and maps status words to pico_err codes that say
 * what to do. Nothing else talks to the transport.
 */
#ifndef PICO_SCHSM_H
#define PICO_SCHSM_H

#include <stddef.h>
#include <stdint.h>

#include "apdu.h"
#include "err.h"
#include "transport.h"

/* SIGN algorithms (7.1) */
#define PICO_ALG_RSA_RAW 0x20
#define PICO_ALG_RSA_PSS 0x40
#define PICO_ALG_ECDSA 0x70
/* DECIPHER algorithms (7.2) */
#define PICO_ALG_RSA_DECRYPT_RAW 0x21
#define PICO_ALG_RSA_DECRYPT_V15 0x22
#define PICO_ALG_RSA_DECRYPT_OAEP 0x23
#define PICO_ALG_ECDH 0x80

#define PICO_PIN_USER 0x81
#define PICO_PIN_SO 0x88

#define PICO_FID_DEVICE_CERT 0x2F02
#define PICO_PREFIX_KEY 0xCC
#define PICO_PREFIX_PRKD 0xC4
#define PICO_PREFIX_EE_CERT 0xCE
#define PICO_PREFIX_CA_CERT 0xCA
#define PICO_PREFIX_CD 0xC8

typedef struct pico_card {
    pico_transport *t;
    unsigned long apdus; /* APDUs exchanged, for tests and benchmarks */
    uint16_t last_sw;    /* status word of the last exchange */
    uint8_t buf[PICO_APDU_MAX_RESP];
} pico_card;

/* What SELECT told (1.2). */
typedef struct pico_select_info {
    uint16_t options;
    uint8_t major, minor;
} pico_select_info;

/* PIN state from VERIFY without data (2.1): spends no try. */
typedef enum pico_pin_state {
    PICO_PIN_VERIFIED,  /* 9000 */
    PICO_PIN_TRIES,     /* 63Cx: tries left in *tries */
    PICO_PIN_BLOCKED,   /* 6983 */
    PICO_PIN_NOT_SET,   /* 6A88: device not initialized */
    PICO_PIN_TRANSPORT, /* 6984: transport PIN set, change it first */
} pico_pin_state;

/*
 * The exchange wrapper. name is the command's name for the trace; when
 * secret is set the trace omits even the data length. On return *sw holds
 * the final status word; out/out_len (capacity in, length out) the data.
 * Returns PICO_OK whenever a status word came back (whatever it is), or a
 * transport error. A 61xx chain (1.6) ends after PICO_CHAIN_MAX_APDUS
 * exchanges or PICO_CHAIN_MAX_BYTES of data with PICO_E_BAD_RESPONSE: a
 * card that always says "more" must not hold the device lock forever.
 */
#define PICO_CHAIN_MAX_BYTES PICO_APDU_LE_MAX /* the most an extended Ne asks for */
/* the command, then one GET RESPONSE per 256 bytes (short Le) of the most data */
#define PICO_CHAIN_MAX_APDUS (1 + PICO_CHAIN_MAX_BYTES / 256)
pico_err pico_schsm_xfer(pico_card *c, const char *name, const pico_apdu *a, int secret,
                         uint8_t *out, size_t *out_len, uint16_t *sw);

/* Maps a status word to an error, raising it with the command name and detail. */
pico_err pico_schsm_sw_error(uint16_t sw, const char *name);

pico_err pico_schsm_select(pico_card *c, pico_select_info *info);
pico_err pico_schsm_pin_status(pico_card *c, uint8_t ref, pico_pin_state *state, int *tries);
/* VERIFY with data: PICO_E_PIN_INCORRECT with *tries set, PICO_E_PIN_BLOCKED. */
pico_err pico_schsm_verify(pico_card *c, uint8_t ref, const uint8_t *pin, size_t pin_len,
                           int *tries);
pico_err pico_schsm_change_pin(pico_card *c, uint8_t ref, const uint8_t *old_pin, size_t old_len,
                               const uint8_t *new_pin, size_t new_len, int *tries);
/* RESET RETRY COUNTER P1=00: SO-PIN || new user PIN (4.3). */
pico_err pico_schsm_unblock_pin(pico_card *c, const uint8_t *so_pin, size_t so_len,
                                const uint8_t *new_pin, size_t new_len, int *tries);

/* ENUMERATE OBJECTS (6.5): FIDs, 0000 fillers dropped. */
pico_err pico_schsm_list(pico_card *c, uint16_t *fids, size_t *count);
/* READ BINARY of a whole EF (6.6), in pieces; *data is malloc'ed. */
/* SELECT of an EF by FID (1.2): its FCP in fcp (capacity *len, set to the length). */
pico_err pico_schsm_select_fid(pico_card *c, uint16_t fid, uint8_t *fcp, size_t *len);

/*
 * Whether the user PIN is set, told without a try (2.1, 4.5): *set 1 yes, 0 no, -1 unknown;
 * *state the PIN's status. A PIN-less PKA-only device answers 63C3 to the status as one with
 * a PIN does; what tells it is the user PIN's EF (1081), whose FCP (a SELECT: no login, no
 * try, the session kept) shows the size of the record: 34 bytes (length, format, verifier)
 * once a PIN is set on firmware 6.6 or later, the 33 zero bytes the firmware writes at boot
 * while none is. Unknown before 6.6 (a set PIN was 33 bytes there too). One case reads as
 * "no": a PIN set by a firmware before 6.6 on a PKA device and not verified since the
 * upgrade (the firmware rewrites it in the 6.6 form at the first right VERIFY).
 * *pka (may be NULL): 1 PKA configured, 0 not, -1 not asked (the PIN state told).
 */
pico_err pico_schsm_user_pin_set(pico_card *c, const pico_select_info *si, pico_pin_state *state,
                                 int *set, int *pka);
/* The same with the PIN state already read (state): no second status. */
pico_err pico_schsm_user_pin_set_known(pico_card *c, const pico_select_info *si,
                                       pico_pin_state state, int *set, int *pka);
/* The EF part of it alone, for a caller that knows the device has PKA and a PIN status of
 * tries left: one SELECT of EF 1081 on firmware 6.6 or later, nothing before (*set -1). */
pico_err pico_schsm_user_pin_ef(pico_card *c, const pico_select_info *si, int *set);
pico_err pico_schsm_read_file(pico_card *c, uint16_t fid, uint8_t **data, size_t *len);
pico_err pico_schsm_update_file(pico_card *c, uint16_t fid, const uint8_t *data, size_t len);
pico_err pico_schsm_delete_file(pico_card *c, uint16_t fid);

/*
 * Deletes key ref (CCxx) and the files DELETE leaves behind (6.8): its
 * description C4xx and its certificate or request CExx, where present.
 * *files (may be NULL) counts the C4xx/CExx files deleted.
 */
pico_err pico_schsm_delete_key(pico_card *c, uint8_t ref, int *files);

/* GENERATE ASYMMETRIC KEY PAIR (6.2): req = CV body tags; *cvreq malloc'ed. */
pico_err pico_schsm_generate(pico_card *c, uint8_t keyref, const uint8_t *req, size_t req_len,
                             uint8_t **cvreq, size_t *cvreq_len);
/* SIGN (7.1) and DECIPHER (7.2): one APDU each; out holds up to *out_len bytes. */
pico_err pico_schsm_sign(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                         size_t in_len, uint8_t *out, size_t *out_len);
pico_err pico_schsm_decipher(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                             size_t in_len, uint8_t *out, size_t *out_len);
/*
 * DECIPHER 80 (7.2) on an X25519/X448 key: in the peer's raw u-coordinate; the answer,
 * 04 || the RFC 7748 secret of in_len bytes, goes to out without its 04. Another answer
 * is PICO_E_BAD_RESPONSE. *out_len: the room in out, then the secret's length.
 */
pico_err pico_schsm_derive_raw(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                               size_t in_len, uint8_t *out, size_t *out_len);

/* MANAGE PKA status (2.3): PICO_E_UNSUPPORTED (6A86) when PKA is not configured.
 * status: total keys, keys still to register, keys required, keys authenticated. */
pico_err pico_schsm_pka_status(pico_card *c, uint8_t status[4]);

/* MANAGE PKA ADD (5.3): registers a CV request (67 wrapper or bare 7F21); new status back. */
pico_err pico_schsm_pka_register(pico_card *c, const uint8_t *req, size_t req_len,
                                 uint8_t status[4]);
/* MANAGE PKA REPLACE (5.3, P1=01): needs the "PKA replaceable" option. */
pico_err pico_schsm_pka_replace(pico_card *c, uint8_t slot, const uint8_t *req, size_t req_len,
                                uint8_t status[4]);
/* MANAGE PKA QUERY (5.3, P1=02): the slot's CHR (NUL-terminated in chr) and whether it
 * authenticated in this round (9001). PICO_E_NOT_FOUND for an empty slot (6A88). */
pico_err pico_schsm_pka_query(pico_card *c, uint8_t slot, char *chr, size_t cap,
                              int *authenticated);
/* MSE SET AT for PKA (5.4): names the key of the next EXTERNAL AUTHENTICATE. *done is set
 * when the key already authenticated in this round (6985). PICO_E_NOT_FOUND: CHR unknown. */
pico_err pico_schsm_mse_set_pka(pico_card *c, const uint8_t *chr, size_t chr_len, int *done);
/* GET CHALLENGE (5.5): len bytes (1..256) that become the pending PKA challenge. */
pico_err pico_schsm_get_challenge(pico_card *c, uint8_t *out, size_t len);
/* EXTERNAL AUTHENTICATE (5.6): the signature over SHA-256(device name || challenge).
 * PICO_E_PKA_FAILED when the device refuses it (6985). */
pico_err pico_schsm_external_authenticate(pico_card *c, const uint8_t *sig, size_t sig_len);

/* INITIALIZE DEVICE (3): what the device is set up with; erases every key. */
typedef struct pico_init_spec {
    uint16_t options;            /* 3.2 bits, PICO_OPT_* */
    const char *pin;             /* user PIN; NULL: none (PKA-only) */
    const uint8_t *so_pin;       /* 8 bytes (16 hex digits on the command line) */
    int retries;                 /* user PIN retry counter, 1..15; 0: device default (3) */
    int dkek_shares;             /* -1: no DKEK; 0: random DKEK; N: expect N shares */
    int pka_total, pka_required; /* 0: no PKA */
    int key_domains;             /* 0: none */
} pico_init_spec;
#define PICO_OPT_RESET_RETRY 0x0001
#define PICO_OPT_TRANSPORT_PIN 0x0002
#define PICO_OPT_PKA_REPLACEABLE 0x0008
#define PICO_OPT_PIN_AND_PKA 0x0010
#define PICO_OPT_RRC_COUNTER_ONLY 0x0020
/* The data of INITIALIZE for spec (3.1 tag order as sc-hsm-tool sends it); malloc'ed. */
pico_err pico_schsm_init_data(const pico_init_spec *spec, uint8_t **data, size_t *len);
pico_err pico_schsm_initialize(pico_card *c, const pico_init_spec *spec);

/* RESET RETRY COUNTER P1=01 (4.3): the SO-PIN resets the user PIN's counter, PIN unchanged.
 * Needs options 0001 and 0020 (else PICO_E_UNSUPPORTED, 6986). */
pico_err pico_schsm_reset_retry_counter(pico_card *c, const uint8_t *so_pin, size_t so_len,
                                        int *tries);

/*
 * WRAP (8.2): the DKEK key blob of key keyref (*blob malloc'ed). PICO_E_NOT_FOUND: no
 * complete DKEK in the key's domain (6A88) or no such key; PICO_E_CONDITIONS: the key's
 * allowed algorithms exclude wrapping (6985).
 */
#define PICO_FID_UNWRAP_DATA 0x2F10
pico_err pico_schsm_wrap(pico_card *c, uint8_t keyref, uint8_t **blob, size_t *blob_len);
/*
 * UNWRAP (8.3) of blob into keyref, the blob in the command's data field. The device writes
 * the key, a default PrKD and its CV request (CExx), replacing whatever keyref held.
 * PICO_E_DEVICE: no DKEK matches, or the blob is damaged (6400), or not a blob (6984).
 */
pico_err pico_schsm_unwrap(pico_card *c, uint8_t keyref, const uint8_t *blob, size_t len);
/* The same, OpenSC's way: the blob written to EF 2F10 first, then UNWRAP with no data. */
pico_err pico_schsm_unwrap_ef(pico_card *c, uint8_t keyref, const uint8_t *blob, size_t len);

/* ---- DKEK and key domains (8.1): 80 52 P1 <domain> */

/* What a key domain answers: its DKEK's shares and check value (8.1). */
typedef struct pico_dkek_info {
    uint8_t total;        /* shares the DKEK is made of; 0: no DKEK (none configured, or a domain
                           * created with 0 shares) */
    uint8_t missing;      /* shares still to import */
    uint8_t kcv[8];       /* SHA-256(DKEK)[0..7]; zeros without a PIN session, meaningless while
                           * shares are missing (the firmware hashes the partial XOR) */
    uint8_t xkek_uid[64]; /* the XKEK domain's UID (P1=02 domains), xkek_len bytes */
    size_t xkek_len;
} pico_dkek_info;
#define PICO_DKEK_MAX_DOMAIN 15 /* P2 beyond: 6B00 (the firmware's MAX_KEY_DOMAINS is 16) */

/* Status of a domain (80 52 00 d, no data). PICO_E_NOT_FOUND (not raised) for a domain that
 * is not set up (6A88); PICO_E_UNSUPPORTED raised for a domain the device does not have. */
pico_err pico_schsm_dkek_status(pico_card *c, uint8_t domain, pico_dkek_info *info);
/* IMPORT DKEK SHARE (80 52 00 d 20 <share> 00): the new status back. The data is not traced.
 * 6986 (all shares in) is PICO_E_CONDITIONS. */
pico_err pico_schsm_dkek_import(pico_card *c, uint8_t domain, const uint8_t share[32],
                                pico_dkek_info *info);
/* Key domain create (80 52 01 d 01 <n>): n shares (0: no DKEK at all). Needs the user
 * authenticated and a user-PIN session (6985). 6A86 for a domain set up already. */
pico_err pico_schsm_domain_create(pico_card *c, uint8_t domain, uint8_t shares,
                                  pico_dkek_info *info);
/* Key domain delete (80 52 03 d): the firmware answers 6A88 when it deleted it (PICO_OK
 * here), 6A89 while keys use it, 6A86 for a domain that is not set up. */
pico_err pico_schsm_domain_delete(pico_card *c, uint8_t domain);
/* Forget the domain's DKEK (80 52 04 d): the shares are to import again; status back. */
pico_err pico_schsm_domain_forget(pico_card *c, uint8_t domain, pico_dkek_info *info);
/* The status answer: total, missing, KCV (8), [XKEK UID]. */
pico_err pico_schsm_dkek_parse(const uint8_t *p, size_t len, pico_dkek_info *info);

#endif
