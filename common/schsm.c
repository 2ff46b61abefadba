/* SPDX-License-Identifier: Apache-2.0 */
#include "schsm.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* 1.1 */
static const uint8_t sc_hsm_aid[] = {0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01,
                                     0x81, 0xC3, 0x1F, 0x02, 0x01};

/* Response data per READ BINARY on hardware (1.4, MAX_APDU_DATA): any device returns at least
 * min(bytes left, this), so a shorter answer means the end of the file. */
#define PICO_READ_CHUNK 2028
/* Data per UPDATE BINARY: well inside the 2038-byte command limit of hardware (1.4). */
#define PICO_WRITE_CHUNK 1024

/* A key operation (SIGN, DECIPHER: 7.1, 7.2) refused by the key's policy (6.2 tags 90, 91;
 * field notes): 6A84 its use counter at zero, 6985 an algorithm not in its list. */
static int key_policy_refusal(uint16_t sw, const char *name, pico_err *err)
{
    if (strncmp(name, "SIGN ", 5) != 0 && strncmp(name, "DECIPHER ", 9) != 0)
        return 0;
    if (sw == 0x6A84)
        *err = pico_err_raise(PICO_E_CONDITIONS, "%s: the key's use counter is exhausted (sw=6A84)",
                              name);
    else if (sw == 0x6985)
        *err = pico_err_raise(PICO_E_CONDITIONS,
                              "%s: the key's allowed algorithms do not include this one (sw=6985)",
                              name);
    else
        return 0;
    return 1;
}

pico_err pico_schsm_sw_error(uint16_t sw, const char *name)
{
    pico_err err;

    if (sw == 0x9000)
        return PICO_OK;
    if (key_policy_refusal(sw, name, &err))
        return err;
    if ((sw & 0xFFF0) == 0x63C0)
        return pico_err_raise(PICO_E_PIN_INCORRECT, "%s: %d %s left", name, sw & 0x0F,
                              (sw & 0x0F) == 1 ? "try" : "tries");
    switch (sw) {
    case 0x6983:
        return pico_err_raise(PICO_E_PIN_BLOCKED, "%s: sw=6983", name);
    case 0x6982:
        return pico_err_raise(PICO_E_NOT_LOGGED_IN, "%s: sw=6982", name);
    case 0x6400:
        /* 4.4: a key load with no PIN session; also bad input to RSA (7.1) */
        return pico_err_raise(PICO_E_KEY_LOCKED, "%s: sw=6400", name);
    case 0x6A82:
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: sw=6A82", name);
    case 0x6A88:
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: referenced data not found (sw=6A88)", name);
    case 0x6985:
        return pico_err_raise(PICO_E_CONDITIONS, "%s: sw=6985", name);
    case 0x6A81:
    case 0x6A86:
    case 0x6B00:
    case 0x6D00:
    case 0x6E00:
        return pico_err_raise(PICO_E_UNSUPPORTED, "%s: sw=%04X", name, sw);
    case 0x6984:
        return pico_err_raise(PICO_E_DEVICE, "%s: data invalid (transport pin set?) sw=6984", name);
    case 0x6A84:
        return pico_err_raise(PICO_E_DEVICE,
                              "%s: no space or key use counter exhausted "
                              "(sw=6A84)",
                              name);
    case 0x6600:
        return pico_err_raise(PICO_E_CONDITIONS, "%s: button press timed out (sw=6600)", name);
    default:
        return pico_err_raise(PICO_E_DEVICE, "%s: sw=%04X", name, sw);
    }
}

/* One answer of rlen bytes in c->buf: its status word, and its data after the got bytes of
 * out (capacity cap) that the chain gave so far. */
static pico_err take_answer(pico_card *c, const char *name, size_t rlen, uint8_t *out, size_t cap,
                            size_t *got, unsigned apdus, uint16_t *sw)
{
    if (rlen == 0) /* vpcd and some readers answer nothing once the card is gone */
        return pico_err_raise(PICO_E_REMOVED, "%s: no answer", name);
    if (rlen < 2)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: %zu-byte answer", name, rlen);
    rlen -= 2;
    *sw = (uint16_t)(c->buf[rlen] << 8 | c->buf[rlen + 1]);
    if (rlen == 0)
        return PICO_OK;
    if (*got + rlen > cap)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: answer longer than %zu bytes", name, cap);
    /* A card (or a reader) that says "more" forever, with or without data, would hold the
     * device lock for good: no real answer is longer than an extended Ne or needs more
     * rounds than 256-byte parts of it. */
    if (*got + rlen > PICO_CHAIN_MAX_BYTES)
        return pico_err_raise(PICO_E_BAD_RESPONSE,
                              "%s: answer chain without end (%u apdus, over %zu bytes)", name,
                              apdus, (size_t)PICO_CHAIN_MAX_BYTES);
    memcpy(out + *got, c->buf, rlen);
    *got += rlen;
    return PICO_OK;
}

static void log_xfer(const char *name, const pico_apdu *a, int secret, size_t got, uint16_t sw,
                     unsigned apdus, double t0)
{
    if (!pico_log_enabled())
        return;
    if (secret)
        pico_log("APDU", "%s sw=%04X apdus=%u %.2fms", name, sw, apdus, pico_log_now_ms() - t0);
    else
        pico_log("APDU", "%s lc=%zu out=%zu sw=%04X apdus=%u %.2fms", name, a->lc, got, sw, apdus,
                 pico_log_now_ms() - t0);
}

