/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command layer leaves no secret behind in its buffers: the command
 * buffer that carried a PIN (VERIFY) and the card's answer buffer
 * (pico_card.buf) that carried a DECIPHER plaintext or ECDH secret are
 * cleansed once the exchange is over, on success and on failure.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schsm.h"

/* A transport that answers from a list and remembers where the commands were. */
typedef struct answer_transport {
    pico_transport base;
    const char *const *answers; /* raw answers (data || SW), NULL-terminated */
    const size_t *lens;
    size_t next;
    const uint8_t *cmd[4]; /* the command buffer of each call, and what it held */
    uint8_t seen[4][64];
    size_t seen_len[4];
    uint8_t stale[4][64]; /* call i: what cmd[0]'s buffer held past this command's end */
} answer_transport;

static pico_err at_transmit(pico_transport *base, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                            size_t *resp_len)
{
    answer_transport *t = (answer_transport *)base;
    size_t i = t->next++;

    assert_true(i < 4 && t->answers[i] != NULL && *resp_len >= t->lens[i]);
    t->cmd[i] = cmd;
    t->seen_len[i] = cmd_len < sizeof(t->seen[i]) ? cmd_len : sizeof(t->seen[i]);
    memcpy(t->seen[i], cmd, t->seen_len[i]);
    /* the same call path gives the same command buffer: what is still in it? */
    if (i > 0 && cmd == t->cmd[0])
        memcpy(t->stale[i], cmd, sizeof(t->stale[i]));
    memcpy(resp, t->answers[i], t->lens[i]);
    *resp_len = t->lens[i];
    return PICO_OK;
}

static pico_err at_noop(pico_transport *t)
{
    (void)t;
    return PICO_OK;
}

static void at_free(pico_transport *t)
{
    (void)t;
}

static const pico_transport_ops at_ops = {at_transmit, at_noop, at_noop, at_noop, at_free};

static pico_card *card_with(answer_transport *t, const char *const *answers, const size_t *lens)
{
    pico_card *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    memset(t, 0, sizeof(*t));
    t->base.ops = &at_ops;
    t->base.name = "test reader";
    t->answers = answers;
    t->lens = lens;
    c->t = &t->base;
    return c;
}

/* VERIFY's command buffer holds no PIN once VERIFY is over (right or wrong PIN). */
static void test_verify_command_buffer_cleansed(void **state)
{
    static const char *const answers[] = {"\x63\xC2", "\x90\x00", NULL};
    static const size_t lens[] = {2, 2};
    answer_transport t;
    pico_card *c = card_with(&t, answers, lens);
    int tries;

    (void)state;
    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"648219", 6, &tries),
                     PICO_E_PIN_INCORRECT);
    assert_int_equal(tries, 2);
    assert_memory_equal(t.seen[0],
                        "\x00\x20\x00\x81\x06"
                        "648219",
                        11);
    /* a second VERIFY, with a 1-byte PIN, through the same call path */
    assert_int_equal(pico_schsm_verify(c, PICO_PIN_USER, (const uint8_t *)"7", 1, &tries), PICO_OK);
    if (t.cmd[1] != t.cmd[0])
        fail_msg("the two VERIFYs used different command buffers: nothing to check");
    assert_memory_equal(t.stale[1],
                        "\x00\x20\x00\x81\x01"
                        "7",
                        6);
    /* the first PIN's other 5 bytes, had nobody wiped them */
    assert_memory_not_equal(t.stale[1] + 6, "48219", 5);
    assert_memory_equal(t.stale[1] + 6, "\0\0\0\0\0", 5);
    free(c);
}

/* DECIPHER's answer (plaintext, shared secret) does not stay in pico_card.buf. */
static void test_decipher_answer_buffer_cleansed(void **state)
{
    static const char secret[] = "secret session key 0123456789";
    static const char *const answers[] = {"secret session key 0123456789\x90\x00", NULL};
    static const size_t lens[] = {sizeof(secret) - 1 + 2};
    answer_transport t;
    pico_card *c = card_with(&t, answers, lens);
    uint8_t ct[256] = {0}, out[256];
    size_t out_len = sizeof(out);

    (void)state;
    assert_int_equal(
        pico_schsm_decipher(c, 1, PICO_ALG_RSA_DECRYPT_V15, ct, sizeof(ct), out, &out_len),
        PICO_OK);
    assert_int_equal(out_len, sizeof(secret) - 1);
    assert_memory_equal(out, secret, out_len);
    assert_null(memmem(c->buf, sizeof(c->buf), "session key", 11));
    free(c);
}

/* The same when the answer comes in pieces (61xx, GET RESPONSE) or is refused after it. */
static void test_chained_answer_buffer_cleansed(void **state)
{
    static const char *const answers[] = {"\x04"
                                          "ABCDEFGH\x61\x08",
                                          "IJKLMNOP\x90\x00", NULL};
    static const size_t lens[] = {11, 10};
    answer_transport t;
    pico_card *c = card_with(&t, answers, lens);
    uint8_t pt[65] = {0x04}, out[16]; /* room for less than comes: refused at the 2nd piece */
    size_t out_len = sizeof(out);

    (void)state;
    assert_int_not_equal(pico_schsm_decipher(c, 1, PICO_ALG_ECDH, pt, sizeof(pt), out, &out_len),
                         PICO_OK);
    assert_null(memmem(c->buf, sizeof(c->buf), "ABCDEFGH", 8));
    assert_null(memmem(c->buf, sizeof(c->buf), "IJKLMNOP", 8));
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_command_buffer_cleansed),
        cmocka_unit_test(test_decipher_answer_buffer_cleansed),
        cmocka_unit_test(test_chained_answer_buffer_cleansed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
