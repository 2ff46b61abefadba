/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The persistent part of the virtual Pico HSM: a flat file system of
 * elementary files keyed by their 16-bit FID, as on the firmware. Internal
 * records (PIN verifiers, MKEK copies, options, PKA slots, DKEK) are files
 * too, at FIDs the host can never read (card.c refuses them).
 *
 * sim_state_save() writes the whole state atomically (temporary file, fsync,
 * rename, fsync of the directory): a kill -9 at any moment leaves either the
 * previous state or the new one on disk.
 */
#ifndef SIM_STATE_H
#define SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct sim_file {
    uint16_t fid;
    sim_bytes data;
} sim_file;

typedef struct sim_state {
    sim_file *files;
    size_t nfiles;
    size_t cap;
    int dirty; /* changed since the last save */
} sim_state;

void sim_state_init(sim_state *st);
void sim_state_free(sim_state *st);

/* The file with this FID, or NULL. */
sim_file *sim_state_find(sim_state *st, uint16_t fid);
/* Creates or replaces the content of a file. 0, or -1 on allocation failure. */
int sim_state_put(sim_state *st, uint16_t fid, const uint8_t *data, size_t len);
/* Removes a file; 0 when it existed, -1 otherwise. */
int sim_state_delete(sim_state *st, uint16_t fid);
/* Removes every file whose FID satisfies keep() == 0. */
void sim_state_filter(sim_state *st, int (*keep)(uint16_t fid));

/*
 * Serialisation: "PICOSIM1" then, per file, FID (2, BE), length (4, BE),
 * content, then a SHA-256 of everything before it. sim_state_load() returns
 * 0 (loaded), 1 (no such file: st left empty) or -1 (unreadable or corrupt).
 */
int sim_state_load(sim_state *st, const char *path);
int sim_state_save(sim_state *st, const char *path);

#endif
