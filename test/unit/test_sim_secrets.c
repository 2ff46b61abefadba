/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the virtual Pico HSM tells its APDU log to hide: the data of every
 * command that carries a PIN, SO-PIN or DKEK share, on every path (refused
 * early for its class, P1/P2, options, state or length, chained, or carried
 * out), and the answer data of DECIPHER (plaintexts, ECDH shared secrets),
 * also when it comes through GET RESPONSE. And READ BINARY of an empty EF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "card.h"
#include "state.h"

struct fixture {
    sim_state st;
    sim_card *card;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    sim_state_init(&f->st);
    f->card = sim_card_new(&f->st, NULL);
    assert_non_null(f->card);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    sim_card_free(f->card);
    sim_state_free(&f->st);
    free(f);
    return 0;
}

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = 0;

    for (; *hex != '\0'; hex += 2) {
        unsigned v;
        while (*hex == ' ')
            hex++;
        if (*hex == '\0')
            break;
        assert_true(n < max);
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Sends an APDU given in hex; returns the answer as upper-case hex (static). */
static const char *xfer(sim_card *c, const char *hex)
{
    static char out[2 * 4096 + 1];
    uint8_t apdu[2048];
    size_t n = unhex(hex, apdu, sizeof(apdu));
    sim_bytes r = {0};

    assert_int_equal(sim_card_process(c, apdu, n, &r), 0);
    assert_true(r.len * 2 < sizeof(out));
    for (size_t i = 0; i < r.len; i++)
        sprintf(out + 2 * i, "%02X", r.data[i]);
    out[2 * r.len] = 0;
    sim_bytes_free(&r);
    return out;
}

/* The status word at the end of an answer. */
static const char *sw(const char *answer)
{
    return answer + strlen(answer) - 4;
}

/*
 * Sends a short case-3 APDU "HEADER DATA" (Lc computed) and checks its status
 * word and that the card reports all its data as secret.
 */
static void secret_cmd(sim_card *c, const char *header, const char *data, const char *want_sw)
{
    char apdu[1024];
    size_t nc = strlen(data) / 2;

    snprintf(apdu, sizeof(apdu), "%s%02zX%s", header, nc, data);
    assert_string_equal(sw(xfer(c, apdu)), want_sw);
    if ((size_t)sim_card_last_secret(c) != nc)
        fail_msg("%s (sw %s): %d of %zu data bytes hidden", header, want_sw,
                 sim_card_last_secret(c), nc);
}

#define SELECT "00A404000BE82B0601040181C31F020100"
#define PIN "363438323139"       /* 648219 */
#define SOPIN "3537363231383830" /* 16 hex digits, as sc-hsm-tool takes it */
#define NEWPIN "323731383238"    /* 271828 */
#define SHARE_HEAD "00010203"
#define SHARE_TAIL "0405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define SHARE SHARE_HEAD SHARE_TAIL
/* INITIALIZE with options OPTS, the PIN and the SO-PIN, 3 tries, then EXTRA tags. */
static void init_card(sim_card *c, const char *opts, const char *extra)
{
    char data[512];

    snprintf(data, sizeof(data), "8002%s8106" PIN "8208" SOPIN "910103%s", opts, extra);
    xfer(c, SELECT);
    secret_cmd(c, "80500000", data, "9000");
    xfer(c, SELECT);
}

/* VERIFY: refused by class, instruction state, P1, P2, a blank card, a transport PIN. */
static void test_verify_hidden_on_every_refusal(void **state)
{
    struct fixture *f = *state;

    secret_cmd(f->card, "00200081", PIN, "6D00"); /* no application selected */
    xfer(f->card, SELECT);
    secret_cmd(f->card, "00200081", PIN, "6A88"); /* blank device */
    init_card(f->card, "0001", "");
    secret_cmd(f->card, "0C200081", PIN, "6E00"); /* secure messaging class */
    secret_cmd(f->card, "00200181", PIN, "6B00");
    secret_cmd(f->card, "00200082", PIN, "6A88");
    secret_cmd(f->card, "00200081", "313131313131", "63C2");
    secret_cmd(f->card, "00200081", PIN, "9000");
    /* chained: both halves hidden */
    secret_cmd(f->card, "10200081", "363438", "9000");
    secret_cmd(f->card, "00200081", "323139", "9000");
    init_card(f->card, "0003", ""); /* transport PIN: 6984 before the PIN is looked at */
    secret_cmd(f->card, "00200081", PIN, "6984");
}

/* CHANGE REFERENCE DATA: bad P1/P2, bad length, wrong old PIN, and carried out. */
static void test_change_hidden_on_every_refusal(void **state)
{
    struct fixture *f = *state;

    init_card(f->card, "0001", "");
    secret_cmd(f->card, "00240181", PIN NEWPIN, "6B00");
    secret_cmd(f->card, "00240083", PIN NEWPIN, "6B00");
    secret_cmd(f->card, "00240081", PIN, "6700");
    secret_cmd(f->card, "00240081", "313131313131" NEWPIN, "63C2");
    secret_cmd(f->card, "00240081", PIN NEWPIN, "9000");
}

/* RESET RETRY COUNTER: bad P2, option off, bad P1, bad length, wrong SO-PIN, carried out. */
static void test_reset_retry_hidden_on_every_refusal(void **state)
{
    struct fixture *f = *state;

    init_card(f->card, "0000", ""); /* no reset retry counter (option 0001 off) */
    secret_cmd(f->card, "002C0082", SOPIN NEWPIN, "6A88");
    secret_cmd(f->card, "002C0081", SOPIN NEWPIN, "6986");
    init_card(f->card, "0001", "");
    secret_cmd(f->card, "002C0181", SOPIN, "6986"); /* counter only: option 0020 off */
    secret_cmd(f->card, "002C0481", SOPIN NEWPIN, "6A86");
    secret_cmd(f->card, "002C0281", NEWPIN, "6985"); /* no SO-PIN session */
    secret_cmd(f->card, "002C0081", SOPIN "31", "6700");
    secret_cmd(f->card, "002C0081", "3030303030303030" NEWPIN, "63CE");
    secret_cmd(f->card, "002C0081", SOPIN NEWPIN, "9000");
}

/* DKEK share import: no DKEK set up, bad domain, short share, and imported. */
static void test_dkek_share_hidden_on_every_refusal(void **state)
{
    struct fixture *f = *state;

    init_card(f->card, "0001", ""); /* no tag 92: domain 0 takes no share (00 00) */
    secret_cmd(f->card, "80520000", SHARE, "6986");
    secret_cmd(f->card, "80520005", SHARE, "6A86"); /* no such key domain */
    secret_cmd(f->card, "80520700", SHARE, "6A86"); /* no such P1 */
    init_card(f->card, "0001", "920101");           /* one share expected */
    secret_cmd(f->card, "80520000", "0001", "6700");
    /* chained: both parts hidden */
    secret_cmd(f->card, "90520000", SHARE_HEAD, "9000");
    secret_cmd(f->card, "80520000", SHARE_TAIL, "610A"); /* the KCV waits */
    secret_cmd(f->card, "80520000", SHARE, "6986");      /* complete already */
}

/* Commands without secrets show their data. */
static void test_public_commands_shown(void **state)
{
    struct fixture *f = *state;

    init_card(f->card, "0001", "");
    xfer(f->card, "00A4000002 2F02");
    assert_int_equal(sim_card_last_secret(f->card), 0);
    assert_int_equal(sim_card_answer_secret(f->card), 0);
}

/* A P-256 key at reference 1 (GAKP with the OID and the prime, 6.2). */
static void make_ec_key(sim_card *c)
{
    static const char gakp[] =
        "00460100 000031 7F492E 060A04007F00070202020203 "
        "8120FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF 0000";

    assert_string_equal(sw(xfer(c, gakp)), "9000");
}

/* A software P-256 key: its uncompressed point in hex. */
static EVP_PKEY *peer_key(char hex[2 * 65 + 1])
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    uint8_t pub[65];
    size_t n = 0;

    assert_non_null(k);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
    assert_int_equal(n, 65);
    for (size_t i = 0; i < n; i++)
        sprintf(hex + 2 * i, "%02X", pub[i]);
    return k;
}