pico_err pico_schsm_xfer(pico_card *c, const char *name, const pico_apdu *a, int secret,
                         uint8_t *out, size_t *out_len, uint16_t *sw)
{
    uint8_t cmd[8192]; /* the largest command: RSA-4096 SIGN, or a 1 KB UPDATE chunk */
    size_t cap = out_len != NULL ? *out_len : 0, got = 0, n, rlen, answered = 0, encoded;
    double t0 = pico_log_now_ms();
    unsigned apdus = 0;
    pico_err err = PICO_OK;

    if (out_len != NULL)
        *out_len = 0;
    *sw = 0;
    encoded = n = pico_apdu_encode(a, cmd, sizeof(cmd));
    if (n == 0)
        return pico_err_raise(PICO_E_ARGS, "%s: command too long (%zu bytes)", name, a->lc);
    for (;;) {
        rlen = sizeof(c->buf);
        err = c->t->ops->transmit(c->t, cmd, n, c->buf, &rlen);
        apdus++;
        if (err != PICO_OK)
            goto end;
        if (rlen > answered)
            answered = rlen;
        if ((err = take_answer(c, name, rlen, out, cap, &got, apdus, sw)) != PICO_OK)
            goto end;
        if ((*sw & 0xFF00) != 0x6100)
            break;
        if (apdus >= PICO_CHAIN_MAX_APDUS) {
            err = pico_err_raise(PICO_E_BAD_RESPONSE,
                                 "%s: answer chain without end (%u apdus, %zu bytes, sw=%04X)",
                                 name, apdus, got, *sw);
            goto end;
        }
        /* 1.6: more data waits; GET RESPONSE for it (SW2 00 = 256 or more). */
        cmd[0] = 0x00;
        cmd[1] = 0xC0;
        cmd[2] = 0x00;
        cmd[3] = 0x00;
        cmd[4] = (uint8_t)(*sw & 0xFF);
        n = 5;
    }
    if (out_len != NULL)
        *out_len = got;
end:
    /* The command may hold a PIN (VERIFY, CHANGE, RESET RETRY COUNTER, INITIALIZE) and the
     * answer a plaintext or a shared secret (DECIPHER): neither outlives the exchange. The
     * caller cleanses its own copies. What was used only: wiping the whole 8 KB buffer
     * cost ~5,800 instructions per signature (callgrind), 14% of the provider's work. */
    OPENSSL_cleanse(cmd, encoded);
    OPENSSL_cleanse(c->buf, answered);
    c->apdus += apdus;
    c->last_sw = *sw;
    log_xfer(name, a, secret, got, *sw, apdus, t0);
    return err;
}

pico_err pico_schsm_select(pico_card *c, pico_select_info *info)
{
    pico_apdu a = {0x00, 0xA4, 0x04, 0x00, sc_hsm_aid, sizeof(sc_hsm_aid), 256, 0};
    uint8_t fcp[256];
    size_t len = sizeof(fcp), i;
    uint16_t sw;
    pico_err err;

    memset(info, 0, sizeof(*info));
    if ((err = pico_schsm_xfer(c, "SELECT", &a, 0, fcp, &len, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6A82 || sw == 0x6A86 || sw == 0x6D00 || sw == 0x6E00)
        return pico_err_raise(PICO_E_NO_DEVICE,
                              "reader '%s': no SmartCard-HSM application "
                              "(sw=%04X)",
                              c->t->name, sw);
    if (sw != 0x9000)
        return pico_schsm_sw_error(sw, "SELECT");
    /* 1.2: 62 L { ... 85 05 <options 2> FF <major> <minor> }; tag 84 is unreliable on Pico. */
    if (len < 2 || fcp[0] != 0x62 || fcp[1] != len - 2)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "SELECT: not an FCP");
    for (i = 2; i + 2 <= len;) {
        uint8_t tag = fcp[i], l = fcp[i + 1];
        if (i + 2 + l > len)
            return pico_err_raise(PICO_E_BAD_RESPONSE, "SELECT: truncated FCP");
        if (tag == 0x85 && l >= 2) {
            info->options = (uint16_t)(fcp[i + 2] << 8 | fcp[i + 3]);
            if (l >= 5) {
                info->major = fcp[i + 2 + l - 2];
                info->minor = fcp[i + 2 + l - 1];
            }
        }
        i += 2 + l;
    }
    return PICO_OK;
}

pico_err pico_schsm_pin_status(pico_card *c, uint8_t ref, pico_pin_state *state, int *tries)
{
    pico_apdu a = {0x00, 0x20, 0x00, ref, NULL, 0, 0, 0};
    uint16_t sw;
    pico_err err;

    *tries = -1;
    if ((err = pico_schsm_xfer(c, "VERIFY status", &a, 0, NULL, NULL, &sw)) != PICO_OK)
        return err;
    if (sw == 0x9000) {
        *state = PICO_PIN_VERIFIED;
    } else if ((sw & 0xFFF0) == 0x63C0) {
        *state = PICO_PIN_TRIES;
        *tries = sw & 0x0F;
    } else if (sw == 0x6983) {
        *state = PICO_PIN_BLOCKED;
        *tries = 0;
    } else if (sw == 0x6A88) {
        *state = PICO_PIN_NOT_SET;
    } else if (sw == 0x6984) {
        *state = PICO_PIN_TRANSPORT;
    } else {
        return pico_schsm_sw_error(sw, "VERIFY status");
    }
    return PICO_OK;
}

static pico_err pin_result(uint16_t sw, const char *name, int *tries)
{
    if ((sw & 0xFFF0) == 0x63C0)
        *tries = sw & 0x0F;
    else if (sw == 0x6983)
        *tries = 0;
    return pico_schsm_sw_error(sw, name);
}

pico_err pico_schsm_verify(pico_card *c, uint8_t ref, const uint8_t *pin, size_t pin_len,
                           int *tries)
{
    pico_apdu a = {0x00, 0x20, 0x00, ref, pin, pin_len, 0, 0};
    uint16_t sw;
    pico_err err;

    *tries = -1;
    if (pin_len == 0 || pin_len > 16)
        return pico_err_raise(PICO_E_ARGS, "VERIFY: a pin has 1 to 16 characters");
    if ((err = pico_schsm_xfer(c, ref == PICO_PIN_SO ? "VERIFY SO-PIN" : "VERIFY PIN", &a, 1, NULL,
                               NULL, &sw)) != PICO_OK)
        return err;
    return pin_result(sw, "VERIFY", tries);
}

pico_err pico_schsm_change_pin(pico_card *c, uint8_t ref, const uint8_t *old_pin, size_t old_len,
                               const uint8_t *new_pin, size_t new_len, int *tries)
{
    uint8_t data[32];
    pico_apdu a = {0x00, 0x24, 0x00, ref, data, old_len + new_len, 0, 0};
    uint16_t sw;
    pico_err err;

    *tries = -1;
    if (old_len == 0 || new_len == 0 || old_len > 16 || new_len > 16)
        return pico_err_raise(PICO_E_ARGS, "CHANGE REFERENCE DATA: pins have 1 to 16 bytes");
    memcpy(data, old_pin, old_len);
    memcpy(data + old_len, new_pin, new_len);
    err = pico_schsm_xfer(c, "CHANGE REFERENCE DATA", &a, 1, NULL, NULL, &sw);
    OPENSSL_cleanse(data, sizeof(data));
    if (err != PICO_OK)
        return err;
    return pin_result(sw, "CHANGE REFERENCE DATA", tries);
}

pico_err pico_schsm_unblock_pin(pico_card *c, const uint8_t *so_pin, size_t so_len,
                                const uint8_t *new_pin, size_t new_len, int *tries)
{
    uint8_t data[32];
    pico_apdu a = {0x00, 0x2C, 0x00, PICO_PIN_USER, data, so_len + new_len, 0, 0};
    uint16_t sw;
    pico_err err;

    *tries = -1;
    if (so_len == 0 || so_len > 16 || new_len < 2 || new_len > 16)
        return pico_err_raise(PICO_E_ARGS, "RESET RETRY COUNTER: bad pin lengths");
    memcpy(data, so_pin, so_len);
    memcpy(data + so_len, new_pin, new_len);
    err = pico_schsm_xfer(c, "RESET RETRY COUNTER", &a, 1, NULL, NULL, &sw);
    OPENSSL_cleanse(data, sizeof(data));
    if (err != PICO_OK)
        return err;
    if (sw == 0x6986)
        return pico_err_raise(PICO_E_UNSUPPORTED, "RESET RETRY COUNTER: disabled by the "
                                                  "device options (sw=6986)");
    return pin_result(sw, "RESET RETRY COUNTER (so-pin)", tries);
}

pico_err pico_schsm_list(pico_card *c, uint16_t *fids, size_t *count)
{
    /* 2.4: extended Le 00 00 */
    pico_apdu a = {0x80, 0x58, 0x00, 0x00, NULL, 0, PICO_APDU_LE_MAX, 1};
    uint8_t *out = malloc(4096);
    size_t len = 4096, i, n = 0;
    uint16_t sw;
    pico_err err;

    if (out == NULL)
        return pico_err_raise(PICO_E_NOMEM, "ENUMERATE");
    if ((err = pico_schsm_xfer(c, "ENUMERATE", &a, 0, out, &len, &sw)) != PICO_OK)
        goto end;
    if (sw != 0x9000) {
        err = pico_schsm_sw_error(sw, "ENUMERATE");
        goto end;
    }
    if (len % 2 != 0) {
        err = pico_err_raise(PICO_E_BAD_RESPONSE, "ENUMERATE: odd length %zu", len);
        goto end;
    }
    for (i = 0; i < len; i += 2) {
        uint16_t fid = (uint16_t)(out[i] << 8 | out[i + 1]);
        if (fid == 0x0000) /* 6.5: USB padding on hardware */
            continue;
        if (n == *count) {
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "ENUMERATE: more than %zu objects", n);
            goto end;
        }
        fids[n++] = fid;
    }
    *count = n;
end:
    free(out);
    return err;
}

