/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WRAP (80 72) and UNWRAP (80 74) of the virtual device through its APDU interface, with
 * the firmware's checks in their order and status words (cmd_key_wrap.c, cmd_key_unwrap.c;
 * sc-hsm-protocol.md 8.2, 8.3): no DKEK 6A88, 91 without 92 6985, no key 6A82, wrong P2
 * 6B00, no login 6982; a damaged blob or another DKEK 6400, not a blob 6984; both styles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card.h"
#include "crypto.h"
#include "crypto_wrap.h"
#include "state.h"

static const uint8_t pin[] = {'6', '4', '8', '2', '1', '9'};
static uint8_t share[32];

typedef struct fx {
    sim_state st;
    sim_card *card;
    uint8_t out[4096];
    size_t len; /* data bytes in out */
} fx;

/* An extended-length APDU (Le 00 00 when le); returns the status word, data in f->out. */
static unsigned cmd(fx *f, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *d, size_t n, int le)
{
    uint8_t a[4096] = {ins == 0xA4 || ins == 0x20 || ins == 0x46 || ins == 0xD7 ? 0x00 : 0x80, ins,
                       p1, p2};
    size_t l = 4;
    sim_bytes r = {0};
    unsigned sw;

    if (n > 0 || le) {
        a[l++] = 0;
        if (n > 0) {
            a[l++] = (uint8_t)(n >> 8);
            a[l++] = (uint8_t)n;
            memcpy(a + l, d, n);
            l += n;
        }
        if (le) {
            a[l++] = 0;
            a[l++] = 0;
        }
    }
    assert_int_equal(sim_card_process(f->card, a, l, &r), 0);
    assert_true(r.len >= 2 && r.len - 2 <= sizeof(f->out));
    sw = (unsigned)r.data[r.len - 2] << 8 | r.data[r.len - 1];
    f->len = r.len - 2;
    memcpy(f->out, r.data, f->len);
    sim_bytes_free(&r);
    return sw;
}

static void select_app(fx *f)
{
    static const uint8_t aid[] = {0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01};
    assert_int_equal(cmd(f, 0xA4, 0x04, 0x00, aid, sizeof(aid), 1), 0x9000);
}

/* INITIALIZE with PIN 648219 and, when dkek, 92 01 01 and the share 00..1F after VERIFY. */
static fx *device(int dkek)
{
    static const uint8_t init[] = {0x80, 0x02, 0x00, 0x01, 0x81, 0x06, '6',  '4', '8', '2',
                                   '1',  '9',  0x82, 0x08, '5',  '7',  '6',  '2', '1', '8',
                                   '8',  '0',  0x91, 0x01, 0x03, 0x92, 0x01, 0x01};
    fx *f = calloc(1, sizeof(*f));

    for (int i = 0; i < 32; i++)
        share[i] = (uint8_t)i;
    sim_state_init(&f->st);
    f->card = sim_card_new(&f->st, NULL);
    select_app(f);
    assert_int_equal(cmd(f, 0x50, 0, 0, init, sizeof(init) - (dkek ? 0 : 3), 0), 0x9000);
    select_app(f);
    assert_int_equal(cmd(f, 0x20, 0x00, 0x81, pin, sizeof(pin), 0), 0x9000);
    if (dkek) {
        assert_int_equal(cmd(f, 0x52, 0, 0, share, 32, 1), 0x9000);
        assert_int_equal(f->out[1], 0); /* no share missing */
    }
    return f;
}

static void device_free(fx *f)
{
    sim_card_free(f->card);
    sim_state_free(&f->st);
    free(f);
}

