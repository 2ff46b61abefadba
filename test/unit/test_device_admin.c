/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device-level changes (common/device_admin.c) against a scripted transport: each
 * test pins the command sequence of sc-hsm-protocol.md (6.7, 6.8, 3, 4.2, 4.3, 5.3) and
 * what the device object knows afterwards. A command the script does not expect (a list
 * read again, a file read twice) fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "device_int.h"
#include "schsm.h"
#include "script_transport.h"
#include "secret.h"

#define AID "E8 2B 06 01 04 01 81 C3 1F 02 01"
#define FCP                                                                                        \
    "62 22 81 02 00 00 82 01 01 83 02 00 00 84 0B 2B 06 01 04 01 81 C3 1F 02 01 00 "               \
    "8A 01 05 85 05 00 01 FF 06 06"
#define SELECT                                                                                     \
    {                                                                                              \
        "00 A4 04 00 0B " AID " 00", FCP " 90 00"                                                  \
    }
#define SO_HEX "35 37 36 32 31 38 38 30"

static const uint8_t so[8] = {0x35, 0x37, 0x36, 0x32, 0x31, 0x38, 0x38, 0x30};

static pico_device *open_dev(const script_step *steps, pico_transport **t)
{
    pico_device *d = NULL;

    pico_device_init();
    *t = script_transport_new(steps);
    assert_int_equal(pico_dev_open("Test Reader 00", *t, &d), PICO_OK);
    return d;
}

static void close_dev(pico_device *d, pico_transport *t)
{
    script_transport_done(t); /* frees it */
    d->card->t = NULL;
    pico_device_cleanup();
}

/* The key list read (no descriptions: the tests set what they need). */
static void list(pico_device *d)
{
    assert_int_equal(pico_dev_enter(d), PICO_OK);
    assert_int_equal(pico_dev_list(d), PICO_OK);
    pico_dev_leave(d);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02X ", p[i]);
    out[3 * n] = '\0';
}

/* 6.7: UPDATE BINARY of fid with data at offset 0, short or extended by its length. */
static char *update_apdu(uint16_t fid, const uint8_t *data, size_t n)
{
    uint8_t b[2048];
    size_t k = 0, lc = 4 + 1 + (n >= 0x80) + (n >= 0x100) + 1 + n;
    char *out = malloc(3 * (sizeof(b)) + 1);

    assert_true(n < 1024 && out != NULL);
    b[k++] = 0x00;
    b[k++] = 0xD7;
    b[k++] = (uint8_t)(fid >> 8);
    b[k++] = (uint8_t)fid;
    if (lc > 255) {
        b[k++] = 0;
        b[k++] = (uint8_t)(lc >> 8);
    }
    b[k++] = (uint8_t)lc;
    memcpy(b + k, "\x54\x02\x00\x00\x53", 5);
    k += 5;
    if (n >= 0x100)
        b[k++] = 0x82, b[k++] = (uint8_t)(n >> 8);
    else if (n >= 0x80)
        b[k++] = 0x81;
    b[k++] = (uint8_t)n;
    memcpy(b + k, data, n);
    hex(b, k + n, out);
    return out;
}

/* A self-signed certificate of a new P-256 key. */
static X509 *make_cert(EVP_PKEY **key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(*key);
    assert_true(x != NULL && name != NULL);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, *key);
    assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

static char *cert_update(uint16_t fid, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    char *s;

    assert_true(n > 0);
    s = update_apdu(fid, der, (size_t)n);
    OPENSSL_free(der);
    return s;
}

/* 6.8: CC, C4, CE deleted; the key leaves the list, its files the FIDs; the others stay,
 * and the deleted object is still readable memory. */
