/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The quoting of settings strings (common/words.c) and pico-pkcs11's settings parser on it
 * (pkcs11/config.c: x-init-reserved as p11-kit passes it, raw, and the PICO_PKCS11_CONFIG
 * file).
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

#include "module.h"
#include "words.h"

p11_module p11; /* the module's state, which config.c fills */

/* The words of s joined with '|', or "ERR: why". */
static void words(const char *s, const char *seps, char *out, size_t cap)
{
    char *copy = strdup(s), *p = copy, *w;
    const char *why = NULL;
    int rc;

    out[0] = '\0';
    while ((rc = pico_word_next(&p, seps, &w, &why)) == 1)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] != '\0' ? "|" : "", w);
    if (rc < 0)
        snprintf(out, cap, "ERR: %s", why);
    free(copy);
}

static void test_words_split_and_unquote(void **state)
{
    char out[256];

    words("a b\tc", ";", out, sizeof(out));
    assert_string_equal(out, "a|b|c");
    words(" ;; pin-source=file:\"/tmp/dir with space/pin\";debug=stderr ", ";", out, sizeof(out));
    assert_string_equal(out, "pin-source=file:/tmp/dir with space/pin|debug=stderr");
    words("\"pka-key=file:/a b;c.pem\" x", ";", out, sizeof(out));
    assert_string_equal(out, "pka-key=file:/a b;c.pem|x");
    words("k=\"say \\\"hi\\\" \\\\ \" k=a\\b", "", out, sizeof(out));
    assert_string_equal(out, "k=say \"hi\" \\ |k=a\\b"); /* outside quotes \ is itself */
    words("k=\"\" \"\"", "", out, sizeof(out));
    assert_string_equal(out, "k=|");
    words("   ", ";", out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_words_malformed(void **state)
{
    char out[256];

    words("a pin-source=\"file:/x y", ";", out, sizeof(out));
    assert_string_equal(out, "ERR: an unterminated quote");
    words("k=\"a\\", "", out, sizeof(out));
    assert_string_equal(out, "ERR: an unterminated quote");
    words("k=\"a\\n\"", "", out, sizeof(out));
    assert_string_equal(out, "ERR: a backslash before other than \" or \\ inside quotes");
}

static void test_words_quote_round_trip(void **state)
{
    static const char *const cases[] = {"", "plain", "a b", "say \"hi\"", "back\\slash", ";\t;"};
    const char *why;
    char *q, *p, *w, value[] = "file:\"/a b/\\\"q\\\"\" tail";
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_non_null(q = pico_word_quote(cases[i]));
        p = q;
        assert_int_equal(pico_word_next(&p, ";", &w, &why), 1);
        assert_string_equal(w, cases[i]);
        assert_int_equal(pico_word_next(&p, ";", &w, &why), 0);
        free(q);
    }
    assert_int_equal(pico_word_unquote(value, &why), 0);
    assert_string_equal(value, "file:/a b/\"q\" tail"); /* blanks outside quotes kept */
}

/* x-init-reserved reaches C_Initialize raw: quoted values with blanks, errors named. */
static void test_config_reserved_quoted(void **state)
{
    assert_int_equal(p11_config_load("pin-source=file:\"/tmp/dir with space/pin\"; "
                                     "pka-key=\"file:/k 1.pem\" pka-key=file:/k2.pem "
                                     "reader=\"Reader; A\""),
                     CKR_OK);
    assert_string_equal(p11.cfg.pin_source, "file:/tmp/dir with space/pin");
    assert_string_equal(p11.cfg.default_reader, "Reader; A");
    /* the device layer takes the PKA key list quoted, one word a key */
    assert_string_equal(p11.cfg.pka_keys, "\"file:/k 1.pem\" \"file:/k2.pem\"");
    assert_int_equal(p11_config_load("pin-source=\"file:/x"), CKR_ARGUMENTS_BAD);
    assert_null(p11.cfg.pin_source);
    assert_int_equal(p11_config_load("reader=\"a\\zb\""), CKR_ARGUMENTS_BAD);
    p11_config_free();
}

/* The file: a value may be quoted as a whole or in part; blanks outside quotes stay. */
static void test_config_file_quoted(void **state)
{
    char path[] = "/tmp/test_words_XXXXXX";
    FILE *f;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs("# quoted\npin-source = file:\"/tmp/dir with space/pin\"\n"
          "pka-key = \"file:/a \\\"b\\\".pem\"\nreader = Reader A\n",
          f);
    fclose(f);
    setenv("PICO_PKCS11_CONFIG", path, 1);
    assert_int_equal(p11_config_load(NULL), CKR_OK);
    assert_string_equal(p11.cfg.pin_source, "file:/tmp/dir with space/pin");
    assert_string_equal(p11.cfg.pka_keys, "\"file:/a \\\"b\\\".pem\"");
    assert_string_equal(p11.cfg.default_reader, "Reader A");
    assert_non_null(f = fopen(path, "w"));
    fputs("pin-source = \"file:/x\n", f);
    fclose(f);
    assert_int_equal(p11_config_load(NULL), CKR_ARGUMENTS_BAD);
    unsetenv("PICO_PKCS11_CONFIG");
    unlink(path);
    p11_config_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_split_and_unquote),
        cmocka_unit_test(test_words_malformed),
        cmocka_unit_test(test_words_quote_round_trip),
        cmocka_unit_test(test_config_reserved_quoted),
        cmocka_unit_test(test_config_file_quoted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
