/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/busy.c: a device's busy mark, seen by every process. One holder at a
 * time (this process or another), given back by pico_busy_give or by the
 * holder's death; a name per reader and per pcscd; an empty name never busy.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "busy.h"

/* a name of this test run's own: parallel runs of the suite do not meet */
static void test_name(const char *reader, char name[PICO_BUSY_NAME_LEN])
{
    char r[128];

    snprintf(r, sizeof(r), "%s %ld", reader, (long)getpid());
    pico_busy_name(r, name);
}

static void one_holder_at_a_time(void **state)
{
    char name[PICO_BUSY_NAME_LEN];
    int a, b;

    (void)state;
    test_name("Virtual Pico HSM 0 00", name);
    a = pico_busy_take(name);
    assert_true(a >= 0);
    assert_int_equal(pico_busy_take(name), PICO_BUSY_HELD);
    pico_busy_give(a);
    b = pico_busy_take(name);
    assert_true(b >= 0);
    pico_busy_give(b);
}

static void names_per_reader_and_pcscd(void **state)
{
    char a[PICO_BUSY_NAME_LEN], b[PICO_BUSY_NAME_LEN], c[PICO_BUSY_NAME_LEN];
    char none[PICO_BUSY_NAME_LEN] = "";
    int ma, mb;

    (void)state;
    setenv("PCSCLITE_CSOCK_NAME", "/tmp/one/pcscd.comm", 1);
    test_name("Virtual Pico HSM 0 00", a);
    test_name("Virtual Pico HSM 0 01", b);
    setenv("PCSCLITE_CSOCK_NAME", "/tmp/two/pcscd.comm", 1);
    test_name("Virtual Pico HSM 0 00", c);
    unsetenv("PCSCLITE_CSOCK_NAME");
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    ma = pico_busy_take(a);
    mb = pico_busy_take(b);
    assert_true(ma >= 0 && mb >= 0); /* another device is not busy with this one */
    pico_busy_give(ma);
    pico_busy_give(mb);
    assert_int_equal(pico_busy_take(none), PICO_BUSY_NONE);
}

/* A forked child takes the mark; the parent sees it held; the child's death (SIGKILL: no
 * give) frees it. */
static void another_process_holds_until_it_dies(void **state)
{
    char name[PICO_BUSY_NAME_LEN], c;
    int ready[2], m, st;
    pid_t pid;

    (void)state;
    test_name("Virtual Pico HSM 2 00", name);
    assert_int_equal(pipe(ready), 0);
    if ((pid = fork()) == 0) {
        c = pico_busy_take(name) >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    assert_int_equal(pico_busy_take(name), PICO_BUSY_HELD);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    m = pico_busy_take(name);
    assert_true(m >= 0);
    pico_busy_give(m);
    close(ready[0]);
    close(ready[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_holder_at_a_time),
        cmocka_unit_test(names_per_reader_and_pcscd),
        cmocka_unit_test(another_process_holds_until_it_dies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
