/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual Pico HSM's card side, driven with raw APDUs: INITIALIZE and the
 * state it leaves (options, PINs, retries, PKA, DKEK), framing (extended
 * length, 61xx, GET RESPONSE, chaining, malformed frames), PIN counters and a
 * complete PKA round. Expected bytes come from sc-hsm-protocol.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "card.h"
#include "crypto.h"
#include "state.h"

struct fixture {
    sim_state st;
    sim_card *card;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

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

    while (*hex) {
        unsigned v;
        if (*hex == ' ') {
            hex++;
            continue;
        }
        assert_true(n < max);
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/*
 * "CLA INS P1 P2 L DATA [/ LE]": L stands for the short Lc of DATA (X for an
 * extended one), so that the tests need no hand-counted lengths. Without L or
 * X the bytes are sent as given.
 */
static size_t build(const char *hex, uint8_t *out, size_t max)
{
    const char *l = strchr(hex, 'L'), *slash;
    char head[64], data[4096];
    size_t n, dn, off;
    int ext = 0;

    if (l == NULL) {
        l = strchr(hex, 'X');
        ext = 1;
    }
    if (l == NULL)
        return unhex(hex, out, max);
    assert_true((size_t)(l - hex) < sizeof(head));
    memcpy(head, hex, (size_t)(l - hex));
    head[l - hex] = 0;
    n = unhex(head, out, max);
    assert_int_equal(n, 4);
    slash = strchr(l, '/');
    size_t dlen = slash ? (size_t)(slash - l - 1) : strlen(l + 1);
    assert_true(dlen < sizeof(data));
    memcpy(data, l + 1, dlen);
    data[dlen] = 0;
    off = ext ? 7 : 5;
    dn = unhex(data, out + off, max - off);
    assert_true(dn > 0 && (ext || dn < 256));
    if (ext) {
        out[4] = 0;
        out[5] = (uint8_t)(dn >> 8);
        out[6] = (uint8_t)dn;
    } else {
        out[4] = (uint8_t)dn;
    }
    n = off + dn;
    if (slash != NULL)
        n += unhex(slash + 1, out + n, max - n);
    return n;
}

/* Sends an APDU given in hex; returns the answer as upper-case hex (static). */
static const char *xfer(sim_card *c, const char *hex)
{
    static char out[2 * 4096 + 1];
    uint8_t apdu[2048];
    size_t n = build(hex, apdu, sizeof(apdu));
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

#define SELECT "00A404000BE82B0601040181C31F020100"
/* sc-hsm-tool -X --so-pin 3537363231383830 --pin 648219 -K 1 -n 1 -s 1 (3.3) */
#define INIT_PKA "80500000 L 80020001 8106363438323139 82083537363231383830 910103 92010193020101"
#define INIT_PLAIN "80500000 L 80020001 8106363438323139 82083537363231383830 910103"
#define VERIFY_OK "0020008106363438323139"
#define VERIFY_BAD "0020008106313131313131"

static void test_select_fcp_and_version(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(xfer(f->card, SELECT), "62228102000082010183020000840B2B0601040181C31F02"
                                               "01008A0105850500"
                                               "00FF06069000");
    assert_string_equal(xfer(f->card, INIT_PLAIN), "9000");
    /* Options 0001 now in tag 85; major.minor 6.6. */
    assert_string_equal(xfer(f->card, SELECT), "62228102000082010183020000840B2B0601040181C31F02"
                                               "01008A0105850500"
                                               "01FF06069000");
    /* INITIALIZE without data is the version query (2.2). */
    assert_string_equal(xfer(f->card, "80500000 00"), "00100000000606"
                                                      "9000");
    /* P2=0C is refused once the applet is active. */
    assert_string_equal(xfer(f->card, "00A4040C0BE82B0601040181C31F0201"), "6A86");
}

static void test_uninitialized_pin_status(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00200081"), "6A88");
    assert_string_equal(xfer(f->card, "00200088"), "6A88");
    assert_string_equal(xfer(f->card, "8054000000"), "6A86");
}

static void test_initialize_pin_retries_and_session(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "80500000 L 80020001 8106363438323139"
                                      " 82083537363231383830 910105"),
                        "9000");
    /* INITIALIZE leaves the session authenticated (3.4) ... */
    assert_string_equal(xfer(f->card, "00200081"), "9000");
    /* ... and SELECT ends it: tries from tag 91, SO-PIN 15. */
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00200081"), "63C5");
    assert_string_equal(xfer(f->card, "00200088"), "63CF");
}

static void test_initialize_pka_and_dkek(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_PKA), "9000");
    /* 1 key, 1 to register, 1 required, 0 authenticated (field-notes.md). */
    assert_string_equal(xfer(f->card, "8054000000"), "01010100"
                                                     "9000");
    /* One DKEK share expected, KCV zeros while incomplete (8.1). */
    assert_string_equal(xfer(f->card, "8052000000"), "0101"
                                                     "0000000000000000"
                                                     "9000");
    /* Importing bytes 00..1F completes it: KCV = SHA-256(DKEK)[0..7]. */
    assert_string_equal(xfer(f->card, "8052000020"
                                      "000102030405060708090A0B0C0D0E0F"
                                      "101112131415161718191A1B1C1D1E1F"
                                      "00"),
                        "0100"
                        "630DCD2966C43366"
                        "9000");
    assert_string_equal(xfer(f->card, "8052000020"
                                      "000102030405060708090A0B0C0D0E0F"
                                      "101112131415161718191A1B1C1D1E1F"
                                      "00"),
                        "6986");
}