static void test_delete_key_keeps_the_others(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"80 58 00 00 00 00 00", "CC 01 C4 01 CE 01 CC 02 CE 02 90 00"},
        {"00 E4 02 00 02 CC 01", "90 00"},
        {"00 E4 02 00 02 C4 01", "90 00"},
        {"00 E4 02 00 02 CE 01", "90 00"},
        {NULL},
    };
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    pico_key *k1;
    int files = -1;

    list(d);
    assert_int_equal(d->nkeys, 2);
    k1 = d->keys[0];
    assert_int_equal(pico_device_delete_key(d, k1, &files), PICO_OK);
    assert_int_equal(files, 2);
    assert_int_equal(d->nkeys, 1);
    assert_int_equal(d->keys[0]->keyref, 2);
    assert_false(pico_dev_has_fid(d, 0xCC01) || pico_dev_has_fid(d, 0xC401) ||
                 pico_dev_has_fid(d, 0xCE01));
    assert_true(pico_dev_has_fid(d, 0xCC02) && pico_dev_has_fid(d, 0xCE02));
    assert_int_equal(d->listed, 1);
    /* the caller's pointer names a key no longer there: refused without a command */
    assert_int_equal(k1->keyref, 1);
    assert_int_equal(pico_device_delete_key(d, k1, NULL), PICO_E_NOT_FOUND);
    assert_int_equal(pico_device_apdus(d), 5);
    close_dev(d, t);
}

/* A deletion that fails after CCxx went: the key list is read again at the next use. */
static void test_delete_key_failure_reads_the_list_again(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"80 58 00 00 00 00 00", "CC 01 C4 01 CC 02 90 00"},
        {"00 E4 02 00 02 CC 01", "90 00"},
        {"00 E4 02 00 02 C4 01", "69 82"},
        {"80 58 00 00 00 00 00", "C4 01 CC 02 90 00"},
        {NULL},
    };
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    pico_key *k1;

    list(d);
    k1 = d->keys[0];
    assert_int_not_equal(pico_device_delete_key(d, k1, NULL), PICO_OK);
    assert_int_equal(d->listed, 0);
    assert_int_equal(d->nkeys, 0);
    assert_int_equal(k1->keyref, 1); /* kept allocated */
    list(d);
    assert_int_equal(d->nkeys, 1);
    assert_int_equal(d->keys[0]->keyref, 2);
    close_dev(d, t);
}

/* 6.6/6.7: a key's certificate in CExx; another key's certificate is refused unsent. */
static void test_put_cert_with_key(void **state)
{
    script_step steps[] = {
        SELECT,          {"80 58 00 00 00 00 00", "CC 01 C4 01 CE 01 90 00"},
        {NULL, "90 00"}, {NULL, "90 00"},
        {NULL},
    };
    EVP_PKEY *pk, *other_pk;
    X509 *x = make_cert(&pk), *other = make_cert(&other_pk);
    pico_transport *t;
    pico_device *d;
    pico_key *k;
    EVP_PKEY *pub;
    int replaced = -1;

    steps[2].cmd = steps[3].cmd = cert_update(0xCE01, x);
    d = open_dev(steps, &t);
    list(d);
    k = d->keys[0];
    k->pub = pk; /* as read from the CV request: the test reads no CE01 */
    k->pub_loaded = 1;
    assert_int_equal(pico_device_put_cert(d, k, other, NULL, NULL, 0, NULL), PICO_E_ARGS);
    assert_int_equal(pico_device_put_cert(d, k, x, NULL, NULL, 0, &replaced), PICO_OK);
    assert_int_equal(replaced, 0);
    assert_ptr_equal(k->cert, x);
    assert_int_equal(pico_device_key_public(k, &pub), PICO_OK);
    assert_ptr_equal(pub, pk); /* the same object: callers may hold it */
    assert_int_equal(pico_device_put_cert(d, k, x, NULL, NULL, 0, &replaced), PICO_OK);
    assert_int_equal(replaced, 1);
    assert_int_equal(pico_device_apdus(d), 4);
    close_dev(d, t);
    free((char *)steps[2].cmd);
    X509_free(x);
    X509_free(other);
    EVP_PKEY_free(other_pk);
}

/* 6.1: without a key, CA<xx> then its description C8<xx>, the first free xx, in OpenSC's
 * shape (the bytes pkcs11-tool --write-object wrote on the virtual device for "myca", id
 * 42, but in CA01: C800 is taken); the certificate list has it without a read. */
