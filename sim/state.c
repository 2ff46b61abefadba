/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = {'P', 'I', 'C', 'O', 'S', 'I', 'M', '1'};

void sim_state_init(sim_state *st)
{
    memset(st, 0, sizeof(*st));
}

void sim_state_free(sim_state *st)
{
    for (size_t i = 0; i < st->nfiles; i++)
        sim_bytes_free(&st->files[i].data);
    free(st->files);
    memset(st, 0, sizeof(*st));
}

sim_file *sim_state_find(sim_state *st, uint16_t fid)
{
    for (size_t i = 0; i < st->nfiles; i++)
        if (st->files[i].fid == fid)
            return &st->files[i];
    return NULL;
}

int sim_state_put(sim_state *st, uint16_t fid, const uint8_t *data, size_t len)
{
    sim_file *f = sim_state_find(st, fid);

    if (f == NULL) {
        if (st->nfiles == st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 32;
            sim_file *n = realloc(st->files, cap * sizeof(*n));
            if (n == NULL)
                return -1;
            st->files = n;
            st->cap = cap;
        }
        f = &st->files[st->nfiles++];
        memset(f, 0, sizeof(*f));
        f->fid = fid;
    }
    st->dirty = 1;
    if (len == 0) {
        sim_bytes_clear(&f->data);
        return 0;
    }
    return sim_bytes_set(&f->data, data, len);
}

int sim_state_delete(sim_state *st, uint16_t fid)
{
    for (size_t i = 0; i < st->nfiles; i++) {
        if (st->files[i].fid != fid)
            continue;
        sim_bytes_free(&st->files[i].data);
        memmove(&st->files[i], &st->files[i + 1], (st->nfiles - i - 1) * sizeof(sim_file));
        st->nfiles--;
        st->dirty = 1;
        return 0;
    }
    return -1;
}

void sim_state_filter(sim_state *st, int (*keep)(uint16_t fid))
{
    size_t i = 0;

    while (i < st->nfiles) {
        if (keep(st->files[i].fid)) {
            i++;
            continue;
        }
        sim_state_delete(st, st->files[i].fid);
    }
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int serialise(const sim_state *st, sim_bytes *out)
{
    uint8_t hash[32];

    if (sim_bytes_append(out, magic, sizeof(magic)) != 0)
        return -1;
    for (size_t i = 0; i < st->nfiles; i++) {
        const sim_file *f = &st->files[i];
        uint8_t hdr[6] = {f->fid >> 8, f->fid & 0xff, (uint8_t)(f->data.len >> 24),
                          (uint8_t)(f->data.len >> 16), (uint8_t)(f->data.len >> 8),
                          (uint8_t)f->data.len};
        if (sim_bytes_append(out, hdr, sizeof(hdr)) != 0 ||
            sim_bytes_append(out, f->data.data, f->data.len) != 0)
            return -1;
    }
    if (sha256(out->data, out->len, hash) != 0)
        return -1;
    return sim_bytes_append(out, hash, sizeof(hash));
}

int sim_state_load(sim_state *st, const char *path)
{
    sim_bytes buf = {0};
    uint8_t chunk[4096], hash[32];
    int fd, rc = -1;
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (sim_bytes_append(&buf, chunk, (size_t)n) != 0)
            goto out;
    if (n < 0)
        goto out;
    if (buf.len < sizeof(magic) + 32 || memcmp(buf.data, magic, sizeof(magic)) != 0)
        goto out;
    if (sha256(buf.data, buf.len - 32, hash) != 0 ||
        CRYPTO_memcmp(hash, buf.data + buf.len - 32, 32) != 0)
        goto out;
    {
        const uint8_t *p = buf.data + sizeof(magic), *end = buf.data + buf.len - 32;
        while (p < end) {
            if (end - p < 6)
                goto bad;
            uint16_t fid = (uint16_t)(p[0] << 8 | p[1]);
            size_t len = (size_t)p[2] << 24 | (size_t)p[3] << 16 | (size_t)p[4] << 8 | p[5];
            p += 6;
            if ((size_t)(end - p) < len)
                goto bad;
            if (sim_state_put(st, fid, p, len) != 0)
                goto bad;
            p += len;
        }
    }
    st->dirty = 0;
    rc = 0;
    goto out;
bad:
    sim_state_free(st);
out:
    close(fd);
    sim_bytes_free(&buf);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int sim_state_save(sim_state *st, const char *path)
{
    sim_bytes buf = {0};
    char *tmp = NULL, *dircopy = NULL;
    int fd = -1, rc = -1;

    if (serialise(st, &buf) != 0)
        goto out;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        tmp = NULL;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    if (write_all(fd, buf.data, buf.len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    dircopy = strdup(path);
    if (dircopy != NULL) {
        int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    st->dirty = 0;
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(dircopy);
    sim_bytes_free(&buf);
    return rc;
}
