/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shamir's threshold scheme over a DKEK share's password, as sc-hsm-tool
 * splits it (--pwd-shares-threshold/--pwd-shares-total): a 63-bit random
 * password is the constant term of a random polynomial of degree t-1 over
 * GF(p), p a random 64-bit safe prime; share i is (i, a(i)). Rebuilt by
 * Lagrange interpolation at 0. The text format is sc-hsm-tool's printout and
 * prompt answers (dkek.h).
 */
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkek.h"

pico_err pico_dkek_pw_random(uint8_t pw[PICO_DKEK_PW_LEN])
{
    do {
        if (RAND_priv_bytes(pw, PICO_DKEK_PW_LEN) != 1)
            return pico_err_raise(PICO_E_INTERNAL, "no random password");
        pw[0] &= 0x7F; /* below any 64-bit prime, as sc-hsm-tool makes it */
    } while (pw[0] == 0);
    return PICO_OK;
}

/* bn as big-endian bytes without leading zeros (BN_bn2bin, as sc-hsm-tool prints it). */
static int bn_out(const BIGNUM *bn, uint8_t out[8], size_t *len)
{
    int n = BN_num_bytes(bn);

    if (n > 8)
        return -1;
    *len = (size_t)BN_bn2bin(bn, out);
    return 0;
}

/* y = a[0] + a[1] x + ... + a[t-1] x^(t-1) mod p (Horner). */
static int poly_at(BIGNUM *const *a, unsigned t, const BIGNUM *x, const BIGNUM *p, BIGNUM *y,
                   BN_CTX *ctx)
{
    if (!BN_copy(y, a[t - 1]))
        return 0;
    for (unsigned k = t - 1; k-- > 0;)
        if (!BN_mod_mul(y, y, x, p, ctx) || !BN_mod_add(y, y, a[k], p, ctx))
            return 0;
    return 1;
}

pico_err pico_dkek_pw_split_new(const uint8_t pw[PICO_DKEK_PW_LEN], unsigned threshold,
                                unsigned total, pico_dkek_pw_split *out)
{
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *a[PICO_DKEK_PW_SHARES_MAX] = {NULL}, *p = BN_new(), *x = BN_new(), *y = BN_secure_new();
    pico_err err = PICO_E_INTERNAL;
    unsigned i;

    memset(out, 0, sizeof(*out));
    if (total < 3 || total > PICO_DKEK_PW_SHARES_MAX || threshold < 2 || threshold > total) {
        err = pico_err_raise(PICO_E_ARGS, "password shares: 3 to %d, threshold 2 to their number",
                             PICO_DKEK_PW_SHARES_MAX);
        goto end;
    }
    if (ctx == NULL || p == NULL || x == NULL || y == NULL)
        goto fail;
    for (i = 0; i < threshold; i++)
        if ((a[i] = BN_secure_new()) == NULL)
            goto fail;
    if (BN_bin2bn(pw, PICO_DKEK_PW_LEN, a[0]) == NULL)
        goto fail;
    /* a 64-bit prime has its top bit set: above any 63-bit password */
    do {
        if (!BN_generate_prime_ex2(p, 64, 1, NULL, NULL, NULL, ctx))
            goto fail;
    } while (BN_cmp(p, a[0]) <= 0);
    for (i = 1; i < threshold; i++)
        if (!BN_priv_rand_range(a[i], p))
            goto fail;
    if (bn_out(p, out->prime, &out->prime_len) != 0)
        goto fail;
    for (i = 0; i < total; i++) {
        if (!BN_set_word(x, i + 1) || !poly_at(a, threshold, x, p, y, ctx) ||
            bn_out(y, out->share[i].y, &out->share[i].y_len) != 0)
            goto fail;
        out->share[i].id = i + 1;
    }
    out->n = total;
    err = PICO_OK;
    goto end;
fail:
    pico_err_raise(PICO_E_INTERNAL, "password split failed");
    pico_dkek_pw_split_clear(out);
end:
    for (i = 0; i < PICO_DKEK_PW_SHARES_MAX; i++)
        BN_clear_free(a[i]);
    BN_free(p);
    BN_free(x);
    BN_clear_free(y);
    BN_CTX_free(ctx);
    return err;
}