/* ECDH (DECIPHER 80): the answer is secret, in one piece or through GET RESPONSE. */
static void test_decipher_answer_hidden(void **state)
{
    struct fixture *f = *state;
    char peer[2 * 65 + 1], apdu[512], get[16];
    const char *r;
    EVP_PKEY *k;

    init_card(f->card, "0001", "");
    secret_cmd(f->card, "00200081", PIN, "9000");
    make_ec_key(f->card);
    k = peer_key(peer);
    /* with Le: the whole answer at once */
    snprintf(apdu, sizeof(apdu), "80620180 41 %s 00", peer);
    r = xfer(f->card, apdu);
    assert_string_equal(sw(r), "9000");
    assert_true(strlen(r) > 4);
    assert_int_equal(sim_card_answer_secret(f->card), 1);
    assert_int_equal(sim_card_last_secret(f->card), 0); /* the peer's point is public */
    /* without Le: 61xx, then GET RESPONSE hands over the secret */
    snprintf(apdu, sizeof(apdu), "80620180 41 %s", peer);
    r = xfer(f->card, apdu);
    assert_memory_equal(r, "61", 2);
    snprintf(get, sizeof(get), "00C00000%.2s", r + 2);
    r = xfer(f->card, get);
    assert_string_equal(sw(r), "9000");
    assert_true(strlen(r) > 4);
    assert_int_equal(sim_card_answer_secret(f->card), 1);
    /* a signature is not secret */
    r = xfer(f->card, "80680170 20 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"
                      " 00");
    assert_string_equal(sw(r), "9000");
    assert_int_equal(sim_card_answer_secret(f->card), 0);
    EVP_PKEY_free(k);
}

/* READ BINARY of an EF written empty: 9000 and no data (UBSan: no NULL + 0). */
static void test_read_empty_file(void **state)
{
    struct fixture *f = *state;

    init_card(f->card, "0001", "");
    secret_cmd(f->card, "00200081", PIN, "9000");
    assert_string_equal(xfer(f->card, "00D72F10 06 540200005300"), "9000");
    assert_string_equal(xfer(f->card, "00B12F10 04 54020000 00"), "9000");
    assert_string_equal(xfer(f->card, "00B00000 00"), "9000");
    assert_string_equal(xfer(f->card, "00B12F10 04 54020001 00"), "6282");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_hidden_on_every_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_hidden_on_every_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_retry_hidden_on_every_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dkek_share_hidden_on_every_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_public_commands_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decipher_answer_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_empty_file, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
