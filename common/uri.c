/* SPDX-License-Identifier: Apache-2.0 */
#include "uri.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

#define PICO_SCHEME "pico:"

enum attr_kind { ATTR_STRING, ATTR_SECRET, ATTR_ID, ATTR_TYPE, ATTR_PKA_KEY, ATTR_YESNO };

struct attr_def {
    const char *name;
    int in_query; /* 0: path attribute, 1: query attribute (RFC 7512 4.) */
    enum attr_kind kind;
    size_t offset; /* of the char * (or other) field in pico_uri */
};

static const struct attr_def attrs[] = {
    {"token", 0, ATTR_STRING, offsetof(pico_uri, token)},
    {"reader", 0, ATTR_STRING, offsetof(pico_uri, reader)},
    {"object", 0, ATTR_STRING, offsetof(pico_uri, object)},
    {"id", 0, ATTR_ID, 0},
    {"type", 0, ATTR_TYPE, 0},
    {"pin-value", 1, ATTR_SECRET, offsetof(pico_uri, pin_value)},
    {"pin-source", 1, ATTR_STRING, offsetof(pico_uri, pin_source)},
    {"pka-key", 1, ATTR_PKA_KEY, 0},
    {"pka-pin-source", 1, ATTR_STRING, offsetof(pico_uri, pka_pin_source)},
    {"pin-last-try", 1, ATTR_YESNO, 0},
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pico_pct_decode(const char *p, size_t n, const char *plain, char **out, size_t *out_len)
{
    char *buf = malloc(n + 1);
    size_t i, k = 0;

    if (buf == NULL)
        return -2;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hexval(p[i + 1])) < 0 || (lo = hexval(p[i + 2])) < 0)
                goto bad;
            buf[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != '\0' && strchr(plain, c) != NULL)) {
            buf[k++] = (char)c;
        } else {
            goto bad;
        }
    }
    buf[k] = '\0';
    *out = buf;
    *out_len = k;
    return 0;
bad:
    OPENSSL_clear_free(buf, n + 1);
    return -1;
}