pico_err pico_schsm_select_fid(pico_card *c, uint16_t fid, uint8_t *fcp, size_t *len)
{
    const uint8_t f[2] = {(uint8_t)(fid >> 8), (uint8_t)fid};
    /* 1.2: P2 00 with Le (P2 0C answers 6A86, no Le 61xx) */
    pico_apdu a = {0x00, 0xA4, 0x00, 0x00, f, sizeof(f), 256, 0};
    char name[32];
    uint16_t sw;
    pico_err err;

    snprintf(name, sizeof(name), "SELECT %04X", fid);
    if ((err = pico_schsm_xfer(c, name, &a, 0, fcp, len, &sw)) != PICO_OK)
        return err;
    return pico_schsm_sw_error(sw, name);
}

/* The size in an EF's FCP (tag 81, two bytes); -1 when the FCP has none. */
static long fcp_size(const uint8_t *fcp, size_t len)
{
    size_t i;

    if (len < 2 || fcp[0] != 0x62 || fcp[1] != len - 2)
        return -1;
    for (i = 2; i + 2 <= len && i + 2 + fcp[i + 1] <= len; i += 2 + fcp[i + 1])
        if (fcp[i] == 0x81 && fcp[i + 1] == 2)
            return (long)(fcp[i + 2] << 8 | fcp[i + 3]);
    return -1;
}

pico_err pico_schsm_user_pin_set(pico_card *c, const pico_select_info *si, pico_pin_state *state,
                                 int *set, int *pka)
{
    int tries;
    pico_err err;

    *set = -1;
    if (pka != NULL)
        *pka = -1;
    if ((err = pico_schsm_pin_status(c, PICO_PIN_USER, state, &tries)) != PICO_OK)
        return err;
    return pico_schsm_user_pin_set_known(c, si, *state, set, pka);
}

pico_err pico_schsm_user_pin_set_known(pico_card *c, const pico_select_info *si,
                                       pico_pin_state state, int *set, int *pka)
{
    uint8_t st[4];
    int pka_dummy;
    pico_err err;

    if (pka == NULL)
        pka = &pka_dummy;
    *set = -1;
    *pka = -1;
    if (state != PICO_PIN_TRIES) { /* 6A88: none; 9000, 6983, 6984: one */
        *set = state != PICO_PIN_NOT_SET;
        return PICO_OK;
    }
    if ((err = pico_schsm_pka_status(c, st)) == PICO_E_UNSUPPORTED) {
        *set = 1; /* without PKA a PIN never set answers 6A88 */
        *pka = 0;
        return PICO_OK;
    }
    if (err != PICO_OK)
        return err;
    *pka = 1;
    return pico_schsm_user_pin_ef(c, si, set);
}

