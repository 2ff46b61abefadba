/* SPDX-License-Identifier: Apache-2.0 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Reads up to cap-1 bytes from fd, stopping at the first newline. */
static int read_line(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;

    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0 || buf[n] == '\n')
            break;
        n++;
    }
    if (n + 1 >= cap)
        return -1; /* longer than any PIN: refuse rather than truncate */
    buf[n] = '\0';
    *len = n;
    return 0;
}

pico_err pico_secret_read(const char *source, char *buf, size_t cap, size_t *len)
{
    pico_err err = PICO_OK;
    size_t n = 0;

    *len = 0;
    if (cap == 0)
        return pico_err_raise(PICO_E_ARGS, "secret buffer");
    buf[0] = '\0';
    if (strncmp(source, "env:", 4) == 0) {
        const char *v = getenv(source + 4);
        if (v == NULL)
            return pico_err_raise(PICO_E_SECRET_SOURCE, "environment variable %s is not set",
                                  source + 4);
        n = strlen(v);
        if (n + 1 > cap)
            return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: value too long", source);
        memcpy(buf, v, n + 1);
    } else if (strncmp(source, "file:", 5) == 0) {
        int fd = open(source + 5, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: %s", source, strerror(errno));
        if (read_line(fd, buf, cap, &n) != 0)
            err = pico_err_raise(PICO_E_SECRET_SOURCE, "%s: unreadable or too long", source);
        close(fd);
    } else if (strncmp(source, "fd:", 3) == 0) {
        char *end;
        long fd = strtol(source + 3, &end, 10);
        if (*end != '\0' || end == source + 3 || fd < 0 || fd > 65535)
            return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: not a file descriptor", source);
        if (read_line((int)fd, buf, cap, &n) != 0)
            err = pico_err_raise(PICO_E_SECRET_SOURCE, "%s: unreadable or too long", source);
    } else {
        return pico_err_raise(PICO_E_SECRET_SOURCE, "unknown secret source (use file:, env: "
                                                    "or fd:)");
    }
    if (err != PICO_OK) {
        OPENSSL_cleanse(buf, cap);
        return err;
    }
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        buf[--n] = '\0';
    *len = n;
    return PICO_OK;
}

/* One page per held secret: a core dump or swap never sees it (there are a few at most). */
static size_t held_size(void)
{
    long page = sysconf(_SC_PAGESIZE);

    return page > 0 ? (size_t)page : 4096;
}

char *pico_secret_hold(const char *s, size_t len)
{
    size_t size = held_size();
    char *p;

    if (len > PICO_SECRET_HELD_MAX || len + 1 > size)
        return NULL;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_DONTDUMP
    (void)madvise(p, size, MADV_DONTDUMP);
#endif
    /* not MADV_WIPEONFORK: nginx's workers need the PIN their master was given */
    (void)mlock(p, size); /* best effort: RLIMIT_MEMLOCK may refuse */
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void pico_secret_release(char *held)
{
    size_t size = held_size();

    if (held == NULL)
        return;
    OPENSSL_cleanse(held, size);
    (void)munlock(held, size);
    (void)munmap(held, size);
}