static void test_initialize_pka_total_capped(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    /* -K 10 -n 9: total capped at 8, required kept (3.3 caveat). */
    assert_string_equal(xfer(f->card, "80500000 L 80020001 82083537363231383830 9302 0A09"),
                        "9000");
    assert_string_equal(xfer(f->card, "8054000000"), "08080900"
                                                     "9000");
    /* No tag 81 on a PKA device: the user PIN exists, 3 tries, never matches (2.1). */
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00200081"), "63C3");
    assert_string_equal(xfer(f->card, VERIFY_OK), "63C2");
}

/*
 * The PIN EFs' FCP sizes as pico-hsm 6.6 shows them (checked on its emulator): 33 bytes while
 * no PIN is set (uninitialized, PKA only), 34 once one is (INITIALIZE tag 81, RESET RETRY
 * COUNTER); selecting them needs no login, spends no try and keeps the session.
 */
static void test_pin_ef_size_tells_pka_only(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00A4000002108100"), "620E81020021820108830210818A0105"
                                                           "9000");
    assert_string_equal(xfer(f->card, "00A4000002108800"), "620E81020021820108830210888A0105"
                                                           "9000");
    assert_string_equal(xfer(f->card, INIT_PLAIN), "9000");
    assert_string_equal(xfer(f->card, "00200081"), "9000");
    assert_string_equal(xfer(f->card, "00A4000002108100"), "620E81020022820108830210818A0105"
                                                           "9000");
    assert_string_equal(xfer(f->card, "00200081"), "9000"); /* the session stays */
    /* PKA only (no tag 81, RRC allowed): the PIN status says 63C3 as with a PIN, the EF 33 */
    assert_string_equal(xfer(f->card, "80500000 L 80020001 82083537363231383830 93020101"), "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00200081"), "63C3");
    assert_string_equal(xfer(f->card, "00A4000002108100"), "620E81020021820108830210818A0105"
                                                           "9000");
    assert_string_equal(xfer(f->card, "00A4000002108800"), "620E81020022820108830210888A0105"
                                                           "9000");
    assert_string_equal(xfer(f->card, "00200081"), "63C3"); /* no try spent */
    /* a user PIN given later by RESET RETRY COUNTER: 34 */
    assert_string_equal(xfer(f->card, "002C0081 L 3537363231383830 363438323139"), "9000");
    assert_string_equal(xfer(f->card, "00A4000002108100"), "620E81020022820108830210818A0105"
                                                           "9000");
}

