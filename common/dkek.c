/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DKEK share files and the Shamir split of their passwords, in sc-hsm-tool's
 * formats (dkek.h). No device here: the commands are in schsm.c, the device
 * operations in device_dkek.c.
 */
#include "dkek.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char magic[8] = {'S', 'a', 'l', 't', 'e', 'd', '_', '_'};

#define KEY_LEN 32
#define IV_LEN 16
#define MD5_LEN 16
/* progress reported about every 1% of the 3 x iterations digests of an AES-256 key and IV */
#define PROGRESS_STEPS 100

/*
 * EVP_BytesToKey(AES-256-CBC, MD5, salt, pw, iterations) written out, for its
 * progress: D_i = MD5^iterations(D_(i-1) || pw || salt), key || IV = D_1 D_2 D_3.
 * The digest is fetched once and the context reused: EVP_BytesToKey fetches it
 * again per digest, which makes sc-hsm-tool's 30 million digests about twice as
 * slow (measured: 7 s against 15 s on a loaded 2-CPU machine).
 */
static pico_err derive(const uint8_t *pw, size_t pw_len, const uint8_t salt[8],
                       unsigned long iterations, pico_dkek_progress cb, void *arg,
                       uint8_t out[KEY_LEN + IV_LEN])
{
    EVP_MD *md = EVP_MD_fetch(NULL, "MD5", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t d[MD5_LEN];
    unsigned long total = 3 * iterations, done = 0, every = total / PROGRESS_STEPS + 1;
    unsigned int n = 0;
    pico_err err = PICO_E_INTERNAL;

    if (md == NULL || ctx == NULL || iterations == 0) {
        pico_err_raise(PICO_E_INTERNAL, "md5 unavailable");
        goto end;
    }
    for (int blk = 0; blk < 3; blk++) {
        if (!EVP_DigestInit_ex2(ctx, md, NULL) || (blk > 0 && !EVP_DigestUpdate(ctx, d, MD5_LEN)) ||
            !EVP_DigestUpdate(ctx, pw, pw_len) || !EVP_DigestUpdate(ctx, salt, 8) ||
            !EVP_DigestFinal_ex(ctx, d, &n))
            goto fail;
        for (unsigned long i = 1; i < iterations; i++) {
            if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, d, MD5_LEN) ||
                !EVP_DigestFinal_ex(ctx, d, &n))
                goto fail;
            if (cb != NULL && ++done % every == 0)
                cb(arg, done, total);
        }
        done++;
        memcpy(out + blk * MD5_LEN, d, MD5_LEN);
    }
    if (cb != NULL)
        cb(arg, total, total);
    err = PICO_OK;
    goto end;
fail:
    pico_err_raise(PICO_E_INTERNAL, "md5 digest failed");
end:
    OPENSSL_cleanse(d, sizeof(d));
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return err;
}

static pico_err aes_cbc(int enc, const uint8_t key[KEY_LEN + IV_LEN], const uint8_t *in,
                        size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    pico_err err = PICO_E_ARGS;

    *out_len = 0;
    if (ctx == NULL || in_len + 16 > cap) {
        err = pico_err_raise(PICO_E_NOMEM, "cipher context");
        goto end;
    }
    if (!EVP_CipherInit_ex2(ctx, EVP_aes_256_cbc(), key, key + KEY_LEN, enc, NULL) ||
        !EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) || !EVP_CipherFinal_ex(ctx, out + n, &m))
        goto end; /* decryption: a bad padding, i.e. a wrong key; raised by the caller */
    *out_len = (size_t)(n + m);
    err = PICO_OK;
end:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

pico_err pico_dkek_seal(const uint8_t share[PICO_DKEK_SHARE_LEN], const uint8_t *pw, size_t pw_len,
                        const uint8_t *salt, unsigned long iterations, pico_dkek_progress cb,
                        void *arg, uint8_t file[PICO_DKEK_FILE_LEN])
{
    uint8_t key[KEY_LEN + IV_LEN], ct[PICO_DKEK_SHARE_LEN + 16];
    size_t n = 0;
    pico_err err;

    memcpy(file, magic, sizeof(magic));
    if (salt != NULL)
        memcpy(file + 8, salt, 8);
    else if (RAND_bytes(file + 8, 8) != 1)
        return pico_err_raise(PICO_E_INTERNAL, "no random salt");
    if ((err = derive(pw, pw_len, file + 8, iterations, cb, arg, key)) != PICO_OK)
        goto end;
    if ((err = aes_cbc(1, key, share, PICO_DKEK_SHARE_LEN, ct, sizeof(ct), &n)) != PICO_OK)
        goto end;
    if (n != PICO_DKEK_FILE_LEN - 16) {
        err = pico_err_raise(PICO_E_INTERNAL, "share encryption: %zu bytes", n);
        goto end;
    }
    memcpy(file + 16, ct, n);
end:
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}