static void test_put_cert_without_key(void **state)
{
    script_step steps[] = {
        SELECT,
        {"80 58 00 00 00 00 00", "CC 01 C4 01 C8 00 90 00"},
        {NULL, "90 00"},
        {"00 D7 C8 01 23 54 02 00 00 53 1D 30 1B 30 0A 0C 04 6D 79 63 61 03 02 06 40 30 03 04 01 "
         "42 A1 08 30 06 30 04 04 02 CA 01",
         "90 00"},
        {NULL},
    };
    static const uint8_t id42[] = {0x42}, id01[] = {0x01};
    EVP_PKEY *pk;
    X509 *x = make_cert(&pk);
    pico_transport *t;
    pico_device *d;
    pico_cert **certs;
    size_t n;

    steps[2].cmd = cert_update(0xCA01, x);
    d = open_dev(steps, &t);
    list(d);
    d->keys[0]->desc_loaded = 1; /* its PrKD, as read: id 01 */
    d->keys[0]->id[0] = 0x01;
    d->keys[0]->id_len = 1;
    d->certs_read = 1; /* C800 read before: no certificate in it */
    assert_int_equal(pico_device_put_cert(d, NULL, x, "myca", id01, 1, NULL), PICO_E_ARGS);
    assert_int_equal(pico_device_put_cert(d, NULL, x, "myca", NULL, 0, NULL), PICO_E_ARGS);
    assert_int_equal(pico_device_put_cert(d, NULL, x, "myca", id42, 1, NULL), PICO_OK);
    assert_true(pico_dev_has_fid(d, 0xC801));
    assert_int_equal(pico_device_certs(d, &certs, &n), PICO_OK);
    assert_int_equal(n, 1);
    assert_string_equal(certs[0]->label, "myca");
    assert_int_equal(certs[0]->fid, 0xCA01);
    assert_memory_equal(certs[0]->id, id42, 1);
    assert_int_equal(X509_cmp(certs[0]->x509, x), 0);
    assert_int_equal(pico_device_apdus(d), 4);
    close_dev(d, t);
    free((char *)steps[2].cmd);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* 3, 4.1: INITIALIZE, VERIFY of the new PIN, then everything forgotten: the next use
 * selects again (the options changed) and reads the key list again. */
static void test_initialize_forgets_everything(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"80 58 00 00 00 00 00", "CC 01 90 00"},
        {"80 50 00 00 19 80 02 00 01 81 06 36 34 38 32 31 39 82 08 " SO_HEX " 91 01 03", "90 00"},
        {"00 20 00 81 06 36 34 38 32 31 39", "90 00"},
        SELECT,
        {"80 58 00 00 00 00 00", "90 00"},
        {NULL},
    };
    pico_init_spec spec = {PICO_OPT_RESET_RETRY, "648219", so, 3, -1, 0, 0, 0};
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    pico_init_result res;
    pico_select_info info;
    pico_key *k1;

    list(d);
    k1 = d->keys[0];
    d->logged_in = 1;
    d->held_pin = pico_secret_hold("123456", 6);
    assert_int_equal(pico_device_initialize(d, &spec, NULL, &res), PICO_OK);
    assert_int_equal(res.pin_verified, 1);
    assert_int_equal(d->listed, 0);
    assert_int_equal(d->nkeys, 0);
    assert_int_equal(d->logged_in, 0);
    assert_null(d->held_pin);
    assert_int_equal(k1->keyref, 1); /* kept allocated */
    assert_int_equal(pico_device_select_info(d, &info), PICO_OK);
    list(d);
    assert_int_equal(d->nkeys, 0);
    close_dev(d, t);
}

static pico_err refuse(void *arg, pico_card *card)
{
    (void)arg;
    (void)card;
    return pico_err_raise(PICO_E_PIN_LAST_TRY, "test");
}

/* 4.2: a refused old PIN is never sent again; a new PIN drops the held one and the refused
 * ones; a check that fails sends nothing. */