static void test_key_domains_override_dkek(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "80500000 L 80020001 8106363438323139"
                                      " 82083537363231383830 920101 970102"),
                        "9000");
    /* Tag 97 makes every domain "not set up", domain 0 included. */
    assert_string_equal(xfer(f->card, "8052000000"), "6A88");
    assert_string_equal(xfer(f->card, "8052000100"), "6A88");
    assert_string_equal(xfer(f->card, "8052000200"), "6A86");
}

static void test_wrong_pin_counts_down_and_blocks(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    xfer(f->card, INIT_PLAIN);
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_BAD), "63C2");
    assert_string_equal(xfer(f->card, "00200081"), "63C2"); /* status spends nothing */
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");  /* resets the counter */
    assert_string_equal(xfer(f->card, "00200081"), "9000");
    assert_string_equal(xfer(f->card, VERIFY_BAD), "63C2");
    assert_string_equal(xfer(f->card, VERIFY_BAD), "63C1");
    /* The try that exhausts the counter answers 6983, never 63C0. */
    assert_string_equal(xfer(f->card, VERIFY_BAD), "6983");
    assert_string_equal(xfer(f->card, VERIFY_OK), "6983");
    assert_string_equal(xfer(f->card, "00200081"), "6983");
    /* RESET RETRY COUNTER P1=00: SO-PIN || new PIN (4.3), then the new PIN works. */
    assert_string_equal(xfer(f->card, "002C0081 L 3537363231383830 313233343536"), "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "00200081"), "63C3");
    assert_string_equal(xfer(f->card, "0020008106313233343536"), "9000");
}

