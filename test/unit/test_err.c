/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/err.c: one error queue and one way to silence an expected failure.
 * Without a handler a raised error is on OpenSSL's queue under pico's library
 * with its reason and detail; pico_err_mark/pico_err_pop_to_mark take what
 * was raised in between (by pico or by OpenSSL) off the queue and nothing
 * else; pico_err_clear_mark keeps it; the trace says "note" inside a mark.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "log.h"

static void raised_error_is_on_openssl_queue(void **state)
{
    const char *data = NULL, *file = NULL;
    unsigned long e;
    int flags = 0, line = 0;

    (void)state;
    ERR_clear_error();
    assert_int_equal(pico_err_raise(PICO_E_PIN_INCORRECT, "VERIFY: %d tries left", 2),
                     PICO_E_PIN_INCORRECT);
    e = ERR_get_error_all(&file, &line, NULL, &data, &flags);
    assert_int_equal(ERR_GET_LIB(e), pico_err_lib());
    assert_int_equal(ERR_GET_REASON(e), PICO_E_PIN_INCORRECT);
    assert_string_equal(ERR_reason_error_string(e), "pin incorrect");
    assert_string_equal(ERR_lib_error_string(e), "pico");
    assert_true((flags & ERR_TXT_STRING) != 0);
    assert_string_equal(data, "VERIFY: 2 tries left");
    assert_non_null(strstr(file, "test_err.c"));
    assert_int_equal(ERR_peek_error(), 0);
}

static void mark_pops_what_was_raised_since(void **state)
{
    (void)state;
    ERR_clear_error();
    pico_err_raise(PICO_E_NOT_FOUND, "before");
    pico_err_mark();
    pico_err_raise(PICO_E_NO_DEVICE, "an empty reader");
    /* OpenSSL's own errors too */
    assert_null(EVP_MD_fetch(NULL, "nosuchdigest", NULL));
    pico_err_mark(); /* nested */
    pico_err_raise(PICO_E_COMM, "inner");
    pico_err_pop_to_mark();
    /* the inner mark took "inner" only: OpenSSL's error is the last one again */
    assert_int_not_equal(ERR_GET_LIB(ERR_peek_last_error()), pico_err_lib());
    pico_err_pop_to_mark();
    assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), PICO_E_NOT_FOUND);
    assert_int_equal(ERR_GET_REASON(ERR_get_error()), PICO_E_NOT_FOUND);
    assert_int_equal(ERR_peek_error(), 0);
}

static void clear_mark_keeps_a_real_failure(void **state)
{
    (void)state;
    ERR_clear_error();
    pico_err_mark();
    pico_err_raise(PICO_E_DEVICE, "a real one");
    pico_err_clear_mark();
    assert_int_equal(ERR_GET_REASON(ERR_get_error()), PICO_E_DEVICE);
    /* the mark is gone: a pop now takes nothing of the caller's */
    pico_err_raise(PICO_E_ARGS, "the caller's");
    pico_err_mark();
    pico_err_pop_to_mark();
    assert_int_equal(ERR_GET_REASON(ERR_get_error()), PICO_E_ARGS);
}

static void trace_says_note_inside_a_mark(void **state)
{
    char path[] = "/tmp/test_err_XXXXXX", line[512];
    int fd = mkstemp(path), notes = 0, errs = 0;
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    pico_log_init(path);
    pico_err_mark();
    pico_err_raise(PICO_E_NO_DEVICE, "expected");
    pico_err_pop_to_mark();
    pico_err_raise(PICO_E_PIN_BLOCKED, "real");
    pico_log_init("0");
    ERR_clear_error();
    assert_non_null(f = fopen(path, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        notes += strstr(line, " note device not found in any reader: expected") != NULL;
        errs += strstr(line, " ERR pin blocked") != NULL && strstr(line, "real") != NULL;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(notes, 1);
    assert_int_equal(errs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raised_error_is_on_openssl_queue),
        cmocka_unit_test(mark_pops_what_was_raised_since),
        cmocka_unit_test(clear_mark_keeps_a_real_failure),
        cmocka_unit_test(trace_says_note_inside_a_mark),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