static void test_change_pin_keeps_the_pin_rules(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"00 24 00 81 0C 31 31 31 31 31 31 36 36 36 36 36 36", "63 C2"},
        {"00 24 00 81 0C 36 34 38 32 31 39 31 32 33 34 35 36", "90 00"},
        {NULL},
    };
    pico_admin_steps check = {refuse, NULL, NULL};
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    int tries = 0;

    d->logged_in = 1;
    d->held_pin = pico_secret_hold("648219", 6);
    d->held_len = 6;
    assert_int_equal(pico_device_change_pin(d, PICO_PIN_USER, (const uint8_t *)"111111", 6,
                                            (const uint8_t *)"666666", 6, &check, &tries),
                     PICO_E_PIN_LAST_TRY);
    assert_int_equal(d->logged_in, 1);
    assert_int_equal(pico_device_change_pin(d, PICO_PIN_USER, (const uint8_t *)"111111", 6,
                                            (const uint8_t *)"666666", 6, NULL, &tries),
                     PICO_E_PIN_INCORRECT);
    assert_int_equal(tries, 2);
    assert_int_equal(d->logged_in, 0);
    assert_int_equal(d->refused.n, 1);
    assert_non_null(d->held_pin); /* a PIN that did work: its own rule drops it if refused */
    assert_int_equal(pico_device_change_pin(d, PICO_PIN_USER, (const uint8_t *)"648219", 6,
                                            (const uint8_t *)"123456", 6, NULL, &tries),
                     PICO_OK);
    assert_int_equal(d->refused.n, 0);
    assert_null(d->held_pin);
    assert_int_equal(d->selected, 1); /* keys, name, SELECT answer: unchanged */
    close_dev(d, t);
}

/* 4.3: P1=00 with a new PIN, P1=01 counter only; the session RRC opened ends with a SELECT
 * at the next use. */
static void test_unblock_selects_again(void **state)
{
    static const script_step steps[] = {
        SELECT, {"00 2C 00 81 0E " SO_HEX " 36 34 38 32 31 39", "90 00"},
        SELECT, {"00 2C 01 81 08 " SO_HEX, "90 00"},
        SELECT, {NULL},
    };
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    pico_select_info info;
    int tries;

    d->held_pin = pico_secret_hold("111111", 6);
    assert_int_equal(
        pico_device_unblock_pin(d, so, sizeof(so), (const uint8_t *)"648219", 6, NULL, &tries),
        PICO_OK);
    assert_int_equal(d->selected, 0);
    assert_null(d->held_pin);
    assert_int_equal(pico_device_select_info(d, &info), PICO_OK);
    d->held_pin = pico_secret_hold("648219", 6);
    assert_int_equal(pico_device_unblock_pin(d, so, sizeof(so), NULL, 0, NULL, &tries), PICO_OK);
    assert_non_null(d->held_pin); /* counter only: the PIN is the same */
    assert_int_equal(pico_device_select_info(d, &info), PICO_OK);
    close_dev(d, t);
}

static int reported;

static pico_err report(void *arg, pico_card *card)
{
    (void)arg;
    (void)card;
    reported++;
    return PICO_OK;
}

/* 5.3: add, replace; the report runs after a success only, in the same transaction. */
static void test_pka_register(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"80 54 00 00 00 00 04 67 02 7F 21 01 00", "03 02 02 00 90 00"},
        {"80 54 01 02 00 00 04 67 02 7F 21 01 00", "69 85"},
        {NULL},
    };
    static const uint8_t req[] = {0x67, 0x02, 0x7F, 0x21};
    pico_admin_steps s = {NULL, report, NULL};
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    uint8_t st[4];

    reported = 0;
    d->logged_in = 1;
    assert_int_equal(pico_device_pka_register(d, -1, req, sizeof(req), &s, st), PICO_OK);
    assert_memory_equal(st, "\x03\x02\x02\x00", 4);
    assert_int_equal(d->logged_in, 0);
    assert_int_not_equal(pico_device_pka_register(d, 2, req, sizeof(req), &s, st), PICO_OK);
    assert_int_equal(reported, 1);
    close_dev(d, t);
}

static pico_err verify_wrong(void *arg, pico_card *card)
{
    int tries;

    (void)arg;
    return pico_schsm_verify(card, PICO_PIN_USER, (const uint8_t *)"111111", 6, &tries);
}

