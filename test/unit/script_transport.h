/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A scripted transport for unit tests of the command layer: each step is the
 * exact command APDU expected (hex) and the answer to give (hex, with SW).
 * A command that differs from the script fails the test at once.
 */
#ifndef PICO_TEST_SCRIPT_TRANSPORT_H
#define PICO_TEST_SCRIPT_TRANSPORT_H

#include "transport.h"

typedef struct script_step {
    const char *cmd;  /* hex, spaces allowed */
    const char *resp; /* hex, spaces allowed; NULL = transport error `err` */
    pico_err err;
    int prefix; /* cmd is only the start of the command (signatures, random data) */
} script_step;

/* A transport that plays steps in order (the array ends with a {NULL} step). */
pico_transport *script_transport_new(const script_step *steps);
/* Asserts every step was used. */
void script_transport_done(pico_transport *t);

/* Hex to bytes helper for tests; returns the length. */
size_t script_hex(const char *hex, uint8_t *out, size_t cap);

#endif