pico_err pico_schsm_user_pin_ef(pico_card *c, const pico_select_info *si, int *set)
{
    uint8_t fcp[64];
    size_t len = sizeof(fcp);
    long size;
    pico_err err;

    *set = -1;
    /* before 6.6 a set PIN is 33 bytes too; firmware without the EF says nothing */
    if (si->major < 6 || (si->major == 6 && si->minor < 6))
        return PICO_OK;
    pico_err_mark();
    err = pico_schsm_select_fid(c, 0x1081, fcp, &len);
    pico_err_pop_to_mark();
    size = err == PICO_OK ? fcp_size(fcp, len) : -1;
    *set = size == 34 ? 1 : size == 33 ? 0 : -1;
    return PICO_OK;
}

pico_err pico_schsm_read_file(pico_card *c, uint16_t fid, uint8_t **data, size_t *len)
{
    uint8_t *buf = NULL, *nb;
    size_t total = 0, cap = 0;
    char name[32];
    pico_err err = PICO_OK;

    *data = NULL;
    *len = 0;
    snprintf(name, sizeof(name), "READ BINARY %04X", fid);
    for (;;) {
        uint8_t cmd_data[6] = {0x54, 0x02, (uint8_t)(total >> 8), (uint8_t)total};
        pico_apdu a = {0x00,     0xB1, (uint8_t)(fid >> 8), (uint8_t)fid,
                       cmd_data, 4,    PICO_APDU_LE_MAX,    1};
        size_t got;
        uint16_t sw;

        if (total > 0xFFFF) {
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "%s: file too large", name);
            goto end;
        }
        if (cap - total < 4096) {
            cap = cap ? cap * 2 : 4096;
            if ((nb = realloc(buf, cap)) == NULL) {
                err = pico_err_raise(PICO_E_NOMEM, "%s", name);
                goto end;
            }
            buf = nb;
        }
        got = cap - total;
        if ((err = pico_schsm_xfer(c, name, &a, 0, buf + total, &got, &sw)) != PICO_OK)
            goto end;
        if (sw == 0x6282 && total > 0) /* 6.6: offset beyond the end */
            break;
        if (sw != 0x9000) {
            err = pico_schsm_sw_error(sw, name);
            goto end;
        }
        total += got;
        if (got < PICO_READ_CHUNK)
            break;
    }
    *data = buf;
    *len = total;
    buf = NULL;
end:
    free(buf);
    return err;
}

pico_err pico_schsm_update_file(pico_card *c, uint16_t fid, const uint8_t *data, size_t len)
{
    uint8_t cmd_data[4 + 4 + PICO_WRITE_CHUNK];
    size_t off = 0;
    char name[32];
    pico_err err = PICO_OK;

    snprintf(name, sizeof(name), "UPDATE BINARY %04X", fid);
    do {
        size_t n = len - off > PICO_WRITE_CHUNK ? PICO_WRITE_CHUNK : len - off, k = 0;
        pico_apdu a = {0x00, 0xD7, (uint8_t)(fid >> 8), (uint8_t)fid, cmd_data, 0, 0, 0};
        uint16_t sw;

        /* 6.7: 54 02 <offset> 53 <len> <data>; offset 0 replaces the whole file */
        cmd_data[k++] = 0x54;
        cmd_data[k++] = 0x02;
        cmd_data[k++] = (uint8_t)(off >> 8);
        cmd_data[k++] = (uint8_t)off;
        cmd_data[k++] = 0x53;
        if (n >= 0x100) {
            cmd_data[k++] = 0x82;
            cmd_data[k++] = (uint8_t)(n >> 8);
        } else if (n >= 0x80) {
            cmd_data[k++] = 0x81;
        }
        cmd_data[k++] = (uint8_t)n;
        memcpy(cmd_data + k, data + off, n);
        a.lc = k + n;
        if ((err = pico_schsm_xfer(c, name, &a, 0, NULL, NULL, &sw)) != PICO_OK)
            return err;
        if (sw != 0x9000)
            return pico_schsm_sw_error(sw, name);
        off += n;
    } while (off < len);
    return err;
}

pico_err pico_schsm_delete_file(pico_card *c, uint16_t fid)
{
    uint8_t fid_bytes[2] = {(uint8_t)(fid >> 8), (uint8_t)fid};
    pico_apdu a = {0x00, 0xE4, 0x02, 0x00, fid_bytes, 2, 0, 0};
    char name[32];
    uint16_t sw;
    pico_err err;

    snprintf(name, sizeof(name), "DELETE FILE %04X", fid);
    if ((err = pico_schsm_xfer(c, name, &a, 0, NULL, NULL, &sw)) != PICO_OK)
        return err;
    return pico_schsm_sw_error(sw, name);
}

pico_err pico_schsm_delete_key(pico_card *c, uint8_t ref, int *files)
{
    const uint8_t prefix[] = {PICO_PREFIX_PRKD, PICO_PREFIX_EE_CERT};
    size_t i;
    pico_err err;

    if (files != NULL)
        *files = 0;
    if ((err = pico_schsm_delete_file(c, (uint16_t)(PICO_PREFIX_KEY << 8 | ref))) != PICO_OK)
        return err;
    for (i = 0; i < sizeof(prefix); i++) {
        uint16_t fid = (uint16_t)(prefix[i] << 8 | ref);
        pico_err_mark(); /* a file that is not there (6A82) is no error here */
        err = pico_schsm_delete_file(c, fid);
        pico_err_pop_to_mark();
        if (err == PICO_OK && files != NULL)
            (*files)++;
        else if (err != PICO_OK && err != PICO_E_NOT_FOUND)
            return pico_err_raise(err, "DELETE FILE %04X (key %u)", fid, ref);
    }
    return PICO_OK;
}

