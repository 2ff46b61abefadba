/* SPDX-License-Identifier: Apache-2.0 */
/* pico: URI parser and formatter (common/uri.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smaps.h"
#include <openssl/crypto.h>

#include "secret.h"
#include "uri.h"

static void test_uri_bare_scheme_matches_everything(void **state)
{
    pico_uri u;

    assert_int_equal(pico_uri_parse("pico:", &u, NULL), PICO_URI_OK);
    assert_null(u.token);
    assert_null(u.object);
    assert_int_equal(u.id_len, 0);
    assert_int_equal(u.type, PICO_OBJ_ANY);
    assert_int_equal(u.pin_last_try, -1);
    pico_uri_free(&u);
}

static void test_uri_path_and_query(void **state)
{
    pico_uri u;

    assert_int_equal(pico_uri_parse("pico:token=ESPICOHSMTR;object=web%20tls;id=01a2;type=private"
                                    "?pin-source=file:/run/pin&pka-key=file:/k1.pem"
                                    "&pka-key=pkcs11:token=a;object=b&pin-last-try=yes",
                                    &u, NULL),
                     PICO_URI_OK);
    assert_string_equal(u.token, "ESPICOHSMTR");
    assert_string_equal(u.object, "web tls");
    assert_int_equal(u.id_len, 2);
    assert_int_equal(u.id[0], 0x01);
    assert_int_equal(u.id[1], 0xa2);
    assert_int_equal(u.type, PICO_OBJ_PRIVATE);
    assert_string_equal(u.pin_source, "file:/run/pin");
    assert_int_equal(u.n_pka_keys, 2);
    assert_string_equal(u.pka_keys[0], "file:/k1.pem");
    /* a pkcs11: URI inside the query keeps its own ';' separators */
    assert_string_equal(u.pka_keys[1], "pkcs11:token=a;object=b");
    assert_int_equal(u.pin_last_try, 1);
    pico_uri_free(&u);
}

/* id= as percent-encoded bytes (RFC 7512) gives the same bytes as hex digits. */
static void test_uri_id_forms(void **state)
{
    pico_uri u;

    assert_int_equal(pico_uri_parse("pico:id=%01%A2", &u, NULL), PICO_URI_OK);
    assert_int_equal(u.id_len, 2);
    assert_int_equal(u.id[0], 0x01);
    assert_int_equal(u.id[1], 0xa2);
    pico_uri_free(&u);
    assert_int_equal(pico_uri_parse("pico:id=%31", &u, NULL), PICO_URI_OK);
    assert_int_equal(u.id_len, 1);
    assert_int_equal(u.id[0], '1');
    pico_uri_free(&u);
    assert_int_equal(pico_uri_parse("pico:id=123", &u, NULL), PICO_URI_ERR_VALUE);
    assert_int_equal(pico_uri_parse("pico:id=zz", &u, NULL), PICO_URI_ERR_VALUE);
}