static void test_verify_p1_p2_checks(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    xfer(f->card, INIT_PLAIN);
    assert_string_equal(xfer(f->card, "0020018106363438323139"), "6B00");
    assert_string_equal(xfer(f->card, "00200085"), "6A88");
    /* Counter-only RRC needs option 0020; CHANGE needs the old PIN. */
    assert_string_equal(xfer(f->card, "002C0181083537363231383830"), "6986");
    assert_string_equal(xfer(f->card, "00240081 L 363438323139 313131313131"), "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "63C2");
    assert_string_equal(xfer(f->card, "0020008106313131313131"), "9000");
}

static void test_keys_need_pin_then_sign(void **state)
{
    struct fixture *f = *state;
    const char *r;

    xfer(f->card, SELECT);
    xfer(f->card, INIT_PLAIN);
    xfer(f->card, SELECT);
    /* GAKP P-256 (OID + prime only, 6.2) before login: 6982. */
    static const char gakp[] =
        "00460100 X 7F492E 060A04007F00070202020203 "
        "8120FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF / 0000";
    assert_string_equal(sw(xfer(f->card, gakp)), "6982");
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    r = xfer(f->card, gakp);
    assert_string_equal(sw(r), "9000");
    assert_memory_equal(r, "67", 2);
    /* LIST KEYS: C400 first, CC00, then CC01 and C401; CE01 not listed (6.5). */
    assert_string_equal(xfer(f->card, "805800000000 00"), "C400CC00CC01C401"
                                                          "9000");
    /* SIGN without Le: 61xx, then GET RESPONSE returns the DER signature (11.1). */
    r = xfer(f->card, "8068017020"
                      "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824");
    assert_memory_equal(r, "61", 2);
    char le[16];
    snprintf(le, sizeof(le), "00C00000%.2s", r + 2);
    r = xfer(f->card, le);
    assert_memory_equal(r, "30", 2);
    assert_string_equal(sw(r), "9000");
    /* Nothing pending: GET RESPONSE is 6D00 (1.6). */
    assert_string_equal(xfer(f->card, "00C0000000"), "6D00");
    /* A wrong PIN drops the MKEK session: key use 6982 without PKA. */
    assert_string_equal(xfer(f->card, VERIFY_BAD), "63C2");
    assert_string_equal(sw(xfer(f->card, "80680170 L 00000000000000000000000000000000"
                                         "00000000000000000000000000000000 / 00")),
                        "6982");
    /* Unknown key: 6A82; deleting the device key: 6982. */
    xfer(f->card, VERIFY_OK);
    assert_string_equal(sw(xfer(f->card, "8068057020"
                                         "00000000000000000000000000000000"
                                         "00000000000000000000000000000000"
                                         "00")),
                        "6A82");
    assert_string_equal(xfer(f->card, "00E4020002CC00"), "6982");
    /* DELETE of a key leaves C401 and CE01 (6.8). */
    assert_string_equal(xfer(f->card, "00E4020002CC01"), "9000");
    assert_string_equal(xfer(f->card, "805800000000 00"), "C400CC00C401"
                                                          "9000");
}

/*
 * 6.2 tags 90-93 kept as the firmware keeps them: SELECT CCxx answers them in the FCP
 * (A5 81 L, file_process_fci), the list refuses other algorithms (6985, the counter kept),
 * the counter counts the operations done and at zero answers 6A84 (field notes).
 */
static void test_key_policy_fcp_counter_algorithms(void **state)
{
    struct fixture *f = *state;
    static const char gakp[] =
        "00460100 X 7F492E 060A04007F00070202020203 "
        "8120FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF "
        "900400000002 910170 920100 9301AA / 0000";
    static const char hash[] = "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824";
    char sign70[128], sign73[128];

    snprintf(sign70, sizeof(sign70), "8068017020%s00", hash);
    snprintf(sign73, sizeof(sign73), "8068017320%s00", hash);
    xfer(f->card, SELECT);
    xfer(f->card, INIT_PLAIN);
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    assert_string_equal(sw(xfer(f->card, gakp)), "9000");
    assert_string_equal(xfer(f->card, "00A4000002CC0100"), "6220810200008201018302CC018A0105A5810F"
                                                           "900400000002910170920100"
                                                           "9301AA9000");
    assert_string_equal(sw(xfer(f->card, sign73)), "6985");
    assert_string_equal(sw(xfer(f->card, sign70)), "9000");
    assert_string_equal(sw(xfer(f->card, sign70)), "9000");
    assert_string_equal(sw(xfer(f->card, sign70)), "6A84");
    assert_string_equal(xfer(f->card, "00A4000002CC0100"), "6220810200008201018302CC018A0105A5810F"
                                                           "900400000000910170920100"
                                                           "9301AA9000");
    /* a key without metadata: the plain EF FCP */
    assert_string_equal(xfer(f->card, "00A4000002CC0000"), "620E810200008201018302CC008A01059000");
    /* option 0200 (EXTRAS, 9.1): a key generated without 90 gets the counter FFFFFFFE */
    assert_string_equal(xfer(f->card, "8064060001 02"), "9000");
    assert_string_equal(sw(xfer(f->card, "00460200 X 7F492E 060A04007F00070202020203 "
                                         "8120FFFFFFFF00000001000000000000000000000000"
                                         "FFFFFFFFFFFFFFFFFFFFFFFF / 0000")),
                        "9000");
    assert_string_equal(xfer(f->card, "00A4000002CC0200"),
                        "6217810200008201018302CC028A0105A58106900"
                        "4FFFFFFFE9000");
}

static void test_read_binary_offsets_and_limits(void **state)
{
    struct fixture *f = *state;
    const char *r;

    xfer(f->card, SELECT);
    xfer(f->card, INIT_PLAIN);
    /* EF.DIR is generated (2.6). */
    r = xfer(f->card, "00B12F000454020000 00");
    assert_string_equal(r, "61174F0BE82B0601040181C31F020150085069636F2D48534D"
                           "9000");
    /* Le smaller than the file: truncated, 9000, no chaining (1.6). */
    assert_string_equal(xfer(f->card, "00B12F000454020002 04"), "4F0BE82B"
                                                                "9000");
    /* Offset = size: empty; beyond: 6B00 for a generated EF. */
    assert_string_equal(xfer(f->card, "00B12F000454020019 00"), "9000");
    assert_string_equal(xfer(f->card, "00B12F00045402001A 00"), "6B00");
    /* UPDATE + READ of a host EF, offsets included; beyond its end: 6282. */
    assert_string_equal(xfer(f->card, "00D7CF01 L 540200005302AABB"), "9000");
    assert_string_equal(xfer(f->card, "00D7CF01 L 540200015302CCDD"), "9000");
    assert_string_equal(xfer(f->card, "00B1CF01045402000000"), "AACCDD"
                                                               "9000");
    assert_string_equal(xfer(f->card, "00B1CF01045402000400"), "6282");
    /* An offset at the end appends; past it is invalid data, as on the firmware (an
     * offset of 2 GB made the virtual device allocate 2 GB: found by fuzz_sim_apdu) */
    assert_string_equal(xfer(f->card, "00D7CF01 L 540200035301EE"), "9000");
    assert_string_equal(xfer(f->card, "00D7CF01 L 540200055301FF"), "6984");
    assert_string_equal(xfer(f->card, "00D7CF01 L 54047FFFFFFF5302AABB"), "6984");
    assert_string_equal(xfer(f->card, "00B1CF01045402000000"), "AACCDDEE"
                                                               "9000");
    /* Internal EFs are never readable. */
    assert_string_equal(xfer(f->card, "00B11081045402000000"), "6982");
    assert_string_equal(xfer(f->card, "00B1CC00045402000000"), "6982");
}

static void test_framing(void **state)
{
    struct fixture *f = *state;
    sim_bytes r = {0};
    uint8_t bad[] = {0x00, 0x20, 0x00, 0x81, 0x06, 0x36, 0x34}; /* Lc 6, 2 bytes */

    /* A frame that does not match its Lc gets no answer at all (1.4). */
    assert_int_equal(sim_card_process(f->card, bad, sizeof(bad), &r), -1);
    sim_bytes_free(&r);
    /* SELECT without Le: 61 24, then GET RESPONSE (1.2). */
    assert_string_equal(xfer(f->card, "00A404000BE82B0601040181C31F0201"), "6124");
    assert_memory_equal(xfer(f->card, "00C0000024"), "6222", 4);
    xfer(f->card, INIT_PLAIN);
    xfer(f->card, SELECT);
    /* VERIFY split over two chained APDUs (1.5). */
    assert_string_equal(xfer(f->card, "1020008103363438"), "9000");
    assert_string_equal(xfer(f->card, "0020008103323139"), "9000");
    assert_string_equal(xfer(f->card, "00200081"), "9000");
    /* A chain whose header changes: 6883. */
    assert_string_equal(xfer(f->card, "1020008103363438"), "9000");
    assert_string_equal(xfer(f->card, "0020008803323139"), "6883");
    /* Secure-messaging class bytes without chaining: 6E00 (10). */
    assert_string_equal(xfer(f->card, "0C20008106363438323139"), "6E00");
    /* Unknown instruction. */
    assert_string_equal(xfer(f->card, "805A0000"), "6D00");
}

/* Signs SHA-256(msg) with key as plain r||s (what EXTERNAL AUTHENTICATE takes). */
static void sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, char *hex)
{
    uint8_t der[80], rs[64];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const uint8_t *p = der;
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;

    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &der_len, msg, len), 1);
    EVP_MD_CTX_free(md);
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, rs, 32);
    BN_bn2binpad(s, rs + 32, 32);
    ECDSA_SIG_free(sig);
    for (int i = 0; i < 64; i++)
        sprintf(hex + 2 * i, "%02X", rs[i]);
}

