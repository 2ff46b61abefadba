/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DKEK share files and password shares (common/dkek.c, dkek_shamir.c): the
 * derivation against OpenSSL's own EVP_BytesToKey, files and printouts made
 * by sc-hsm-tool (test/unit/data/README), the KCV sc-hsm-tool showed for them,
 * and Shamir splits both ways. Two full 10,000,000-iteration derivations (a
 * few seconds each); everything else uses few iterations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dkek.h"

static const uint8_t seq32[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf = malloc(65536);

    snprintf(path, sizeof(path), "%s/%s", DKEK_DATA, name);
    assert_non_null((f = fopen(path, "rb")));
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Our derivation and file against EVP_BytesToKey and a plain AES-256-CBC decryption. */
static void test_seal_matches_evp_bytestokey(void **state)
{
    static const uint8_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t file[PICO_DKEK_FILE_LEN], key[32], iv[16], pt[64], back[32];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;

    (void)state;
    assert_int_equal(
        pico_dkek_seal(seq32, (const uint8_t *)"secret", 6, salt, 1000, NULL, NULL, file), PICO_OK);
    assert_memory_equal(file, "Salted__\x01\x02\x03\x04\x05\x06\x07\x08", 16);
    assert_int_equal(EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt,
                                    (const unsigned char *)"secret", 6, 1000, key, iv),
                     32);
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, pt, &n, file + 16, 48), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, pt + n, &m), 1);
    assert_int_equal(n + m, 32);
    assert_memory_equal(pt, seq32, 32);
    EVP_CIPHER_CTX_free(ctx);
    /* and it opens again; a wrong password is said so */
    assert_int_equal(pico_dkek_open(file, (const uint8_t *)"secret", 6, 1000, NULL, NULL, back),
                     PICO_OK);
    assert_memory_equal(back, seq32, 32);
    assert_int_equal(pico_dkek_open(file, (const uint8_t *)"secreT", 6, 1000, NULL, NULL, back),
                     PICO_E_ARGS);
}

struct progress {
    unsigned long calls, last, total;
    int backwards;
};

static void progress_cb(void *arg, unsigned long done, unsigned long total)
{
    struct progress *p = arg;

    p->backwards |= done < p->last;
    p->calls++;
    p->last = done;
    p->total = total;
}

static void test_progress_reaches_total(void **state)
{
    uint8_t file[PICO_DKEK_FILE_LEN];
    struct progress p = {0};

    (void)state;
    assert_int_equal(
        pico_dkek_seal(seq32, (const uint8_t *)"pw", 2, NULL, 10000, progress_cb, &p, file),
        PICO_OK);
    assert_false(p.backwards);
    assert_int_equal(p.total, 30000);
    assert_int_equal(p.last, 30000);
    assert_in_range(p.calls, 50, 200); /* about every 1% */
}

/* 8.1's verified value: the DKEK 00 01 .. 1F shows KCV 63 0D CD 29 66 C4 33 66. */
static void test_kcv_firmware_vector(void **state)
{
    static const uint8_t want[8] = {0x63, 0x0D, 0xCD, 0x29, 0x66, 0xC4, 0x33, 0x66};
    uint8_t kcv[8];

    (void)state;
    assert_int_equal(pico_dkek_kcv(seq32, kcv), PICO_OK);
    assert_memory_equal(kcv, want, 8);
}