pico_err pico_schsm_generate(pico_card *c, uint8_t keyref, const uint8_t *req, size_t req_len,
                             uint8_t **cvreq, size_t *cvreq_len)
{
    pico_apdu a = {0x00, 0x46, keyref, 0x00, req, req_len, PICO_APDU_LE_MAX, 1};
    size_t len = 4096;
    uint8_t *out;
    char name[48];
    uint16_t sw;
    pico_err err;

    *cvreq = NULL;
    *cvreq_len = 0;
    /* 6.1: reference 0 is the device key; the card would overwrite it */
    if (keyref == 0)
        return pico_err_raise(PICO_E_ARGS, "GENERATE: key reference 0 is the device key");
    if ((out = malloc(len)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "GENERATE");
    snprintf(name, sizeof(name), "GENERATE KEY PAIR key=%u", keyref);
    err = pico_schsm_xfer(c, name, &a, 0, out, &len, &sw);
    if (err == PICO_OK && sw != 0x9000)
        err = pico_schsm_sw_error(sw, name);
    if (err == PICO_OK && len == 0)
        err = pico_err_raise(PICO_E_UNSUPPORTED, "%s: the device created no key", name);
    if (err != PICO_OK) {
        free(out);
        return err;
    }
    *cvreq = out;
    *cvreq_len = len;
    return PICO_OK;
}

static pico_err key_op(pico_card *c, const char *op, uint8_t ins, uint8_t keyref, uint8_t alg,
                       const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    /* Le: the caller's capacity, so that the whole answer comes in this one APDU */
    size_t le = *out_len > PICO_APDU_LE_MAX ? PICO_APDU_LE_MAX : *out_len;
    pico_apdu a = {0x80, ins, keyref, alg, in, in_len, le, 0};
    char name[48];
    uint16_t sw;
    pico_err err;

    snprintf(name, sizeof(name), "%s key=%u alg=0x%02X", op, keyref, alg);
    if ((err = pico_schsm_xfer(c, name, &a, 0, out, out_len, &sw)) != PICO_OK)
        return err;
    return pico_schsm_sw_error(sw, name);
}

pico_err pico_schsm_sign(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                         size_t in_len, uint8_t *out, size_t *out_len)
{
    return key_op(c, "SIGN", 0x68, keyref, alg, in, in_len, out, out_len);
}

pico_err pico_schsm_decipher(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                             size_t in_len, uint8_t *out, size_t *out_len)
{
    return key_op(c, "DECIPHER", 0x62, keyref, alg, in, in_len, out, out_len);
}

pico_err pico_schsm_derive_raw(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                               size_t in_len, uint8_t *out, size_t *out_len)
{
    uint8_t z[1 + 64];
    size_t zlen = 1 + in_len;
    pico_err err;

    if (in_len == 0 || in_len > sizeof(z) - 1 || *out_len < in_len)
        return pico_err_raise(PICO_E_ARGS, "DECIPHER key=%u: a %zu-byte point, %zu bytes of room",
                              keyref, in_len, *out_len);
    /* Le = 1 + the secret: the whole answer in this APDU */
    if ((err = key_op(c, "DECIPHER", 0x62, keyref, alg, in, in_len, z, &zlen)) != PICO_OK)
        goto end;
    if (zlen != 1 + in_len || z[0] != 0x04) {
        err = pico_err_raise(PICO_E_BAD_RESPONSE, "DECIPHER key=%u: %zu bytes, not 04 || %zu",
                             keyref, zlen, in_len);
        goto end;
    }
    memcpy(out, z + 1, in_len);
    *out_len = in_len;
end:
    OPENSSL_cleanse(z, sizeof(z));
    return err;
}

pico_err pico_schsm_pka_status(pico_card *c, uint8_t status[4])
{
    pico_apdu a = {0x80, 0x54, 0x00, 0x00, NULL, 0, 256, 0};
    size_t len = 4;
    uint16_t sw;
    pico_err err;

    if ((err = pico_schsm_xfer(c, "MANAGE PKA status", &a, 0, status, &len, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6A86) /* 2.3: PKA not configured; not an error for the caller to report */
        return PICO_E_UNSUPPORTED;
    if (sw != 0x9000)
        return pico_schsm_sw_error(sw, "MANAGE PKA status");
    if (len != 4)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "MANAGE PKA status: %zu bytes", len);
    return PICO_OK;
}

static pico_err pka_manage(pico_card *c, const char *name, uint8_t p1, uint8_t p2,
                           const uint8_t *req, size_t req_len, uint8_t status[4])
{
    /* 5.3: the data is what follows the 67 header (sc-hsm-tool sends it so; both work) */
    pico_apdu a = {0x80, 0x54, p1, p2, req, req_len, 256, 1};
    size_t len = 4;
    uint16_t sw;
    pico_err err;

    if (req_len == 0)
        return pico_err_raise(PICO_E_ARGS, "%s: no registration data", name);
    if ((err = pico_schsm_xfer(c, name, &a, 0, status, &len, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6A84)
        return pico_err_raise(PICO_E_DEVICE, "%s: every pka slot is registered", name);
    if (sw == 0x6A82 || sw == 0x6A86)
        return pico_err_raise(PICO_E_UNSUPPORTED,
                              "%s: the device has no such pka slot "
                              "(pka not configured?)",
                              name);
    if (sw == 0x6985)
        return pico_err_raise(PICO_E_CONDITIONS,
                              "%s: pka keys are not replaceable on this "
                              "device (option at init)",
                              name);
    if (sw != 0x9000)
        return pico_schsm_sw_error(sw, name);
    if (len != 4)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "%s: %zu status bytes", name, len);
    return PICO_OK;
}

pico_err pico_schsm_pka_register(pico_card *c, const uint8_t *req, size_t req_len,
                                 uint8_t status[4])
{
    return pka_manage(c, "MANAGE PKA add", 0x00, 0x00, req, req_len, status);
}

pico_err pico_schsm_pka_replace(pico_card *c, uint8_t slot, const uint8_t *req, size_t req_len,
                                uint8_t status[4])
{
    return pka_manage(c, "MANAGE PKA replace", 0x01, slot, req, req_len, status);
}

pico_err pico_schsm_pka_query(pico_card *c, uint8_t slot, char *chr, size_t cap, int *authenticated)
{
    pico_apdu a = {0x80, 0x54, 0x02, slot, NULL, 0, 256, 0};
    uint8_t out[256];
    size_t len = sizeof(out);
    uint16_t sw;
    pico_err err;

    if ((err = pico_schsm_xfer(c, "MANAGE PKA query", &a, 0, out, &len, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6A88)
        return PICO_E_NOT_FOUND; /* an empty slot: an answer, not an error */
    if (sw == 0x6A86)
        return pico_err_raise(PICO_E_UNSUPPORTED, "MANAGE PKA query: no slot %u", slot);
    if (sw != 0x9000 && sw != 0x9001)
        return pico_schsm_sw_error(sw, "MANAGE PKA query");
    if (len == 0 || len >= cap)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "MANAGE PKA query: a chr of %zu bytes", len);
    memcpy(chr, out, len);
    chr[len] = '\0';
    *authenticated = sw == 0x9001;
    return PICO_OK;
}

pico_err pico_schsm_mse_set_pka(pico_card *c, const uint8_t *chr, size_t chr_len, int *done)
{
    uint8_t data[2 + 64];
    pico_apdu a = {0x00, 0x22, 0x81, 0xA4, data, chr_len + 2, 0, 0};
    uint16_t sw;
    pico_err err;

    *done = 0;
    if (chr_len == 0 || chr_len > 64)
        return pico_err_raise(PICO_E_ARGS, "MSE SET AT: a chr of %zu bytes", chr_len);
    data[0] = 0x83;
    data[1] = (uint8_t)chr_len;
    memcpy(data + 2, chr, chr_len);
    if ((err = pico_schsm_xfer(c, "MSE SET AT pka", &a, 0, NULL, NULL, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6985) { /* 5.4: this key already authenticated in this round */
        *done = 1;
        return PICO_OK;
    }
    if (sw == 0x6A88)
        return pico_err_raise(PICO_E_NOT_FOUND, "MSE SET AT: no pka key named %.*s registered",
                              (int)chr_len, (const char *)chr);
    return pico_schsm_sw_error(sw, "MSE SET AT pka");
}

pico_err pico_schsm_get_challenge(pico_card *c, uint8_t *out, size_t len)
{
    pico_apdu a = {0x00, 0x84, 0x00, 0x00, NULL, 0, len, 0};
    size_t got = len;
    uint16_t sw;
    pico_err err;

    if (len == 0 || len > 256)
        return pico_err_raise(PICO_E_ARGS, "GET CHALLENGE: %zu bytes", len);
    if ((err = pico_schsm_xfer(c, "GET CHALLENGE", &a, 0, out, &got, &sw)) != PICO_OK)
        return err;
    if (sw != 0x9000)
        return pico_schsm_sw_error(sw, "GET CHALLENGE");
    if (got != len)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "GET CHALLENGE: %zu of %zu bytes", got, len);
    return PICO_OK;
}

pico_err pico_schsm_external_authenticate(pico_card *c, const uint8_t *sig, size_t sig_len)
{
    pico_apdu a = {0x00, 0x82, 0x00, 0x00, sig, sig_len, 0, sig_len > 255};
    uint16_t sw;
    pico_err err;

    if ((err = pico_schsm_xfer(c, "EXTERNAL AUTHENTICATE", &a, 0, NULL, NULL, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6985)
        return pico_err_raise(PICO_E_PKA_FAILED, "the device refused the pka signature (wrong "
                                                 "key, or another client asked for a challenge)");
    if (sw == 0x6A88)
        return pico_err_raise(PICO_E_PKA_FAILED, "EXTERNAL AUTHENTICATE: no pka key selected");
    return pico_schsm_sw_error(sw, "EXTERNAL AUTHENTICATE");
}

static int put(uint8_t *buf, size_t *pos, size_t cap, uint8_t tag, const uint8_t *v, size_t l)
{
    if (l > 127 || *pos + 2 + l > cap)
        return 0;
    buf[(*pos)++] = tag;
    buf[(*pos)++] = (uint8_t)l;
    memcpy(buf + *pos, v, l);
    *pos += l;
    return 1;
}

pico_err pico_schsm_init_data(const pico_init_spec *spec, uint8_t **data, size_t *len)
{
    uint8_t buf[128], *out;
    size_t n = 0;
    const uint8_t opts[2] = {(uint8_t)(spec->options >> 8), (uint8_t)spec->options};
    int ok;

    *data = NULL;
    if (spec->so_pin == NULL)
        return pico_err_raise(PICO_E_ARGS, "initialize: an so-pin is needed");
    if (spec->pin == NULL && spec->pka_total == 0)
        return pico_err_raise(PICO_E_ARGS, "initialize: a user pin, pka keys, or both");
    if (spec->pin != NULL && (strlen(spec->pin) < 1 || strlen(spec->pin) > 16))
        return pico_err_raise(PICO_E_ARGS, "initialize: a pin has 1 to 16 characters");
    if (spec->retries < 0 || spec->retries > 15)
        return pico_err_raise(PICO_E_ARGS, "initialize: pin retries 1 to 15");
    if (spec->pka_total < 0 || spec->pka_total > 8 || spec->pka_required < 0 ||
        spec->pka_required > spec->pka_total || (spec->pka_total > 0 && spec->pka_required < 1))
        return pico_err_raise(PICO_E_ARGS, "initialize: pka needs 1 <= required <= total <= 8");
    if (spec->dkek_shares < -1 || spec->dkek_shares > 255 || spec->key_domains < 0 ||
        spec->key_domains > 16)
        return pico_err_raise(PICO_E_ARGS, "initialize: dkek shares 0-255, key domains 0-16");
    /* 3.1, in sc-hsm-tool's order: options, PIN, SO-PIN, retries, DKEK, PKA, domains */
    ok = put(buf, &n, sizeof(buf), 0x80, opts, 2);
    if (spec->pin != NULL)
        ok = ok && put(buf, &n, sizeof(buf), 0x81, (const uint8_t *)spec->pin, strlen(spec->pin));
    ok = ok && put(buf, &n, sizeof(buf), 0x82, spec->so_pin, 8);
    if (spec->retries > 0) {
        uint8_t r = (uint8_t)spec->retries;
        ok = ok && put(buf, &n, sizeof(buf), 0x91, &r, 1);
    }
    if (spec->dkek_shares >= 0) {
        uint8_t d = (uint8_t)spec->dkek_shares;
        ok = ok && put(buf, &n, sizeof(buf), 0x92, &d, 1);
    }
    if (spec->pka_total > 0) {
        uint8_t k[2] = {(uint8_t)spec->pka_total, (uint8_t)spec->pka_required};
        ok = ok && put(buf, &n, sizeof(buf), 0x93, k, 2);
    }
    if (spec->key_domains > 0) {
        uint8_t d = (uint8_t)spec->key_domains;
        ok = ok && put(buf, &n, sizeof(buf), 0x97, &d, 1);
    }
    if (!ok || (out = malloc(n)) == NULL) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return pico_err_raise(ok ? PICO_E_NOMEM : PICO_E_INTERNAL, "initialize data");
    }
    memcpy(out, buf, n);
    OPENSSL_cleanse(buf, sizeof(buf));
    *data = out;
    *len = n;
    return PICO_OK;
}

pico_err pico_schsm_initialize(pico_card *c, const pico_init_spec *spec)
{
    uint8_t *data = NULL;
    size_t len = 0;
    uint16_t sw;
    pico_err err;

    if ((err = pico_schsm_init_data(spec, &data, &len)) != PICO_OK)
        return err;
    {
        pico_apdu a = {0x80, 0x50, 0x00, 0x00, data, len, 0, 0};
        err = pico_schsm_xfer(c, "INITIALIZE", &a, 1, NULL, NULL, &sw);
    }
    OPENSSL_cleanse(data, len);
    free(data);
    if (err != PICO_OK)
        return err;
    return pico_schsm_sw_error(sw, "INITIALIZE");
}

pico_err pico_schsm_reset_retry_counter(pico_card *c, const uint8_t *so_pin, size_t so_len,
                                        int *tries)
{
    pico_apdu a = {0x00, 0x2C, 0x01, PICO_PIN_USER, so_pin, so_len, 0, 0};
    uint16_t sw;
    pico_err err;

    *tries = -1;
    if (so_len == 0 || so_len > 16)
        return pico_err_raise(PICO_E_ARGS, "RESET RETRY COUNTER: bad so-pin length");
    if ((err = pico_schsm_xfer(c, "RESET RETRY COUNTER", &a, 1, NULL, NULL, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6986) /* 4.3: P1=01 needs options 0001 and 0020 */
        return pico_err_raise(PICO_E_UNSUPPORTED, "RESET RETRY COUNTER: counter-only reset "
                                                  "disabled by the device options (sw=6986)");
    return pin_result(sw, "RESET RETRY COUNTER (so-pin)", tries);
}

/* ------------------------------------------------------------ WRAP, UNWRAP (8.2, 8.3) */

pico_err pico_schsm_wrap(pico_card *c, uint8_t keyref, uint8_t **blob, size_t *blob_len)
{
    pico_apdu a = {0x80, 0x72, keyref, 0x92, NULL, 0, PICO_APDU_LE_MAX, 1};
    size_t len = 4096;
    uint8_t *out;
    char name[32];
    uint16_t sw;
    pico_err err;

    *blob = NULL;
    *blob_len = 0;
    if ((out = malloc(len)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "WRAP");
    snprintf(name, sizeof(name), "WRAP key=%u", keyref);
    err = pico_schsm_xfer(c, name, &a, 0, out, &len, &sw);
    if (err == PICO_OK && sw == 0x6A88)
        err = pico_err_raise(PICO_E_NOT_FOUND,
                             "%s: the key's domain has no complete dkek (import the shares "
                             "first) (sw=6A88)",
                             name);
    else if (err == PICO_OK && sw == 0x6985)
        err = pico_err_raise(PICO_E_CONDITIONS, "%s: the key may not be wrapped (sw=6985)", name);
    else if (err == PICO_OK && sw != 0x9000)
        err = pico_schsm_sw_error(sw, name);
    else if (err == PICO_OK && len == 0)
        /* the firmware answers 9000 with nothing for a description of no known key type */
        err = pico_err_raise(PICO_E_DEVICE, "%s: the device returned no blob", name);
    if (err != PICO_OK) {
        free(out);
        return err;
    }
    *blob = out;
    *blob_len = len;
    return PICO_OK;
}

static pico_err unwrap(pico_card *c, uint8_t keyref, const uint8_t *blob, size_t len,
                       const char *style)
{
    pico_apdu a = {0x80, 0x74, keyref, 0x93, blob, len, 0, len > PICO_APDU_SHORT_MAX_LC};
    char name[40];
    uint16_t sw;
    pico_err err;

    /* 6.1: reference 0 is the device key; the card would overwrite it */
    if (keyref == 0)
        return pico_err_raise(PICO_E_ARGS, "UNWRAP: key reference 0 is the device key");
    snprintf(name, sizeof(name), "UNWRAP%s key=%u", style, keyref);
    if ((err = pico_schsm_xfer(c, name, &a, 0, NULL, NULL, &sw)) != PICO_OK)
        return err;
    if (sw == 0x6400)
        /* cmd_key_unwrap.c: no domain's DKEK has the blob's KCV, or its MAC or key is wrong */
        return pico_err_raise(PICO_E_DEVICE,
                              "%s: no dkek on the device matches the blob, or the blob is "
                              "damaged (sw=6400)",
                              name);
    if (sw == 0x6984)
        return pico_err_raise(PICO_E_DEVICE, "%s: not a key blob (sw=6984)", name);
    return pico_schsm_sw_error(sw, name);
}

pico_err pico_schsm_unwrap(pico_card *c, uint8_t keyref, const uint8_t *blob, size_t len)
{
    if (blob == NULL || len == 0)
        return pico_err_raise(PICO_E_ARGS, "UNWRAP: no blob");
    return unwrap(c, keyref, blob, len, "");
}

pico_err pico_schsm_unwrap_ef(pico_card *c, uint8_t keyref, const uint8_t *blob, size_t len)
{
    pico_err err;

    if (blob == NULL || len == 0)
        return pico_err_raise(PICO_E_ARGS, "UNWRAP: no blob");
    if ((err = pico_schsm_update_file(c, PICO_FID_UNWRAP_DATA, blob, len)) != PICO_OK)
        return err;
    return unwrap(c, keyref, NULL, 0, " (2F10)");
}

/* ---------------------------------------------------------------- DKEK, key domains (8.1) */

pico_err pico_schsm_dkek_parse(const uint8_t *p, size_t len, pico_dkek_info *info)
{
    memset(info, 0, sizeof(*info));
    if (len < 10 || len - 10 > sizeof(info->xkek_uid))
        return pico_err_raise(PICO_E_BAD_RESPONSE, "KEY DOMAIN: %zu bytes", len);
    info->total = p[0];
    info->missing = p[1];
    memcpy(info->kcv, p + 2, 8);
    info->xkek_len = len - 10;
    memcpy(info->xkek_uid, p + 10, info->xkek_len);
    return PICO_OK;
}

/* The status words every 80 52 variant shares (cmd_key_domain.c). */
static pico_err domain_sw(uint16_t sw, const char *name, uint8_t domain)
{
    switch (sw) {
    case 0x6985:
        return pico_err_raise(PICO_E_CONDITIONS,
                              "%s: needs the user pin verified in this session (sw=6985)", name);
    case 0x6B00:
    case 0x6A86:
        return pico_err_raise(PICO_E_UNSUPPORTED,
                              "%s: no key domain %u on this device, or not in that state "
                              "(sw=%04X)",
                              name, domain, sw);
    case 0x6A88:
        return pico_err_raise(PICO_E_NOT_FOUND, "%s: key domain %u is not set up (sw=6A88)", name,
                              domain);
    default:
        return pico_schsm_sw_error(sw, name);
    }
}

static pico_err domain_cmd(pico_card *c, const char *name, uint8_t p1, uint8_t domain,
                           const uint8_t *data, size_t len, int secret, pico_dkek_info *info,
                           uint16_t *sw)
{
    /* delete answers no data: no Le (8.1 writes it `80 52 03 <d>`) */
    pico_apdu a = {0x80, 0x52, p1, domain, data, len, info != NULL ? 256 : 0, 0};
    uint8_t out[80];
    size_t n = sizeof(out);
    pico_err err;

    if (domain > PICO_DKEK_MAX_DOMAIN)
        return pico_err_raise(PICO_E_ARGS, "%s: key domains are 0 to %d", name,
                              PICO_DKEK_MAX_DOMAIN);
    err = pico_schsm_xfer(c, name, &a, secret, out, &n, sw);
    if (err == PICO_OK && *sw == 0x9000 && info != NULL)
        err = pico_schsm_dkek_parse(out, n, info);
    OPENSSL_cleanse(out, sizeof(out));
    return err;
}

pico_err pico_schsm_dkek_status(pico_card *c, uint8_t domain, pico_dkek_info *info)
{
    uint16_t sw;
    pico_err err = domain_cmd(c, "KEY DOMAIN status", 0x00, domain, NULL, 0, 0, info, &sw);

    if (err != PICO_OK)
        return err;
    if (sw == 0x6A88) /* not set up: an answer, the caller says what it means */
        return PICO_E_NOT_FOUND;
    return sw == 0x9000 ? PICO_OK : domain_sw(sw, "KEY DOMAIN status", domain);
}

pico_err pico_schsm_dkek_import(pico_card *c, uint8_t domain, const uint8_t share[32],
                                pico_dkek_info *info)
{
    uint16_t sw;
    pico_err err = domain_cmd(c, "IMPORT DKEK SHARE", 0x00, domain, share, 32, 1, info, &sw);

    if (err != PICO_OK)
        return err;
    if (sw == 0x6986)
        return pico_err_raise(PICO_E_CONDITIONS,
                              "IMPORT DKEK SHARE: key domain %u has all its shares, or takes "
                              "none (sw=6986)",
                              domain);
    return sw == 0x9000 ? PICO_OK : domain_sw(sw, "IMPORT DKEK SHARE", domain);
}

pico_err pico_schsm_domain_create(pico_card *c, uint8_t domain, uint8_t shares,
                                  pico_dkek_info *info)
{
    uint16_t sw;
    pico_err err = domain_cmd(c, "KEY DOMAIN create", 0x01, domain, &shares, 1, 0, info, &sw);

    if (err != PICO_OK)
        return err;
    return sw == 0x9000 ? PICO_OK : domain_sw(sw, "KEY DOMAIN create", domain);
}

pico_err pico_schsm_domain_delete(pico_card *c, uint8_t domain)
{
    uint16_t sw;
    pico_err err = domain_cmd(c, "KEY DOMAIN delete", 0x03, domain, NULL, 0, 0, NULL, &sw);

    if (err != PICO_OK)
        return err;
    /* cmd_key_domain.c answers a successful delete with "reference not found" */
    if (sw == 0x6A88 || sw == 0x9000)
        return PICO_OK;
    if (sw == 0x6A89)
        return pico_err_raise(PICO_E_CONDITIONS,
                              "KEY DOMAIN delete: keys still use key domain %u (sw=6A89)", domain);
    return domain_sw(sw, "KEY DOMAIN delete", domain);
}

pico_err pico_schsm_domain_forget(pico_card *c, uint8_t domain, pico_dkek_info *info)
{
    uint16_t sw;
    pico_err err = domain_cmd(c, "KEY DOMAIN forget", 0x04, domain, NULL, 0, 0, info, &sw);

    if (err != PICO_OK)
        return err;
    return sw == 0x9000 ? PICO_OK : domain_sw(sw, "KEY DOMAIN forget", domain);
}