static void test_pka_round(void **state)
{
    struct fixture *f = *state;
    sim_bytes priv = {0}, cert = {0};
    char apdu[2048], sig[129];
    const char *r;
    uint8_t msg[16 + 8];
    EVP_PKEY *pka;

    /* A self-referencing certificate (CAR = CHR, full domain parameters)
     * is a registrable PKA key (5.2). */
    assert_int_equal(sim_devkey_create((const uint8_t *)"DEPKA0000100001", 15, &priv, &cert), 0);
    pka = sim_key_load(priv.data, priv.len);
    assert_non_null(pka);

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_PKA), "9000");
    int n = snprintf(apdu, sizeof(apdu), "80540000 X ");
    for (size_t i = 0; i < cert.len; i++)
        n += snprintf(apdu + n, sizeof(apdu) - (size_t)n, "%02X", cert.data[i]);
    snprintf(apdu + n, sizeof(apdu) - (size_t)n, " / 0000");
    assert_string_equal(xfer(f->card, apdu), "01000100"
                                             "9000");
    assert_string_equal(xfer(f->card, apdu), "6A84");         /* no slot left */
    assert_string_equal(xfer(f->card, "8054010000"), "6985"); /* replace needs 0008 */

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    /* PIN alone: key generation 6982 (field-notes.md). */
    assert_string_equal(sw(xfer(f->card, "00460100 L 7F490C 060A04007F00070202020203 / 00")),
                        "6982");
    assert_string_equal(xfer(f->card, "0022 81A4 11 830F"
                                      "4445504B4130303030313030303031"),
                        "9000");
    assert_string_equal(xfer(f->card, "0022 81A4 11 830F"
                                      "5858504B4130303030313030303031"),
                        "6A88");
    assert_string_equal(xfer(f->card, "0022 81A4 11 830F"
                                      "4445504B4130303030313030303031"),
                        "9000");
    assert_string_equal(xfer(f->card, "00820000 02 0000"), "6985"); /* no challenge yet */
    r = xfer(f->card, "0084000008");
    assert_int_equal(strlen(r), 20);
    memcpy(msg, "ESPICOHSMTR00001", 16);
    for (int i = 0; i < 8; i++) {
        unsigned v;
        sscanf(r + 2 * i, "%2x", &v);
        msg[16 + i] = (uint8_t)v;
    }
    sign_raw(pka, msg, sizeof(msg), sig);
    /* A wrong signature fails and leaves the challenge valid (5.1). */
    char bad[160];
    snprintf(bad, sizeof(bad), "0082000040%s", sig);
    bad[10] = bad[10] == '0' ? '1' : '0';
    assert_string_equal(xfer(f->card, bad), "6985");
    snprintf(apdu, sizeof(apdu), "0082000040%s", sig);
    assert_string_equal(xfer(f->card, apdu), "9000");
    assert_string_equal(xfer(f->card, "8054000000"), "01000101"
                                                     "9000");
    assert_string_equal(xfer(f->card, "8054020000"), "4445504B4130303030313030303031"
                                                     "9001");
    /* The challenge is consumed: a replay fails. */
    assert_string_equal(xfer(f->card, apdu), "6985");
    /* Already authenticated in this round: MSE answers 6985. */
    assert_string_equal(xfer(f->card, "002281A411830F4445504B4130303030313030303031"), "6985");
    /* PIN + PKA: key generation works. */
    assert_string_equal(
        sw(xfer(f->card,
                "00460100 X 7F492E 060A04007F00070202020203 "
                "8120FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF / 0000")),
        "9000");
    /* GET CHALLENGE resets the round count, not the login (2.3). */
    xfer(f->card, "0084000008");
    assert_string_equal(xfer(f->card, "8054000000"), "01000100"
                                                     "9000");
    /* SELECT logs out. */
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    assert_string_equal(sw(xfer(f->card, "8068017020"
                                         "00000000000000000000000000000000"
                                         "00000000000000000000000000000000"
                                         "00")),
                        "6982");
    EVP_PKEY_free(pka);
    sim_bytes_free(&priv);
    sim_bytes_free(&cert);
}

