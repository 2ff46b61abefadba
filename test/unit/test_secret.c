/* SPDX-License-Identifier: Apache-2.0 */
/* PIN sources (common/secret.c): file:, env:, fd:; errors never echo the secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "smaps.h"

#include "secret.h"

static char last_error[512];

static void record(void *arg, pico_err code, const char *file, int line, const char *func,
                   const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
}

static void test_secret_file_first_line(void **state)
{
    char path[] = "/tmp/pico-secret-XXXXXX", buf[32], src[64];
    size_t len;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "648219\r\nsecond\n", 15), 15);
    close(fd);
    snprintf(src, sizeof(src), "file:%s", path);
    assert_int_equal(pico_secret_read(src, buf, sizeof(buf), &len), PICO_OK);
    assert_string_equal(buf, "648219");
    assert_int_equal(len, 6);
    unlink(path);
    assert_int_equal(pico_secret_read(src, buf, sizeof(buf), &len), PICO_E_SECRET_SOURCE);
}

static void test_secret_env_and_fd(void **state)
{
    char buf[32], src[16];
    size_t len;
    int p[2];

    setenv("PICO_TEST_PIN", "123456", 1);
    assert_int_equal(pico_secret_read("env:PICO_TEST_PIN", buf, sizeof(buf), &len), PICO_OK);
    assert_string_equal(buf, "123456");
    assert_int_equal(pico_secret_read("env:PICO_TEST_NOPE", buf, sizeof(buf), &len),
                     PICO_E_SECRET_SOURCE);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "9999\n", 5), 5);
    close(p[1]);
    snprintf(src, sizeof(src), "fd:%d", p[0]);
    assert_int_equal(pico_secret_read(src, buf, sizeof(buf), &len), PICO_OK);
    assert_string_equal(buf, "9999");
    close(p[0]);
    assert_int_equal(pico_secret_read("fd:x1", buf, sizeof(buf), &len), PICO_E_SECRET_SOURCE);
}

/* A value too long is refused, not truncated; an unknown scheme does not echo the value
 * (someone may have written the PIN itself as the source). */
static void test_secret_errors(void **state)
{
    char buf[8];
    size_t len;

    setenv("PICO_TEST_LONG", "1234567890", 1);
    assert_int_equal(pico_secret_read("env:PICO_TEST_LONG", buf, sizeof(buf), &len),
                     PICO_E_SECRET_SOURCE);
    pico_err_set_handler(record, NULL);
    assert_int_equal(pico_secret_read("648219", buf, sizeof(buf), &len), PICO_E_SECRET_SOURCE);
    assert_null(strstr(last_error, "648219"));
    pico_err_set_handler(NULL, NULL);
}


/* a held PIN: the same bytes, NUL-terminated, in a mapping core dumps leave out ("dd") */
static void test_secret_hold_not_dumped(void **state)
{
    char *held = pico_secret_hold("648219xx", 6), flags[512];

    assert_non_null(held);
    assert_string_equal(held, "648219");
    vmflags_of(held, flags, sizeof(flags));
    assert_non_null(strstr(flags, " dd"));
    pico_secret_release(held);
    pico_secret_release(NULL);
    assert_null(pico_secret_hold("x", PICO_SECRET_HELD_MAX + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_file_first_line),
        cmocka_unit_test(test_secret_env_and_fd),
        cmocka_unit_test(test_secret_errors),
        cmocka_unit_test(test_secret_hold_not_dumped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