/* l_i(0) = prod_{j != i} x_j / (x_j - x_i) mod p, accumulated into s as y_i l_i(0). */
static int lagrange_term(const pico_dkek_pw_split *sp, size_t i, const BIGNUM *p, BIGNUM *s,
                         BN_CTX *ctx)
{
    BIGNUM *num, *den, *t;
    int ok = 0;

    BN_CTX_start(ctx);
    num = BN_CTX_get(ctx);
    den = BN_CTX_get(ctx);
    t = BN_CTX_get(ctx);
    if (t == NULL || !BN_one(num) || !BN_one(den))
        goto end;
    for (size_t j = 0; j < sp->n; j++) {
        if (j == i)
            continue;
        if (!BN_set_word(t, sp->share[j].id) || !BN_mod_mul(num, num, t, p, ctx) ||
            !BN_set_word(t, sp->share[j].id) || !BN_sub_word(t, sp->share[i].id) ||
            !BN_nnmod(t, t, p, ctx) || !BN_mod_mul(den, den, t, p, ctx))
            goto end;
    }
    if (BN_mod_inverse(den, den, p, ctx) == NULL || !BN_mod_mul(num, num, den, p, ctx) ||
        BN_bin2bn(sp->share[i].y, (int)sp->share[i].y_len, t) == NULL ||
        !BN_mod_mul(t, t, num, p, ctx) || !BN_mod_add(s, s, t, p, ctx))
        goto end;
    ok = 1;
end:
    BN_CTX_end(ctx);
    return ok;
}

pico_err pico_dkek_pw_join(const pico_dkek_pw_split *split, uint8_t pw[PICO_DKEK_PW_LEN],
                           size_t *pw_len)
{
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *p = BN_new(), *s = BN_secure_new();
    pico_err err = PICO_E_INTERNAL;

    *pw_len = 0;
    if (split->n < 2 || split->prime_len == 0) {
        err = pico_err_raise(PICO_E_ARGS, "a prime and at least 2 password shares are needed");
        goto end;
    }
    for (size_t i = 0; i < split->n; i++)
        for (size_t j = i + 1; j < split->n; j++)
            if (split->share[i].id == split->share[j].id) {
                err = pico_err_raise(PICO_E_ARGS, "password share %u given twice",
                                     split->share[i].id);
                goto end;
            }
    if (ctx == NULL || p == NULL || s == NULL ||
        BN_bin2bn(split->prime, (int)split->prime_len, p) == NULL)
        goto fail;
    BN_zero(s);
    for (size_t i = 0; i < split->n; i++)
        if (!lagrange_term(split, i, p, s, ctx))
            goto fail;
    if (bn_out(s, pw, pw_len) != 0)
        goto fail;
    err = PICO_OK;
    goto end;
fail:
    /* a prime that is not one (no inverse), or shares of another split */
    err = pico_err_raise(PICO_E_ARGS, "the password shares do not fit together");
end:
    BN_free(p);
    BN_clear_free(s);
    BN_CTX_free(ctx);
    return err;
}

static void hex_colon(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 3 * i, i + 1 < n ? "%02x:" : "%02x", b[i]);
    if (n == 0)
        out[0] = '\0';
}

pico_err pico_dkek_pw_share_text(const pico_dkek_pw_split *split, size_t i, char *buf, size_t cap)
{
    char prime[3 * 8 + 1], value[3 * 8 + 1];
    int n;

    if (i >= split->n)
        return pico_err_raise(PICO_E_ARGS, "no password share %zu", i + 1);
    hex_colon(split->prime, split->prime_len, prime);
    hex_colon(split->share[i].y, split->share[i].y_len, value);
    n = snprintf(buf, cap, "Prime       : %s\nShare ID    : %u\nShare value : %s\n", prime,
                 split->share[i].id, value);
    OPENSSL_cleanse(value, sizeof(value));
    if (n < 0 || (size_t)n >= cap)
        return pico_err_raise(PICO_E_ARGS, "password share text too long");
    return PICO_OK;
}

void pico_dkek_pw_split_clear(pico_dkek_pw_split *split)
{
    OPENSSL_cleanse(split, sizeof(*split));
}

/* ---------------------------------------------------------------- parsing */

enum { WANT_PRIME, WANT_ID, WANT_VALUE };