static void test_files_read_write(void **state)
{
    char path[] = "/tmp/test_dkek_XXXXXX";
    uint8_t file[PICO_DKEK_FILE_LEN], back[PICO_DKEK_FILE_LEN];
    struct stat st;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    assert_int_equal(pico_dkek_seal(seq32, (const uint8_t *)"pw", 2, NULL, 10, NULL, NULL, file),
                     PICO_OK);
    assert_int_equal(pico_dkek_write_file(path, file), PICO_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never over an existing share */
    assert_int_equal(pico_dkek_write_file(path, file), PICO_E_FILE);
    assert_int_equal(pico_dkek_read_file(path, back), PICO_OK);
    assert_memory_equal(back, file, sizeof(file));
    /* a file of another length is not a share */
    assert_int_equal(truncate(path, 63), 0);
    assert_int_equal(pico_dkek_read_file(path, back), PICO_E_FILE);
    unlink(path);
}

/* The prime and shares sc-hsm-tool printed for dkek-share-2of3.pbe. */
#define PRIME "c6:dc:e0:3f:b1:9c:1d:33"
#define SHARE1 "01:db:23:bc:b1:3f:f8:1f"
#define SHARE2 "83:99:2b:1f:e7:ea:64:b3"
#define SHARE3 "3e:7a:52:43:6c:f8:b4:14"

static void join_text(const char *text, uint8_t pw[8], size_t *len)
{
    pico_dkek_pw_split sp;

    assert_int_equal(pico_dkek_pw_parse(text, &sp), PICO_OK);
    assert_int_equal(pico_dkek_pw_join(&sp, pw, len), PICO_OK);
    pico_dkek_pw_split_clear(&sp);
}

/* sc-hsm-tool's printout and its prompt answers read; any 2 of the 3 give one password. */
static void test_parse_sc_hsm_tool_shares(void **state)
{
    uint8_t a[8], b[8], c[8], d[8];
    size_t la, lb, lc, ld, n;
    char *printout = slurp("dkek-share-2of3.txt", &n);
    pico_dkek_pw_split sp;

    (void)state;
    /* the whole printout: three shares, each with the prime */
    assert_int_equal(pico_dkek_pw_parse(printout, &sp), PICO_OK);
    assert_int_equal(sp.n, 3);
    assert_int_equal(sp.prime_len, 8);
    assert_int_equal(sp.share[2].id, 3);
    assert_int_equal(pico_dkek_pw_join(&sp, a, &la), PICO_OK);
    /* the answers to its import prompts: prime, (Enter), ID, value, (Enter), ID, value */
    join_text(PRIME "\n\n1\n" SHARE1 "\n\n3\n" SHARE3 "\n", b, &lb);
    join_text("Prime : " PRIME "\nShare ID : 2\nShare value : " SHARE2 "\n"
              "Share ID : 3\nShare value : 3E7A52436CF8B414\n",
              c, &lc);
    join_text(PRIME "\n2\n" SHARE2 "\n1\n" SHARE1 "\n", d, &ld);
    assert_int_equal(la, 8);
    assert_int_equal(lb, la);
    assert_int_equal(lc, la);
    assert_int_equal(ld, la);
    assert_memory_equal(a, b, 8);
    assert_memory_equal(a, c, 8);
    assert_memory_equal(a, d, 8);
    assert_true(a[0] < 0x80); /* 63 bits */
    /* a different prime in a second block, a value before its ID, one share only */
    assert_int_equal(pico_dkek_pw_parse("Prime : " PRIME "\nShare ID : 1\nShare value : " SHARE1
                                        "\nPrime : c6:dc:e0:3f:b1:9c:1d:35\n",
                                        &sp),
                     PICO_E_ARGS);
    assert_int_equal(pico_dkek_pw_parse("Prime : " PRIME "\nShare value : " SHARE1 "\n", &sp),
                     PICO_E_ARGS);
    assert_int_equal(pico_dkek_pw_parse(PRIME "\n1\n" SHARE1 "\n", &sp), PICO_E_ARGS);
    free(printout);
}

/* Our splits: any threshold of the shares rebuilds the password, through the text too. */
static void test_split_join_round_trip(void **state)
{
    uint8_t pw[8], back[8];
    char text[4096] = "", one[256];
    pico_dkek_pw_split sp, part;
    size_t len;

    (void)state;
    assert_int_equal(pico_dkek_pw_random(pw), PICO_OK);
    assert_true(pw[0] != 0 && pw[0] < 0x80);
    assert_int_equal(pico_dkek_pw_split_new(pw, 3, 5, &sp), PICO_OK);
    assert_int_equal(sp.n, 5);
    assert_int_equal(sp.prime_len, 8);
    assert_true(sp.prime[0] & 0x80);
    /* shares 5, 2, 4 as text */
    for (size_t i = 5; i-- > 0;) {
        if (i == 0 || i == 2)
            continue;
        assert_int_equal(pico_dkek_pw_share_text(&sp, i, one, sizeof(one)), PICO_OK);
        strcat(text, one);
    }
    assert_int_equal(pico_dkek_pw_parse(text, &part), PICO_OK);
    assert_int_equal(part.n, 3);
    assert_int_equal(pico_dkek_pw_join(&part, back, &len), PICO_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(back, pw, 8);
    /* two of a 3-threshold split give some other password */
    part.n = 2;
    assert_int_equal(pico_dkek_pw_join(&part, back, &len), PICO_OK);
    assert_false(len == 8 && memcmp(back, pw, 8) == 0);
    /* a share given twice */
    part.share[1] = part.share[0];
    assert_int_equal(pico_dkek_pw_join(&part, back, &len), PICO_E_ARGS);
    /* sc-hsm-tool's limits */
    assert_int_equal(pico_dkek_pw_split_new(pw, 2, 2, &sp), PICO_E_ARGS);
    assert_int_equal(pico_dkek_pw_split_new(pw, 4, 3, &sp), PICO_E_ARGS);
    assert_int_equal(pico_dkek_pw_split_new(pw, 1, 3, &sp), PICO_E_ARGS);
    pico_dkek_pw_split_clear(&part);
}

/* The two files sc-hsm-tool made, opened with the full count: each share has the KCV
 * sc-hsm-tool showed after importing it alone (test/unit/data/README). */
static void test_sc_hsm_tool_files_kcv(void **state)
{
    static const uint8_t want1[8] = {0xF7, 0x31, 0xA7, 0x29, 0x9D, 0x5E, 0xCA, 0x06};
    static const uint8_t want2[8] = {0x20, 0x8E, 0x49, 0x39, 0x4A, 0x86, 0x32, 0xEE};
    uint8_t f1[PICO_DKEK_FILE_LEN], f2[PICO_DKEK_FILE_LEN], shares[2][32], dkek[32], kcv[8], pw[8];
    char path[512];
    size_t pw_len;
    struct timespec t0, t1;

    (void)state;
    snprintf(path, sizeof(path), "%s/dkek-share-password.pbe", DKEK_DATA);
    assert_int_equal(pico_dkek_read_file(path, f1), PICO_OK);
    snprintf(path, sizeof(path), "%s/dkek-share-2of3.pbe", DKEK_DATA);
    assert_int_equal(pico_dkek_read_file(path, f2), PICO_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pico_dkek_open(f1, (const uint8_t *)"pico-dkek-test", 14, PICO_DKEK_ITERATIONS,
                                    NULL, NULL, shares[0]),
                     PICO_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("one derivation: %.2f s\n",
                  (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    join_text(PRIME "\n1\n" SHARE1 "\n3\n" SHARE3 "\n", pw, &pw_len);
    assert_int_equal(pico_dkek_open(f2, pw, pw_len, PICO_DKEK_ITERATIONS, NULL, NULL, shares[1]),
                     PICO_OK);
    assert_int_equal(pico_dkek_kcv(shares[0], kcv), PICO_OK);
    assert_memory_equal(kcv, want1, 8);
    assert_int_equal(pico_dkek_kcv(shares[1], kcv), PICO_OK);
    assert_memory_equal(kcv, want2, 8);
    /* the device XORs the shares it gets: one share is the DKEK itself */
    pico_dkek_combine((const uint8_t(*)[32])shares, 1, dkek);
    assert_memory_equal(dkek, shares[0], 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_matches_evp_bytestokey),
        cmocka_unit_test(test_progress_reaches_total),
        cmocka_unit_test(test_kcv_firmware_vector),
        cmocka_unit_test(test_files_read_write),
        cmocka_unit_test(test_parse_sc_hsm_tool_shares),
        cmocka_unit_test(test_split_join_round_trip),
        cmocka_unit_test(test_sc_hsm_tool_files_kcv),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
