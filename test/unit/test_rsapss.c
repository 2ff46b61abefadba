/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/rsapss.c: an RSA-PSS key's restrictions from its description's
 * AlgorithmIdentifier, as OpenSSL writes them (the vectors are the
 * AlgorithmIdentifiers of `openssl genpkey -algorithm RSA-PSS` keys), with
 * RFC 4055's defaults; an RSA key without them is no PSS key; parameters that
 * cannot be read are an error, not "unrestricted".
 */
#include <openssl/objects.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rsapss.h"
#include "uri.h"

/* rsa_pss_keygen_md:sha256, _mgf1_md:sha256, _saltlen:32 */
static const char *const RESTRICTED =
    "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
    "08300d06096086480165030402010500a203020120";
/* rsa_pss_keygen_md:sha512, _saltlen:64 (MGF1 left out: SHA-1) */
static const char *const NO_MGF = "302306092a864886f70d01010a3016a00f300d0609608648016503040203050"
                                  "0a203020140";
static const char *const UNRESTRICTED = "300b06092a864886f70d01010a";
static const char *const RSA_ENCRYPTION = "300d06092a864886f70d0101010500";
/* RESTRICTED with trailerField [3] 2, then with saltLength -1, then params not a SEQUENCE */
static const char *const TRAILER_2 =
    "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
    "08300d06096086480165030402010500a203020120a303020102";
static const char *const SALT_NEG =
    "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d0101"
    "08300d06096086480165030402010500a2030201ff";
static const char *const NOT_SEQ = "300e06092a864886f70d01010a040100";

static pico_err params_of(const char *hex, pico_key_type type, pico_pss_params *pp)
{
    pico_key k;
    size_t len = 0;

    memset(&k, 0, sizeof(k));
    k.type = type;
    assert_int_equal(pico_hex_decode(hex, strlen(hex), 0, k.algid, sizeof(k.algid), &len), 0);
    k.algid_len = len;
    return pico_key_pss_params(&k, pp);
}

static void restricted_key(void **state)
{
    pico_pss_params pp;

    (void)state;
    assert_int_equal(params_of(RESTRICTED, PICO_KEY_RSA, &pp), PICO_OK);
    assert_true(pp.pss && pp.restricted);
    assert_int_equal(pp.md_nid, NID_sha256);
    assert_int_equal(pp.mgf1_nid, NID_sha256);
    assert_int_equal(pp.min_salt, 32);
    assert_int_equal(params_of(NO_MGF, PICO_KEY_RSA, &pp), PICO_OK);
    assert_true(pp.pss && pp.restricted);
    assert_int_equal(pp.md_nid, NID_sha512);
    assert_int_equal(pp.mgf1_nid, NID_sha1);
    assert_int_equal(pp.min_salt, 64);
}

static void unrestricted_and_other_keys(void **state)
{
    pico_pss_params pp;

    (void)state;
    assert_int_equal(params_of(UNRESTRICTED, PICO_KEY_RSA, &pp), PICO_OK);
    assert_true(pp.pss && !pp.restricted);
    assert_int_equal(params_of(RSA_ENCRYPTION, PICO_KEY_RSA, &pp), PICO_OK);
    assert_false(pp.pss);
    /* an EC key with the same bytes is no RSA-PSS key */
    assert_int_equal(params_of(RESTRICTED, PICO_KEY_EC, &pp), PICO_OK);
    assert_false(pp.pss);
}

static void unreadable_parameters_are_an_error(void **state)
{
    pico_pss_params pp;

    (void)state;
    assert_int_equal(params_of(TRAILER_2, PICO_KEY_RSA, &pp), PICO_E_BAD_RESPONSE);
    assert_true(pp.pss && !pp.restricted);
    assert_int_equal(params_of(SALT_NEG, PICO_KEY_RSA, &pp), PICO_E_BAD_RESPONSE);
    assert_int_equal(params_of(NOT_SEQ, PICO_KEY_RSA, &pp), PICO_E_BAD_RESPONSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restricted_key),
        cmocka_unit_test(unrestricted_and_other_keys),
        cmocka_unit_test(unreadable_parameters_are_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
