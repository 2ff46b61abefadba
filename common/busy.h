/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device in use by another process, for the device pool (device_pool.c):
 * whichever process runs a key operation on a device marks it busy for as
 * long as the operation runs, and a pool in another process (a forked
 * server's workers) skips it for a free one instead of queueing behind it in
 * pcscd. The mark is an abstract Unix socket name bound by the operation:
 * the kernel gives it back when the process exits or is killed, so a crash
 * never leaves a device marked, and any user can see it (nginx's master and
 * its workers run as different users). Names are per network namespace:
 * processes in different ones see each other's devices as free and queue.
 */
#ifndef PICO_BUSY_H
#define PICO_BUSY_H

#include <stddef.h>

/* The mark's name for reader on this process's pcscd (PCSCLITE_CSOCK_NAME): two private
 * pcscd instances with readers of the same name are two devices. */
#define PICO_BUSY_NAME_LEN 48
void pico_busy_name(const char *reader, char name[PICO_BUSY_NAME_LEN]);

/* Marks the device busy: >= 0, the mark (give it back with pico_busy_give);
 * PICO_BUSY_HELD, another operation (any process, this one included) holds it;
 * PICO_BUSY_NONE, no mark could be made (no sockets, or name is empty: a device not on
 * PC/SC): the device counts as free. */
#define PICO_BUSY_HELD (-1)
#define PICO_BUSY_NONE (-2)
int pico_busy_take(const char name[PICO_BUSY_NAME_LEN]);
void pico_busy_give(int mark);

#endif