/* 4.1: the caller's own VERIFY drops the PIN sessions: the object claims no login after. */
static void test_run_login_takes_the_login_as_gone(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"00 20 00 81 06 31 31 31 31 31 31", "63 C2"},
        {NULL},
    };
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);

    d->logged_in = 1;
    assert_int_equal(pico_device_run_login(d, verify_wrong, NULL), PICO_E_PIN_INCORRECT);
    assert_int_equal(d->logged_in, 0);
    assert_false(pico_device_logged_in(d));
    close_dev(d, t);
}

/* 4.1: the SO login is one VERIFY 88 with the 8 SO-PIN bytes, after the check; the user
 * login is gone afterwards, right or wrong; a failed check sends nothing. */
static void test_so_login_verifies_88(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"00 20 00 88 08 " SO_HEX, "63 CE"},
        {"00 20 00 88 08 " SO_HEX, "90 00"},
        {NULL},
    };
    pico_admin_steps check = {refuse, NULL, NULL};
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    int tries = 0;

    d->logged_in = 1;
    assert_int_equal(pico_device_so_login(d, so, sizeof(so), &check, &tries), PICO_E_PIN_LAST_TRY);
    assert_int_equal(d->logged_in, 1);
    assert_int_equal(pico_device_so_login(d, so, sizeof(so), NULL, &tries), PICO_E_PIN_INCORRECT);
    assert_int_equal(tries, 14);
    assert_int_equal(d->logged_in, 0);
    d->logged_in = 1;
    assert_int_equal(pico_device_so_login(d, so, sizeof(so), NULL, &tries), PICO_OK);
    assert_int_equal(d->logged_in, 0);
    close_dev(d, t);
}

/* 1.2: SELECT CCxx answers the key's metadata (A5 81 L { 90 91 92 93 }) in its FCP. */
static void test_key_info_reads_the_fcp(void **state)
{
    static const script_step steps[] = {
        SELECT,
        {"80 58 00 00 00 00 00", "CC 01 C4 01 CE 01 CC 02 CE 02 90 00"},
        {"00 A4 00 00 02 CC 01 00",
         "62 21 81 02 00 00 82 01 01 83 02 CC 01 8A 01 05 "
         "A5 81 10 90 04 00 00 00 02 91 02 70 92 92 01 03 93 01 AA 90 00"},
        {"00 A4 00 00 02 CC 02 00", "62 0E 81 02 00 00 82 01 01 83 02 CC 02 8A 01 05 90 00"},
        {"00 A4 00 00 02 CC 02 00", "6A 82"},
        {NULL},
    };
    pico_transport *t;
    pico_device *d = open_dev(steps, &t);
    pico_key_policy p;

    list(d);
    assert_int_equal(pico_device_key_info(d, d->keys[0], &p), PICO_OK);
    assert_int_equal(p.has_counter, 1);
    assert_int_equal(p.use_counter, 2);
    assert_int_equal(p.nalgs, 2);
    assert_memory_equal(p.algs, "\x70\x92", 2);
    assert_int_equal(p.domain, 3);
    /* no A5: no policy */
    assert_int_equal(pico_device_key_info(d, d->keys[1], &p), PICO_OK);
    assert_int_equal(p.has_counter, 0);
    assert_int_equal(p.nalgs, 0);
    assert_int_equal(p.domain, -1);
    assert_int_equal(pico_device_key_info(d, d->keys[1], &p), PICO_E_NOT_FOUND);
    close_dev(d, t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delete_key_keeps_the_others),
        cmocka_unit_test(test_delete_key_failure_reads_the_list_again),
        cmocka_unit_test(test_put_cert_with_key),
        cmocka_unit_test(test_put_cert_without_key),
        cmocka_unit_test(test_initialize_forgets_everything),
        cmocka_unit_test(test_change_pin_keeps_the_pin_rules),
        cmocka_unit_test(test_unblock_selects_again),
        cmocka_unit_test(test_pka_register),
        cmocka_unit_test(test_run_login_takes_the_login_as_gone),
        cmocka_unit_test(test_key_info_reads_the_fcp),
        cmocka_unit_test(test_so_login_verifies_88),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