/* GAKP P-256 at ref, with extra tags (91 ...) after 7F49 */
static void gakp(fx *f, uint8_t ref, const uint8_t *extra, size_t n)
{
    static const uint8_t req[] = {0x7F, 0x49, 0x2E, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07,
                                  0x02, 0x02, 0x02, 0x02, 0x03, 0x81, 0x20, 0xFF, 0xFF, 0xFF,
                                  0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint8_t d[128];

    memcpy(d, req, sizeof(req));
    if (n > 0)
        memcpy(d + sizeof(req), extra, n);
    assert_int_equal(cmd(f, 0x46, ref, 0, d, sizeof(req) + n, 1), 0x9000);
}

/* The 86 (Q) of a key's CV request in CExx, into q (65 bytes). */
static void public_point(fx *f, uint8_t ref, uint8_t q[65])
{
    uint8_t rd[] = {0x54, 0x02, 0x00, 0x00};
    uint8_t *p;

    assert_int_equal(cmd(f, 0xB1, 0xCE, ref, rd, sizeof(rd), 1), 0x9000);
    p = memmem(f->out, f->len, "\x86\x41\x04", 3);
    assert_non_null(p);
    memcpy(q, p + 2, 65);
}

static void test_wrap_refusals(void **state)
{
    static const uint8_t only_sign[] = {0x91, 0x01, 0x70};
    fx *f = device(0);

    (void)state;
    gakp(f, 1, NULL, 0);
    assert_int_equal(cmd(f, 0x72, 1, 0x92, NULL, 0, 1), 0x6A88); /* no DKEK at all */
    device_free(f);
    f = device(1);
    gakp(f, 1, NULL, 0);
    gakp(f, 2, only_sign, sizeof(only_sign));
    assert_int_equal(cmd(f, 0x72, 1, 0x93, NULL, 0, 1), 0x6B00);
    assert_int_equal(cmd(f, 0x72, 9, 0x92, NULL, 0, 1), 0x6A82);
    assert_int_equal(cmd(f, 0x72, 2, 0x92, NULL, 0, 1), 0x6985); /* 91 without 92 */
    select_app(f);                                               /* logged out */
    assert_int_equal(cmd(f, 0x72, 1, 0x92, NULL, 0, 1), 0x6982);
    device_free(f);
}

static void test_wrap_unwrap_both_styles(void **state)
{
    uint8_t blob[2048], q1[65], q2[65], rd[] = {0x54, 0x02, 0x00, 0x00};
    uint8_t upd[2100] = {0x54, 0x02, 0x00, 0x00, 0x53, 0x82};
    size_t n;
    sim_blob_key k;
    fx *f = device(1);

    (void)state;
    gakp(f, 1, NULL, 0);
    assert_int_equal(cmd(f, 0x72, 1, 0x92, NULL, 0, 1), 0x9000);
    n = f->len;
    memcpy(blob, f->out, n);
    /* KCV of DKEK 00..1F, EC, empty algorithms, access conditions and key OID (8.2) */
    assert_memory_equal(blob, "\x63\x0D\xCD\x29\x66\xC4\x33\x66\x0C\x00\x0A", 11);
    assert_memory_equal(blob + 21, "\x00\x00\x00\x00\x00\x00", 6);
    assert_int_equal(sim_dkek_blob_decode(share, blob, n, &k), SIM_BLOB_OK);
    sim_blob_key_free(&k);
    /* old style: the blob in the command; no answer data, the request in CE02 */
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, n, 0), 0x9000);
    assert_int_equal(f->len, 0);
    public_point(f, 1, q1);
    public_point(f, 2, q2);
    assert_memory_equal(q1, q2, 65);
    /* the default PrKD (empty label, ID "2") is written as by GAKP */
    assert_int_equal(cmd(f, 0xB1, 0xC4, 2, rd, sizeof(rd), 1), 0x9000);
    assert_non_null(memmem(f->out, f->len, "\x04\x01\x32", 3));
    /* new style: EF 2F10, then no data */
    assert_int_equal(cmd(f, 0x74, 3, 0x93, NULL, 0, 0), 0x6A82); /* 2F10 empty */
    upd[6] = (uint8_t)(n >> 8);
    upd[7] = (uint8_t)n;
    memcpy(upd + 8, blob, n);
    assert_int_equal(cmd(f, 0xD7, 0x2F, 0x10, upd, 8 + n, 0), 0x9000);
    assert_int_equal(cmd(f, 0x74, 3, 0x93, NULL, 0, 0), 0x9000);
    public_point(f, 3, q2);
    assert_memory_equal(q1, q2, 65);
    /* the unwrapped key wraps again (its metadata: domain 0, no 91) */
    assert_int_equal(cmd(f, 0x72, 3, 0x92, NULL, 0, 1), 0x9000);
    device_free(f);
}

static void test_unwrap_refusals(void **state)
{
    uint8_t blob[2048];
    size_t n;
    fx *f = device(1), *g = device(0);

    (void)state;
    gakp(f, 1, NULL, 0);
    assert_int_equal(cmd(f, 0x72, 1, 0x92, NULL, 0, 1), 0x9000);
    n = f->len;
    memcpy(blob, f->out, n);
    assert_int_equal(cmd(f, 0x74, 2, 0x92, blob, n, 0), 0x6B00);
    blob[n / 2] ^= 1; /* the MAC fails */
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, n, 0), 0x6400);
    blob[n / 2] ^= 1;
    blob[n - 1] ^= 1;
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, n, 0), 0x6400);
    blob[n - 1] ^= 1;
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, 8, 0), 0x6984); /* too short */
    blob[8] = 0x07;                                              /* unknown key type */
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, n, 0), 0x6984);
    blob[8] = 0x0C;
    /* a device without that DKEK (here none): 6400, and nothing written */
    assert_int_equal(cmd(g, 0x74, 2, 0x93, blob, n, 0), 0x6400);
    assert_int_equal(cmd(g, 0x58, 0, 0, NULL, 0, 1), 0x9000);
    assert_null(memmem(g->out, g->len, "\xCC\x02", 2));
    select_app(f);
    assert_int_equal(cmd(f, 0x74, 2, 0x93, blob, n, 0), 0x6982);
    device_free(f);
    device_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_refusals),
        cmocka_unit_test(test_wrap_unwrap_both_styles),
        cmocka_unit_test(test_unwrap_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
