/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device pool (common/device_pool.c) over scripted devices: the order its members
 * serve in, a busy member skipped, a removed one marked down and the operation served
 * by another, a down one rejoining after its back-off. Each script pins exactly what
 * each device is sent: a command on the wrong device fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "device_int.h"
#include "script_transport.h"

#define AID "E8 2B 06 01 04 01 81 C3 1F 02 01"
#define FCP                                                                                        \
    "62 22 81 02 00 00 82 01 01 83 02 00 00 84 0B 2B 06 01 04 01 81 C3 1F 02 01 00 "               \
    "8A 01 05 85 05 00 01 FF 06 06"
#define SELECT_CMD "00 A4 04 00 0B " AID " 00"
#define SELECT                                                                                     \
    {                                                                                              \
        SELECT_CMD, FCP " 90 00"                                                                   \
    }
#define SIGN_CMD "80 68 01 70 01 00 10" /* Le: the 16 bytes of room */
#define SIGN_A                                                                                     \
    {                                                                                              \
        SIGN_CMD, "AA 90 00"                                                                       \
    }
#define SIGN_B                                                                                     \
    {                                                                                              \
        SIGN_CMD, "BB 90 00"                                                                       \
    }
#define GONE(cmd)                                                                                  \
    {                                                                                              \
        cmd, NULL, PICO_E_REMOVED                                                                  \
    }

typedef struct two {
    pico_transport *t[2];
    pico_device *d[2];
    pico_key k[2];
    pico_pool *pool;
    int logins[2];
} two;

static void open_two(two *w, const script_step *a, const script_step *b)
{
    pico_key *keys[2];
    int i;

    memset(w, 0, sizeof(*w));
    pico_device_init();
    w->t[0] = script_transport_new(a);
    w->t[1] = script_transport_new(b);
    assert_int_equal(pico_dev_open("Reader A", w->t[0], &w->d[0]), PICO_OK);
    assert_int_equal(pico_dev_open("Reader B", w->t[1], &w->d[1]), PICO_OK);
    for (i = 0; i < 2; i++) {
        w->k[i].dev = w->d[i];
        w->k[i].keyref = 1;
        keys[i] = &w->k[i];
    }
    assert_non_null(w->pool = pico_pool_of_keys(keys, 2));
}

static void close_two(two *w)
{
    int i;

    pico_pool_free(w->pool);
    for (i = 0; i < 2; i++) {
        script_transport_done(w->t[i]); /* frees it */
        w->d[i]->card->t = NULL;
    }
    pico_device_cleanup();
}

static pico_err count_login(void *arg, pico_key *member)
{
    two *w = arg;

    w->logins[member == &w->k[0] ? 0 : 1]++;
    return PICO_OK;
}

/* One signature through the pool: err, and the byte the serving device answered. */
static pico_err sign(two *w, uint8_t *who)
{
    uint8_t in = 0, out[16];
    size_t out_len = sizeof(out);
    pico_err err =
        pico_pool_key_op(w->pool, count_login, w, PICO_MECH_ECDSA, &in, 1, out, &out_len);

    *who = err == PICO_OK && out_len == 1 ? out[0] : 0;
    return err;
}

/* Members serve in turn; each logs in once, the first time it serves. */
static void test_round_robin_logs_in_each_once(void **state)
{
    static const script_step a[] = {SELECT, SIGN_A, SIGN_A, {NULL}};
    static const script_step b[] = {SELECT, SIGN_B, SIGN_B, {NULL}};
    uint8_t who;
    two w;
    int i;

    (void)state;
    open_two(&w, a, b);
    for (i = 0; i < 4; i++) {
        assert_int_equal(sign(&w, &who), PICO_OK);
        assert_int_equal(who, i % 2 == 0 ? 0xAA : 0xBB);
    }
    assert_int_equal(w.logins[0], 1);
    assert_int_equal(w.logins[1], 1);
    close_two(&w);
}