/* ---- 80 52 as pico-hsm's cmd_key_domain.c and kek.c answer it */

#define SHARE_SEQ "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define SHARE_ZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define ZERO_KCV "0000000000000000"
#define INIT_DOMAINS "80500000 L 80020001 8106363438323139 82083537363231383830 970102"

/* A domain created with 0 shares has no DKEK at all (the firmware makes no random one). */
static void test_domain_zero_shares_no_dkek(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_DOMAINS), "9000");
    assert_string_equal(xfer(f->card, "80520101 01 00 00"), "0000" ZERO_KCV "9000");
    assert_string_equal(xfer(f->card, "8052000100"), "0000" ZERO_KCV "9000");
    assert_string_equal(xfer(f->card, "80520001 20" SHARE_SEQ "00"), "6986");
}

/* Shares imported in separate sessions without a PIN all count (the partial XOR is kept in
 * the file, not in RAM); the KCV shows only in a PIN session. */
static void test_shares_across_sessions_kcv_in_pin_session(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_PLAIN " 920102"), "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "80520000 20" SHARE_SEQ "00"), "0201" ZERO_KCV "9000");
    xfer(f->card, SELECT);
    /* complete, but without a PIN session: no KCV, sealed at the next VERIFY */
    assert_string_equal(xfer(f->card, "80520000 20" SHARE_ZERO "00"), "0200" ZERO_KCV "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    /* 00..1F XOR 00..00: the KCV of 8.1 */
    assert_string_equal(xfer(f->card, "8052000000"), "0200"
                                                     "630DCD2966C43366"
                                                     "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "8052000000"), "0200" ZERO_KCV "9000");
    /* no tag 92: domain 0 answers 00 00, and takes no share */
    assert_string_equal(xfer(f->card, INIT_PLAIN), "9000");
    assert_string_equal(xfer(f->card, "8052000000"), "0000" ZERO_KCV "9000");
}

/* The firmware's trap: a DKEK completed without a PIN session and a power loss before the
 * next VERIFY becomes garbage (the unsealed XOR read as the old encrypted format). */
static void test_unsealed_dkek_lost_at_restart(void **state)
{
    struct fixture *f = *state;
    const char *a;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_PLAIN " 920101"), "9000");
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "80520000 20" SHARE_SEQ "00"), "0100" ZERO_KCV "9000");
    sim_card_free(f->card); /* power off: the pending save was in RAM */
    f->card = sim_card_new(&f->st, NULL);
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, VERIFY_OK), "9000");
    a = xfer(f->card, "8052000000");
    assert_string_equal(sw(a), "9000");
    assert_true(strncmp(a, "0100630DCD2966C43366", 20) != 0);
    assert_true(strncmp(a, "0100" ZERO_KCV, 20) != 0);
}