static void test_uri_malformed(void **state)
{
    static const struct {
        const char *uri;
        pico_uri_err want;
    } cases[] = {
        {"pkcs11:object=a", PICO_URI_ERR_SCHEME},
        {"pico", PICO_URI_ERR_SCHEME},
        {"pico:object=a%2", PICO_URI_ERR_ENCODING},
        {"pico:object=a%zz", PICO_URI_ERR_ENCODING},
        {"pico:object=a%", PICO_URI_ERR_ENCODING},
        {"pico:object=a b", PICO_URI_ERR_ENCODING},
        {"pico:object=a&b", PICO_URI_ERR_ENCODING},
        {"pico:colour=red", PICO_URI_ERR_UNKNOWN},
        {"pico:pin-value=1234", PICO_URI_ERR_UNKNOWN}, /* a query attribute in the path */
        {"pico:?object=a", PICO_URI_ERR_UNKNOWN},      /* a path attribute in the query */
        {"pico:object=a;object=b", PICO_URI_ERR_DUPLICATE},
        {"pico:?pin-value=1&pin-value=2", PICO_URI_ERR_DUPLICATE},
        {"pico:object=", PICO_URI_ERR_EMPTY},
        {"pico:object", PICO_URI_ERR_EMPTY},
        {"pico:object=a;", PICO_URI_ERR_EMPTY},
        {"pico:;object=a", PICO_URI_ERR_EMPTY},
        {"pico:?", PICO_URI_ERR_EMPTY},
        {"pico:?pin-source=", PICO_URI_ERR_EMPTY},
        {"pico:type=secret", PICO_URI_ERR_VALUE},
        {"pico:object=a%00b", PICO_URI_ERR_VALUE},
        {"pico:?pin-last-try=maybe", PICO_URI_ERR_VALUE},
        {"pico:object=a?pin-value=1?x", PICO_URI_ERR_ENCODING},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pico_uri u;
        const char *at = NULL;
        pico_uri_err rc = pico_uri_parse(cases[i].uri, &u, &at);
        if (rc != cases[i].want)
            fail_msg("%s: got %d (%s), want %d", cases[i].uri, rc, pico_uri_strerror(rc),
                     cases[i].want);
        /* nothing is left allocated on failure */
        assert_null(u.object);
        assert_null(u.pin_value);
        assert_non_null(at);
    }
}

/* The error position names the attribute without its (possibly secret) value. */
static void test_uri_error_position(void **state)
{
    const char *s = "pico:object=a?pin-value=123456&pin-value=654321";
    const char *at = NULL;
    pico_uri u;

    assert_int_equal(pico_uri_parse(s, &u, &at), PICO_URI_ERR_DUPLICATE);
    assert_ptr_equal(at, strstr(s, "&pin-value=654321") + 1);
    assert_int_equal(pico_uri_attr_name_len(at), strlen("pin-value"));
}

static void test_uri_too_many_pka_keys(void **state)
{
    char buf[512] = "pico:?";
    pico_uri u;
    int i;

    for (i = 0; i < 9; i++)
        strcat(buf, i ? "&pka-key=file:k" : "pka-key=file:k");
    assert_int_equal(pico_uri_parse(buf, &u, NULL), PICO_URI_ERR_TOO_MANY);
}

/* The formatter writes the path only (never a PIN) and round-trips. */
static void test_uri_format_roundtrip(void **state)
{
    pico_uri u, v;
    char *s;

    assert_int_equal(pico_uri_parse("pico:object=web%20tls%3Bx;id=%00%ff;type=cert;token=T1"
                                    "?pin-value=648219",
                                    &u, NULL),
                     PICO_URI_OK);
    s = pico_uri_format(&u);
    assert_non_null(s);
    assert_string_equal(s, "pico:token=T1;object=web%20tls%3Bx;id=00ff;type=cert");
    assert_null(strstr(s, "648219"));
    assert_int_equal(pico_uri_parse(s, &v, NULL), PICO_URI_OK);
    assert_string_equal(v.object, "web tls;x");
    assert_int_equal(v.id_len, 2);
    assert_int_equal(v.id[1], 0xff);
    assert_int_equal(v.type, PICO_OBJ_CERT);
    free(s);
    pico_uri_free(&u);
    pico_uri_free(&v);
}