int pico_hex_decode(const char *s, size_t n, char sep, uint8_t *out, size_t cap, size_t *len)
{
    size_t i, k = 0;

    *len = 0;
    for (i = 0; i < n; i++) {
        int hi, lo;
        if (sep != '\0' && s[i] == sep)
            continue;
        if (i + 1 >= n || (hi = hexval(s[i])) < 0 || (lo = hexval(s[i + 1])) < 0 || k == cap)
            return -1;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    *len = k;
    return 0;
}

/*
 * RFC 7512 pchar/qchar as pico: URIs take them: the characters no URI may hold
 * unencoded, '?' (only between path and query) and, in the path, '&' must be
 * percent-encoded; '/' is allowed as RFC 7512 allows it.
 */
#define PICO_PATH_PLAIN "-._~!$'()*+,/:;=@[]"
#define PICO_QUERY_PLAIN "-._~!$&'()*+,/:;=@[]"

/* id=: a run of hex digits (01a2), or percent-encoded bytes (%01%A2) as in RFC 7512. */
static pico_uri_err parse_id(const char *raw, size_t raw_len, const char *dec, size_t dec_len,
                             pico_uri *uri)
{
    if (memchr(raw, '%', raw_len) != NULL) {
        if (dec_len > PICO_URI_MAX_ID)
            return PICO_URI_ERR_VALUE;
        memcpy(uri->id, dec, dec_len);
        uri->id_len = dec_len;
        return PICO_URI_OK;
    }
    if (pico_hex_decode(dec, dec_len, '\0', uri->id, PICO_URI_MAX_ID, &uri->id_len) != 0)
        return PICO_URI_ERR_VALUE;
    return PICO_URI_OK;
}

static pico_uri_err set_attr(pico_uri *uri, const struct attr_def *def, const char *raw,
                             size_t raw_len, char *dec, size_t dec_len, unsigned *seen,
                             unsigned bit)
{
    pico_uri_err rc = PICO_URI_OK;
    char **slot;

    if (def->kind != ATTR_PKA_KEY) {
        if (*seen & bit) {
            rc = PICO_URI_ERR_DUPLICATE;
            goto end;
        }
        *seen |= bit;
    }
    switch (def->kind) {
    case ATTR_STRING:
    case ATTR_SECRET:
        if (strlen(dec) != dec_len) { /* an encoded NUL would truncate the value */
            rc = PICO_URI_ERR_VALUE;
            goto end;
        }
        slot = (char **)((char *)uri + def->offset);
        if (def->kind == ATTR_STRING) {
            *slot = dec;
            return PICO_URI_OK;
        }
        /* a PIN lives as long as the key that holds it: out of core dumps and swap */
        if ((*slot = pico_secret_hold(dec, dec_len)) == NULL)
            rc = dec_len > PICO_SECRET_HELD_MAX ? PICO_URI_ERR_VALUE : PICO_URI_ERR_NOMEM;
        break;
    case ATTR_PKA_KEY:
        if (uri->n_pka_keys == PICO_URI_MAX_PKA_KEYS) {
            rc = PICO_URI_ERR_TOO_MANY;
            goto end;
        }
        if (strlen(dec) != dec_len) {
            rc = PICO_URI_ERR_VALUE;
            goto end;
        }
        uri->pka_keys[uri->n_pka_keys++] = dec;
        return PICO_URI_OK;
    case ATTR_ID:
        rc = parse_id(raw, raw_len, dec, dec_len, uri);
        break;
    case ATTR_TYPE:
        if (strcmp(dec, "private") == 0)
            uri->type = PICO_OBJ_PRIVATE;
        else if (strcmp(dec, "public") == 0)
            uri->type = PICO_OBJ_PUBLIC;
        else if (strcmp(dec, "cert") == 0)
            uri->type = PICO_OBJ_CERT;
        else
            rc = PICO_URI_ERR_VALUE;
        break;
    case ATTR_YESNO:
        if (strcmp(dec, "yes") == 0)
            uri->pin_last_try = 1;
        else if (strcmp(dec, "no") == 0)
            uri->pin_last_try = 0;
        else
            rc = PICO_URI_ERR_VALUE;
        break;
    }
end:
    OPENSSL_clear_free(dec, dec_len + 1);
    return rc;
}

size_t pico_uri_attr_name_len(const char *p)
{
    return strcspn(p, "=;&?");
}

int pico_uri_is_pico(const char *str)
{
    return str != NULL && strncasecmp(str, PICO_SCHEME, strlen(PICO_SCHEME)) == 0;
}

/* One part (path or query) of the URI: attributes separated by sep. */
static pico_uri_err parse_part(const char *p, size_t n, int in_query, pico_uri *uri, unsigned *seen,
                               const char **err_at)
{
    const char sep = in_query ? '&' : ';';
    const char *end = p + n;

    while (p < end) {
        const char *next = memchr(p, sep, (size_t)(end - p));
        const char *eq, *val;
        size_t alen, name_len, val_len, dec_len, i;
        const struct attr_def *def = NULL;
        char *dec = NULL;
        pico_uri_err rc;
        int d;

        if (next == NULL)
            next = end;
        alen = (size_t)(next - p);
        *err_at = p;
        eq = memchr(p, '=', alen);
        if (eq == NULL) /* "pico:token" or "pico:;": an attribute without a value */
            return PICO_URI_ERR_EMPTY;
        name_len = (size_t)(eq - p);
        for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
            if (strlen(attrs[i].name) == name_len && memcmp(attrs[i].name, p, name_len) == 0) {
                def = &attrs[i];
                break;
            }
        }
        if (def == NULL || def->in_query != in_query)
            return PICO_URI_ERR_UNKNOWN;
        val = eq + 1;
        val_len = (size_t)(next - val);
        if (val_len == 0)
            return PICO_URI_ERR_EMPTY;
        d = pico_pct_decode(val, val_len, in_query ? PICO_QUERY_PLAIN : PICO_PATH_PLAIN, &dec,
                            &dec_len);
        rc = d == 0 ? PICO_URI_OK : d == -2 ? PICO_URI_ERR_NOMEM : PICO_URI_ERR_ENCODING;
        if (rc != PICO_URI_OK)
            return rc;
        if (dec_len == 0) {
            OPENSSL_clear_free(dec, 1);
            return PICO_URI_ERR_EMPTY;
        }
        rc = set_attr(uri, def, val, val_len, dec, dec_len, seen, 1u << i);
        if (rc != PICO_URI_OK)
            return rc;
        p = next < end ? next + 1 : end;
        if (next < end && p == end)
            return PICO_URI_ERR_EMPTY; /* trailing separator: an empty attribute */
    }
    return PICO_URI_OK;
}

pico_uri_err pico_uri_parse(const char *str, pico_uri *uri, const char **err_at)
{
    const char *at = str, *body, *q;
    unsigned seen = 0;
    pico_uri_err rc;
    size_t len;

    memset(uri, 0, sizeof(*uri));
    uri->pin_last_try = -1;
    if (!pico_uri_is_pico(str)) {
        rc = PICO_URI_ERR_SCHEME;
        goto end;
    }
    body = str + strlen(PICO_SCHEME);
    len = strlen(body);
    q = memchr(body, '?', len);
    rc = parse_part(body, q ? (size_t)(q - body) : len, 0, uri, &seen, &at);
    if (rc == PICO_URI_OK && q != NULL) {
        if (q[1] == '\0') {
            at = q;
            rc = PICO_URI_ERR_EMPTY;
        } else {
            rc = parse_part(q + 1, strlen(q + 1), 1, uri, &seen, &at);
        }
    }
end:
    if (rc != PICO_URI_OK) {
        pico_uri_free(uri);
        if (err_at != NULL)
            *err_at = at;
    }
    return rc;
}

