/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets from where the user keeps them: "file:PATH" (first line),
 * "env:VAR", "fd:N" (read once, up to the first newline). Buffers holding
 * secrets are cleansed by their owners with OPENSSL_cleanse after use.
 */
#ifndef PICO_SECRET_H
#define PICO_SECRET_H

#include <stddef.h>

#include "err.h"

/* Reads the secret named by source into buf (NUL-terminated, trailing CR/LF removed). */
pico_err pico_secret_read(const char *source, char *buf, size_t cap, size_t *len);

/*
 * A copy of a secret that is held over time (a PIN kept for a login after a
 * reset, or until the first login): in a page of its own, left out of core
 * dumps (MADV_DONTDUMP) and locked in RAM where allowed. len bytes of s, plus
 * a NUL. NULL when out of memory or len is above PICO_SECRET_HELD_MAX.
 */
#define PICO_SECRET_HELD_MAX 1024
char *pico_secret_hold(const char *s, size_t len);
/* Cleanses and releases what pico_secret_hold returned (NULL is fine). */
void pico_secret_release(char *held);

#endif