/* A member in use by another thread is skipped, not waited for. */
static void test_busy_member_skipped(void **state)
{
    static const script_step a[] = {SELECT, {NULL}};
    static const script_step b[] = {SELECT, SIGN_B, SIGN_B, {NULL}};
    uint8_t who;
    two w;

    (void)state;
    open_two(&w, a, b);
    pthread_mutex_lock(&w.d[0]->lock); /* as if another thread were signing on A */
    assert_int_equal(sign(&w, &who), PICO_OK);
    assert_int_equal(who, 0xBB);
    assert_int_equal(sign(&w, &who), PICO_OK);
    assert_int_equal(who, 0xBB);
    pthread_mutex_unlock(&w.d[0]->lock);
    close_two(&w);
}

/* A removed member costs no failed operation: the next serves it; the removed one is
 * skipped until its back-off is over, then rejoins. */
static void test_removed_member_fails_over_and_rejoins(void **state)
{
    static const script_step a[] = {SELECT, GONE(SIGN_CMD), GONE(SELECT_CMD),
                                    SELECT, SIGN_A,         {NULL}};
    static const script_step b[] = {SELECT, SIGN_B, SIGN_B, {NULL}};
    uint8_t who;
    two w;

    (void)state;
    open_two(&w, a, b);
    assert_int_equal(sign(&w, &who), PICO_OK); /* A's turn: gone, B serves */
    assert_int_equal(who, 0xBB);
    assert_true(pico_pool_member_down(w.pool, 0));
    assert_int_equal(sign(&w, &who), PICO_OK); /* B's turn */
    assert_int_equal(who, 0xBB);
    usleep(600 * 1000);                        /* the back-off */
    assert_int_equal(sign(&w, &who), PICO_OK); /* A's turn: back */
    assert_int_equal(who, 0xAA);
    assert_false(pico_pool_member_down(w.pool, 0));
    assert_int_equal(w.logins[0], 2); /* its login went with it: made again */
    close_two(&w);
}

static pico_err no_pin_for_a(void *arg, pico_key *member)
{
    two *w = arg;

    if (member == &w->k[0])
        return pico_err_raise(PICO_E_PIN_REQUIRED, "test: no pin left for a");
    return count_login(arg, member);
}

static pico_err wrong_pin(void *arg, pico_key *member)
{
    (void)arg;
    (void)member;
    return pico_err_raise(PICO_E_PIN_INCORRECT, "test: wrong pin");
}

/* A member that cannot log in (no PIN left for it) passes the operation on; a PIN the
 * device refused fails it (the user's error: not sent to another device). */
static void test_login_failures(void **state)
{
    static const script_step a[] = {SELECT, {NULL}};
    static const script_step b[] = {SELECT, SIGN_B, SIGN_B, {NULL}};
    uint8_t in = 0, out[16];
    size_t out_len = sizeof(out);
    two w;
    int i;

    (void)state;
    open_two(&w, a, b);
    /* A's turn: refused, nothing sent to B */
    assert_int_equal(
        pico_pool_key_op(w.pool, wrong_pin, &w, PICO_MECH_ECDSA, &in, 1, out, &out_len),
        PICO_E_PIN_INCORRECT);
    for (i = 0; i < 2; i++) { /* B's turn, then A's: A cannot log in, B serves */
        out_len = sizeof(out);
        assert_int_equal(
            pico_pool_key_op(w.pool, no_pin_for_a, &w, PICO_MECH_ECDSA, &in, 1, out, &out_len),
            PICO_OK);
        assert_int_equal(out[0], 0xBB);
    }
    assert_true(pico_pool_member_down(w.pool, 0));
    close_two(&w);
}

/* Every member gone: the operation fails with why. */
static void test_all_members_gone(void **state)
{
    static const script_step a[] = {
        SELECT, GONE(SIGN_CMD), GONE(SELECT_CMD), GONE(SELECT_CMD), {NULL}};
    static const script_step b[] = {
        SELECT, GONE(SIGN_CMD), GONE(SELECT_CMD), GONE(SELECT_CMD), {NULL}};
    uint8_t who;
    two w;

    (void)state;
    open_two(&w, a, b);
    assert_int_equal(sign(&w, &who), PICO_E_REMOVED);
    assert_true(pico_pool_member_down(w.pool, 0));
    assert_true(pico_pool_member_down(w.pool, 1));
    close_two(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin_logs_in_each_once),
        cmocka_unit_test(test_busy_member_skipped),
        cmocka_unit_test(test_removed_member_fails_over_and_rejoins),
        cmocka_unit_test(test_login_failures),
        cmocka_unit_test(test_all_members_gone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
