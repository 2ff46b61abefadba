/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DKEK shares on the host (sc-hsm-protocol.md 8.1), in the file format of
 * OpenSC's sc-hsm-tool so that either tool reads the other's files:
 *
 *   "Salted__" || salt (8) || AES-256-CBC(share (32), PKCS#7 padding) = 64 bytes,
 *   key and IV from EVP_BytesToKey(MD5, password, salt, 10,000,000 iterations).
 *
 * The derivation takes seconds: it reports progress through a callback. A
 * share's password may be split with Shamir's scheme as sc-hsm-tool does it:
 * a random 63-bit password (8 bytes), a random 64-bit safe prime, shares
 * (id, y) of a polynomial of degree threshold-1 over GF(prime), written and
 * read in sc-hsm-tool's text ("Prime : c6:dc:..", "Share ID : 1",
 * "Share value : 01:db:.."). The device XORs the shares it gets into the DKEK
 * and shows KCV = SHA-256(DKEK)[0..7]. Every buffer that held a share, a
 * password or a derived key is cleansed here; callers cleanse their own.
 */
#ifndef PICO_DKEK_H
#define PICO_DKEK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PICO_DKEK_SHARE_LEN 32
#define PICO_DKEK_FILE_LEN 64
#define PICO_DKEK_KCV_LEN 8
#define PICO_DKEK_ITERATIONS 10000000UL /* sc-hsm-tool's count */

/* Called now and then during the derivation: done out of total steps (done == total last). */
typedef void (*pico_dkek_progress)(void *arg, unsigned long done, unsigned long total);

/*
 * Encrypts share into file under password (pw_len bytes, any bytes) with the
 * given salt (NULL: a random one). iterations: PICO_DKEK_ITERATIONS for files
 * sc-hsm-tool reads (tests use fewer).
 */
pico_err pico_dkek_seal(const uint8_t share[PICO_DKEK_SHARE_LEN], const uint8_t *pw, size_t pw_len,
                        const uint8_t *salt, unsigned long iterations, pico_dkek_progress cb,
                        void *arg, uint8_t file[PICO_DKEK_FILE_LEN]);
/* Decrypts a share file: PICO_E_ARGS "wrong password or not a DKEK share" when it does not open. */
pico_err pico_dkek_open(const uint8_t file[PICO_DKEK_FILE_LEN], const uint8_t *pw, size_t pw_len,
                        unsigned long iterations, pico_dkek_progress cb, void *arg,
                        uint8_t share[PICO_DKEK_SHARE_LEN]);
/* A new random share. */
pico_err pico_dkek_share_random(uint8_t share[PICO_DKEK_SHARE_LEN]);

/* Reads a share file (64 bytes starting "Salted__"): PICO_E_FILE otherwise. */
pico_err pico_dkek_read_file(const char *path, uint8_t file[PICO_DKEK_FILE_LEN]);
/* Writes a share file, mode 0600; never over an existing file (PICO_E_FILE). */
pico_err pico_dkek_write_file(const char *path, const uint8_t file[PICO_DKEK_FILE_LEN]);

/* The check value the firmware shows for a DKEK (8.1): SHA-256(dkek)[0..7]. */
pico_err pico_dkek_kcv(const uint8_t dkek[PICO_DKEK_SHARE_LEN], uint8_t kcv[PICO_DKEK_KCV_LEN]);
/* The DKEK of shares XORed, as the device combines them (n >= 1). */
void pico_dkek_combine(const uint8_t (*shares)[PICO_DKEK_SHARE_LEN], size_t n,
                       uint8_t dkek[PICO_DKEK_SHARE_LEN]);

/* ---- Shamir split of a share's password (sc-hsm-tool --pwd-shares-*) */

#define PICO_DKEK_PW_LEN 8        /* the random password: 63 bits, big-endian */
#define PICO_DKEK_PW_SHARES_MAX 9 /* sc-hsm-tool prints IDs in decimal, reads them in hex */

typedef struct pico_dkek_pw_share {
    unsigned id;  /* x: 1..total */
    uint8_t y[8]; /* y, big-endian, y_len bytes (leading zeros dropped, as sc-hsm-tool) */
    size_t y_len;
} pico_dkek_pw_share;

typedef struct pico_dkek_pw_split {
    uint8_t prime[8];
    size_t prime_len;
    pico_dkek_pw_share share[PICO_DKEK_PW_SHARES_MAX];
    size_t n;
} pico_dkek_pw_split;

/* A random password for a split: 8 bytes, top bit clear, first byte not zero (sc-hsm-tool
 * rebuilds the password with its leading zero bytes dropped). */
pico_err pico_dkek_pw_random(uint8_t pw[PICO_DKEK_PW_LEN]);
/* Splits pw into total shares, any threshold of which rebuild it (2 <= threshold <= total,
 * 3 <= total <= PICO_DKEK_PW_SHARES_MAX, as sc-hsm-tool requires). */
pico_err pico_dkek_pw_split_new(const uint8_t pw[PICO_DKEK_PW_LEN], unsigned threshold,
                                unsigned total, pico_dkek_pw_split *out);
/* Rebuilds the password from n shares (n >= 2, distinct IDs) of split's prime: pw_len bytes
 * as sc-hsm-tool derives with (leading zero bytes dropped). */
pico_err pico_dkek_pw_join(const pico_dkek_pw_split *split, uint8_t pw[PICO_DKEK_PW_LEN],
                           size_t *pw_len);
/* Share i of split as sc-hsm-tool prints it: the three lines "Prime       : ..",
 * "Share ID    : ..", "Share value : ..", each ending in a newline. */
pico_err pico_dkek_pw_share_text(const pico_dkek_pw_split *split, size_t i, char *buf, size_t cap);
/*
 * Reads the prime and shares from text: sc-hsm-tool's printout (labelled lines,
 * a "Prime" line repeated in each share's block is fine) or the answers to
 * its prompts (the prime, then each share's ID and value, one per line,
 * blank lines ignored). Values in hex, with or without ':' between bytes.
 */
pico_err pico_dkek_pw_parse(const char *text, pico_dkek_pw_split *out);
/* Cleanses a split. */
void pico_dkek_pw_split_clear(pico_dkek_pw_split *split);

#endif
