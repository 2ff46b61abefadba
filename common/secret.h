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

#endif