/* Hex bytes with optional ':' or ' ' between them (sc-hsm-tool's own printout): 1..8 bytes. */
static int parse_hex(const char *s, uint8_t out[8], size_t *len)
{
    char digits[17];
    size_t n = 0;
    int r = -1;

    for (; *s; s++) {
        if (*s == ':' || *s == ' ' || *s == '\t')
            continue;
        if (!isxdigit((unsigned char)*s) || n == 16)
            goto end;
        digits[n++] = *s;
    }
    if (n == 0)
        goto end;
    *len = (n + 1) / 2;
    for (size_t i = 0, k = 0; i < *len; i++) {
        /* an odd count: the first byte has one digit */
        size_t take = (i == 0 && n % 2) ? 1 : 2;
        unsigned v = 0;
        for (size_t j = 0; j < take; j++, k++)
            v = v << 4 | (unsigned)(isdigit((unsigned char)digits[k])
                                        ? digits[k] - '0'
                                        : (tolower((unsigned char)digits[k]) - 'a' + 10));
        out[i] = (uint8_t)v;
    }
    r = 0;
end:
    OPENSSL_cleanse(digits, sizeof(digits));
    return r;
}

/* "Label : value": the label's kind (0 none: the line is a bare value), value after ':'. */
static int line_label(char *line, char **value)
{
    char *colon = strchr(line, ':'), *p;

    *value = line;
    if (colon == NULL)
        return 0;
    for (p = line; p < colon; p++)
        if (!isxdigit((unsigned char)*p) && !isspace((unsigned char)*p))
            break;
    if (p == colon)
        return 0; /* "c6:dc:...": a value */
    *colon = '\0';
    *value = colon + 1;
    while (**value == ' ' || **value == '\t')
        (*value)++;
    for (p = colon; p > line && isspace((unsigned char)p[-1]);)
        *--p = '\0';
    if (strcasecmp(line, "prime") == 0)
        return 1 + WANT_PRIME;
    if (strcasecmp(line, "share id") == 0)
        return 1 + WANT_ID;
    if (strcasecmp(line, "share value") == 0)
        return 1 + WANT_VALUE;
    return -1; /* another label: not ours */
}

static int is_value(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) && *s != ':' && *s != ' ' && *s != '\t')
            return 0;
    return 1;
}

/* One line of the text into out; *want is what a bare value is. 0, or -1 on an error. */
static int parse_line(char *line, int *want, pico_dkek_pw_split *out)
{
    char *v, *end;
    int kind = line_label(line, &v);
    uint8_t b[8];
    size_t n;

    if (kind < 0 || (kind == 0 && !is_value(v)))
        return 0; /* sc-hsm-tool's other lines ("Share 1 of 3", "Press <enter> ...") */
    kind = kind == 0 ? *want : kind - 1;
    if (kind == WANT_PRIME) {
        if (parse_hex(v, b, &n) != 0 ||
            (out->prime_len > 0 && (n != out->prime_len || memcmp(b, out->prime, n) != 0)))
            return -1;
        memcpy(out->prime, b, n);
        out->prime_len = n;
        *want = WANT_ID;
    } else if (kind == WANT_ID) {
        unsigned long id = strtoul(v, &end, 10); /* decimal, as printed */
        if (out->prime_len == 0 || end == v || *end != '\0' || id == 0 || id > 255 ||
            out->n == PICO_DKEK_PW_SHARES_MAX)
            return -1;
        out->share[out->n].id = (unsigned)id;
        *want = WANT_VALUE;
    } else {
        if (*want != WANT_VALUE || parse_hex(v, out->share[out->n].y, &n) != 0)
            return -1;
        out->share[out->n++].y_len = n;
        *want = WANT_ID;
    }
    OPENSSL_cleanse(b, sizeof(b));
    return 0;
}

pico_err pico_dkek_pw_parse(const char *text, pico_dkek_pw_split *out)
{
    char *copy = OPENSSL_strdup(text), *line, *save = NULL;
    int want = WANT_PRIME, lineno = 0;
    pico_err err = PICO_OK;

    memset(out, 0, sizeof(*out));
    if (copy == NULL)
        return pico_err_raise(PICO_E_NOMEM, "password shares");
    for (line = strtok_r(copy, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        size_t n = strlen(line);
        lineno++;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (parse_line(line, &want, out) != 0) {
            /* the line number only: the line may hold a share */
            err = pico_err_raise(
                PICO_E_ARGS,
                "password shares: entry %d (blank lines not counted) is not what was expected",
                lineno);
            break;
        }
    }
    if (err == PICO_OK && (out->prime_len == 0 || want == WANT_VALUE || out->n < 2))
        err = pico_err_raise(PICO_E_ARGS, "password shares: a prime and at least 2 shares (ID "
                                          "and value) are needed");
    if (err != PICO_OK)
        pico_dkek_pw_split_clear(out);
    OPENSSL_clear_free(copy, strlen(text) + 1);
    return err;
}