pico_err pico_dkek_open(const uint8_t file[PICO_DKEK_FILE_LEN], const uint8_t *pw, size_t pw_len,
                        unsigned long iterations, pico_dkek_progress cb, void *arg,
                        uint8_t share[PICO_DKEK_SHARE_LEN])
{
    uint8_t key[KEY_LEN + IV_LEN], pt[PICO_DKEK_FILE_LEN];
    size_t n = 0;
    pico_err err;

    if (memcmp(file, magic, sizeof(magic)) != 0)
        return pico_err_raise(PICO_E_ARGS, "not a dkek share (no \"Salted__\" header)");
    if ((err = derive(pw, pw_len, file + 8, iterations, cb, arg, key)) != PICO_OK)
        goto end;
    err = aes_cbc(0, key, file + 16, PICO_DKEK_FILE_LEN - 16, pt, sizeof(pt), &n);
    /* 32 bytes and one block of padding; sc-hsm-tool keeps the first 32 of what comes out */
    if (err != PICO_OK || n < PICO_DKEK_SHARE_LEN) {
        err = pico_err_raise(PICO_E_ARGS, "wrong password or not a dkek share");
        goto end;
    }
    memcpy(share, pt, PICO_DKEK_SHARE_LEN);
end:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(pt, sizeof(pt));
    return err;
}

pico_err pico_dkek_share_random(uint8_t share[PICO_DKEK_SHARE_LEN])
{
    if (RAND_priv_bytes(share, PICO_DKEK_SHARE_LEN) != 1)
        return pico_err_raise(PICO_E_INTERNAL, "no random share");
    return PICO_OK;
}

pico_err pico_dkek_read_file(const char *path, uint8_t file[PICO_DKEK_FILE_LEN])
{
    FILE *f = fopen(path, "rb");
    size_t n;
    int extra;

    if (f == NULL)
        return pico_err_raise(PICO_E_FILE, "%s: %s", path, strerror(errno));
    n = fread(file, 1, PICO_DKEK_FILE_LEN, f);
    extra = fgetc(f) != EOF;
    fclose(f);
    if (n != PICO_DKEK_FILE_LEN || extra || memcmp(file, magic, sizeof(magic)) != 0)
        return pico_err_raise(PICO_E_FILE, "%s: not a dkek share (64 bytes from \"Salted__\")",
                              path);
    return PICO_OK;
}

pico_err pico_dkek_write_file(const char *path, const uint8_t file[PICO_DKEK_FILE_LEN])
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ssize_t n;

    if (fd < 0)
        return pico_err_raise(PICO_E_FILE, "%s: %s%s", path, strerror(errno),
                              errno == EEXIST ? ": a share file is never overwritten" : "");
    n = write(fd, file, PICO_DKEK_FILE_LEN);
    if (n != PICO_DKEK_FILE_LEN || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return pico_err_raise(PICO_E_FILE, "%s: %s", path, strerror(e));
    }
    if (close(fd) != 0)
        return pico_err_raise(PICO_E_FILE, "%s: %s", path, strerror(errno));
    return PICO_OK;
}

pico_err pico_dkek_kcv(const uint8_t dkek[PICO_DKEK_SHARE_LEN], uint8_t kcv[PICO_DKEK_KCV_LEN])
{
    uint8_t h[32];
    unsigned int n = 0;

    if (EVP_Digest(dkek, PICO_DKEK_SHARE_LEN, h, &n, EVP_sha256(), NULL) != 1)
        return pico_err_raise(PICO_E_INTERNAL, "sha-256 failed");
    memcpy(kcv, h, PICO_DKEK_KCV_LEN);
    OPENSSL_cleanse(h, sizeof(h));
    return PICO_OK;
}

void pico_dkek_combine(const uint8_t (*shares)[PICO_DKEK_SHARE_LEN], size_t n,
                       uint8_t dkek[PICO_DKEK_SHARE_LEN])
{
    memset(dkek, 0, PICO_DKEK_SHARE_LEN);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < PICO_DKEK_SHARE_LEN; j++)
            dkek[j] ^= shares[i][j];
}
