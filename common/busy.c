/* SPDX-License-Identifier: Apache-2.0 */
#include "busy.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_PCSCD_SOCKET "/run/pcscd/pcscd.comm"

/* FNV-1a, 64 bits: names, not secrets; two devices sharing a name only see each other busy */
static uint64_t fnv1a(uint64_t h, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void pico_busy_name(const char *reader, char name[PICO_BUSY_NAME_LEN])
{
    const char *sock = getenv("PCSCLITE_CSOCK_NAME");
    uint64_t h = 0xcbf29ce484222325ULL, h2;

    if (sock == NULL || *sock == '\0')
        sock = DEFAULT_PCSCD_SOCKET;
    h = fnv1a(h, sock, strlen(sock) + 1); /* with its NUL: "a" + "bc" is not "ab" + "c" */
    h2 = fnv1a(h, "\x01", 1);
    h = fnv1a(h, reader, strlen(reader));
    h2 = fnv1a(h2, reader, strlen(reader));
    snprintf(name, PICO_BUSY_NAME_LEN, "pico-hsm/busy/%016llx%016llx", (unsigned long long)h,
             (unsigned long long)h2);
}

int pico_busy_take(const char name[PICO_BUSY_NAME_LEN])
{
    struct sockaddr_un sa;
    size_t len = strnlen(name, PICO_BUSY_NAME_LEN);
    int fd, saved;

    if (len == 0) /* a device without a name: not one pcscd serves (a unit test's) */
        return PICO_BUSY_NONE;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path + 1, name, len); /* sun_path[0] = 0: the abstract namespace */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return PICO_BUSY_NONE;
    if (bind(fd, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) == 0)
        return fd;
    saved = errno;
    close(fd);
    return saved == EADDRINUSE ? PICO_BUSY_HELD : PICO_BUSY_NONE;
}

void pico_busy_give(int mark)
{
    if (mark >= 0)
        close(mark);
}