/* Status words and their order: PIN session first, then P2, then the domain's state. */
static void test_domain_commands_status_words(void **state)
{
    struct fixture *f = *state;

    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, INIT_DOMAINS), "9000");
    assert_string_equal(xfer(f->card, "80520101 01 02 00"), "0202" ZERO_KCV "9000");
    assert_string_equal(xfer(f->card, "80520101 01 02 00"), "6A86"); /* set up already */
    assert_string_equal(xfer(f->card, "80520100 02 0202 00"), "6700");
    assert_string_equal(xfer(f->card, "80520010 00"), "6B00"); /* beyond 16 domains */
    assert_string_equal(xfer(f->card, "80520002 00"), "6A86"); /* beyond this device's 2 */
    /* in a PIN session a partial DKEK shows a meaningless KCV (kek.c decrypts the XOR) */
    const char *a = xfer(f->card, "80520001 20" SHARE_SEQ "00");
    assert_string_equal(sw(a), "9000");
    assert_true(strncmp(a, "0201", 4) == 0 && strncmp(a + 4, ZERO_KCV, 16) != 0);
    /* forget keeps the share count: all to import again */
    assert_string_equal(xfer(f->card, "80520401 00"), "0202" ZERO_KCV "9000");
    /* delete answers 6A88 when done; then the domain is not set up */
    assert_string_equal(xfer(f->card, "80520301"), "6A88");
    assert_string_equal(xfer(f->card, "8052000100"), "6A88");
    assert_string_equal(xfer(f->card, "80520301"), "6A86");
    /* without a PIN session the session check comes before anything else */
    xfer(f->card, SELECT);
    assert_string_equal(xfer(f->card, "80520105 01 02 00"), "6985");
    assert_string_equal(xfer(f->card, "80520301"), "6985");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select_fcp_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uninitialized_pin_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initialize_pin_retries_and_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initialize_pka_and_dkek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initialize_pka_total_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_domains_override_dkek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_zero_shares_no_dkek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shares_across_sessions_kcv_in_pin_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unsealed_dkek_lost_at_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_commands_status_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_pin_counts_down_and_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_p1_p2_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_policy_fcp_counter_algorithms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_need_pin_then_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_binary_offsets_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_ef_size_tells_pka_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pka_round, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