/* The one percent-decoder and the one hex decoder every parser uses. */
static void test_pct_and_hex_decoders(void **state)
{
    char *out = NULL;
    size_t len = 0;
    uint8_t id[4];

    (void)state;
    assert_int_equal(pico_pct_decode("a%2Fb%00c", 9, "", &out, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "a/b\0c", 5);
    OPENSSL_clear_free(out, 10);
    assert_int_equal(pico_pct_decode("a/b", 3, "/", &out, &len), 0);
    assert_string_equal(out, "a/b");
    OPENSSL_clear_free(out, 4);
    assert_int_equal(pico_pct_decode("a/b", 3, "", &out, &len), -1); /* '/' not plain here */
    assert_int_equal(pico_pct_decode("a%2", 3, "", &out, &len), -1); /* truncated escape */
    assert_int_equal(pico_pct_decode("a%zz", 4, "", &out, &len), -1);
    assert_int_equal(pico_pct_decode("a b", 3, " ", &out, &len), 0); /* the caller's set */
    OPENSSL_clear_free(out, 4);

    assert_int_equal(pico_hex_decode("01aB", 4, '\0', id, sizeof(id), &len), 0);
    assert_int_equal(len, 2);
    assert_int_equal(id[0], 0x01);
    assert_int_equal(id[1], 0xAB);
    assert_int_equal(pico_hex_decode("01:ab:ff", 8, ':', id, sizeof(id), &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(id[2], 0xFF);
    assert_int_equal(pico_hex_decode("01:ab", 5, '\0', id, sizeof(id), &len), -1);
    assert_int_equal(pico_hex_decode("012", 3, '\0', id, sizeof(id), &len), -1); /* odd */
    assert_int_equal(pico_hex_decode("0g", 2, '\0', id, sizeof(id), &len), -1);
    assert_int_equal(pico_hex_decode("0102030405", 10, '\0', id, sizeof(id), &len), -1); /* cap */
}


/*
 * pin-value, parsed or copied, lives in pico_secret_hold memory (left out of
 * core dumps: "dd"), not on the plain heap, and pico_uri_free gives the page
 * back; a value no PIN can have is refused.
 */
static void test_uri_pin_value_held_out_of_core_dumps(void **state)
{
    pico_uri u, v;
    char flags[512], *held_u, *held_v;
    char *long_pin = malloc(PICO_SECRET_HELD_MAX + 32);

    assert_int_equal(pico_uri_parse("pico:object=k?pin-value=64%38219", &u, NULL), PICO_URI_OK);
    assert_string_equal(u.pin_value, "648219");
    vmflags_of(u.pin_value, flags, sizeof(flags));
    assert_non_null(strstr(flags, " dd"));
    assert_int_equal(pico_uri_dup(&u, &v), 1);
    assert_string_equal(v.pin_value, "648219");
    assert_ptr_not_equal(v.pin_value, u.pin_value);
    vmflags_of(v.pin_value, flags, sizeof(flags));
    assert_non_null(strstr(flags, " dd"));
    held_u = u.pin_value;
    held_v = v.pin_value;
    pico_uri_free(&u);
    assert_null(u.pin_value);
    vmflags_of(held_u, flags, sizeof(flags));
    assert_string_equal(flags, ""); /* unmapped: pico_secret_release, not free() */
    assert_string_equal(v.pin_value, "648219");
    pico_uri_free(&v);
    vmflags_of(held_v, flags, sizeof(flags));
    assert_string_equal(flags, "");
    /* a URI without a PIN copies without one */
    assert_int_equal(pico_uri_parse("pico:object=k", &u, NULL), PICO_URI_OK);
    assert_int_equal(pico_uri_dup(&u, &v), 1);
    assert_null(v.pin_value);
    pico_uri_free(&u);
    pico_uri_free(&v);
    /* longer than anything held: refused, nothing left behind */
    assert_non_null(long_pin);
    strcpy(long_pin, "pico:?pin-value=");
    memset(long_pin + 16, '7', PICO_SECRET_HELD_MAX + 1);
    long_pin[16 + PICO_SECRET_HELD_MAX + 1] = '\0';
    assert_int_equal(pico_uri_parse(long_pin, &u, NULL), PICO_URI_ERR_VALUE);
    assert_null(u.pin_value);
    free(long_pin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_and_hex_decoders),
        cmocka_unit_test(test_uri_bare_scheme_matches_everything),
        cmocka_unit_test(test_uri_path_and_query),
        cmocka_unit_test(test_uri_id_forms),
        cmocka_unit_test(test_uri_malformed),
        cmocka_unit_test(test_uri_error_position),
        cmocka_unit_test(test_uri_too_many_pka_keys),
        cmocka_unit_test(test_uri_format_roundtrip),
        cmocka_unit_test(test_uri_pin_value_held_out_of_core_dumps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