const char *pico_uri_strerror(pico_uri_err err)
{
    switch (err) {
    case PICO_URI_OK:
        return "ok";
    case PICO_URI_ERR_SCHEME:
        return "not a pico: uri";
    case PICO_URI_ERR_ENCODING:
        return "bad percent-encoding or character in uri";
    case PICO_URI_ERR_UNKNOWN:
        return "unknown uri attribute";
    case PICO_URI_ERR_DUPLICATE:
        return "uri attribute given twice";
    case PICO_URI_ERR_EMPTY:
        return "empty uri attribute";
    case PICO_URI_ERR_VALUE:
        return "invalid uri attribute value";
    case PICO_URI_ERR_TOO_MANY:
        return "too many pka-key attributes (a device registers at most 8)";
    case PICO_URI_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown uri error";
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved characters). */
static int append_pct(char **buf, size_t *len, size_t *cap, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (*len + 4 > *cap) {
            size_t ncap = *cap * 2 + 16;
            char *nb = realloc(*buf, ncap);
            if (nb == NULL)
                return -1;
            *buf = nb;
            *cap = ncap;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            (*buf)[(*len)++] = (char)c;
        } else {
            (*buf)[(*len)++] = '%';
            (*buf)[(*len)++] = hex[c >> 4];
            (*buf)[(*len)++] = hex[c & 15];
        }
    }
    (*buf)[*len] = '\0';
    return 0;
}

static int append_raw(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);

    if (*len + n + 1 > *cap) {
        size_t ncap = *len + n + 64;
        char *nb = realloc(*buf, ncap);
        if (nb == NULL)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

char *pico_uri_format(const pico_uri *uri)
{
    static const char *const types[] = {NULL, "private", "public", "cert"};
    char *buf = NULL;
    size_t len = 0, cap = 0, i;
    int first = 1;
    struct {
        const char *name;
        const char *value;
    } strs[] = {{"token", uri->token}, {"reader", uri->reader}, {"object", uri->object}};

    if (append_raw(&buf, &len, &cap, PICO_SCHEME) != 0)
        goto err;
    for (i = 0; i < 3; i++) {
        if (strs[i].value == NULL)
            continue;
        if ((!first && append_raw(&buf, &len, &cap, ";") != 0) ||
            append_raw(&buf, &len, &cap, strs[i].name) != 0 ||
            append_raw(&buf, &len, &cap, "=") != 0 ||
            append_pct(&buf, &len, &cap, (const uint8_t *)strs[i].value, strlen(strs[i].value)) !=
                0)
            goto err;
        first = 0;
    }
    if (uri->id_len > 0) {
        static const char hex[] = "0123456789abcdef";
        char h[3] = {0};
        if ((!first && append_raw(&buf, &len, &cap, ";") != 0) ||
            append_raw(&buf, &len, &cap, "id=") != 0)
            goto err;
        for (i = 0; i < uri->id_len; i++) {
            h[0] = hex[uri->id[i] >> 4];
            h[1] = hex[uri->id[i] & 15];
            if (append_raw(&buf, &len, &cap, h) != 0)
                goto err;
        }
        first = 0;
    }
    if (uri->type != PICO_OBJ_ANY) {
        if ((!first && append_raw(&buf, &len, &cap, ";") != 0) ||
            append_raw(&buf, &len, &cap, "type=") != 0 ||
            append_raw(&buf, &len, &cap, types[uri->type]) != 0)
            goto err;
    }
    return buf;
err:
    free(buf);
    return NULL;
}

static int dup_str(char **dst, const char *src)
{
    if (src == NULL)
        return 1;
    *dst = malloc(strlen(src) + 1);
    if (*dst == NULL)
        return 0;
    memcpy(*dst, src, strlen(src) + 1);
    return 1;
}

int pico_uri_dup(const pico_uri *src, pico_uri *dst)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    memcpy(dst->id, src->id, src->id_len);
    dst->id_len = src->id_len;
    dst->type = src->type;
    dst->pin_last_try = src->pin_last_try;
    dst->n_pka_keys = src->n_pka_keys;
    if (src->pin_value != NULL &&
        (dst->pin_value = pico_secret_hold(src->pin_value, strlen(src->pin_value))) == NULL)
        goto err;
    if (!dup_str(&dst->token, src->token) || !dup_str(&dst->reader, src->reader) ||
        !dup_str(&dst->object, src->object) || !dup_str(&dst->pin_source, src->pin_source) ||
        !dup_str(&dst->pka_pin_source, src->pka_pin_source))
        goto err;
    for (i = 0; i < src->n_pka_keys; i++)
        if (!dup_str(&dst->pka_keys[i], src->pka_keys[i]))
            goto err;
    return 1;
err:
    pico_uri_free(dst);
    return 0;
}

void pico_uri_free(pico_uri *uri)
{
    size_t i;

    free(uri->token);
    free(uri->reader);
    free(uri->object);
    pico_secret_release(uri->pin_value);
    free(uri->pin_source);
    for (i = 0; i < uri->n_pka_keys; i++)
        free(uri->pka_keys[i]);
    free(uri->pka_pin_source);
    OPENSSL_cleanse(uri, sizeof(*uri));
    memset(uri, 0, sizeof(*uri));
    uri->pin_last_try = -1;
}
