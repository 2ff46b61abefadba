/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico: URIs, after RFC 7512 (PKCS#11 URIs):
 *
 *   pico:[path-attr *(";" path-attr)]["?" query-attr *("&" query-attr)]
 *
 * Path attributes select an object: token (device label or serial), reader
 * (PC/SC reader name), object (key or certificate label), id (key id: hex
 * digits, or percent-encoded bytes), type (private | public | cert).
 * Query attributes carry login factors: pin-value, pin-source
 * (file:PATH | env:VAR | fd:N), pka-key (repeatable, for m-of-n),
 * pka-pin-source, pin-last-try (yes | no).
 * Values are percent-decoded; `pico:` alone matches everything.
 */
#ifndef PICO_URI_H
#define PICO_URI_H

#include <stddef.h>
#include <stdint.h>

#define PICO_URI_MAX_PKA_KEYS 8
#define PICO_URI_MAX_ID 64

typedef enum pico_obj_type {
    PICO_OBJ_ANY = 0,
    PICO_OBJ_PRIVATE,
    PICO_OBJ_PUBLIC,
    PICO_OBJ_CERT,
} pico_obj_type;

typedef struct pico_uri {
    char *token;
    char *reader;
    char *object;
    uint8_t id[PICO_URI_MAX_ID];
    size_t id_len; /* 0: no id given */
    pico_obj_type type;
    char *pin_value; /* secret, in pico_secret_hold memory: released by pico_uri_free */
    char *pin_source;
    char *pka_keys[PICO_URI_MAX_PKA_KEYS];
    size_t n_pka_keys;
    char *pka_pin_source;
    int pin_last_try; /* -1 not given, 0 no, 1 yes */
} pico_uri;

typedef enum pico_uri_err {
    PICO_URI_OK = 0,
    PICO_URI_ERR_SCHEME,    /* does not start with "pico:" */
    PICO_URI_ERR_ENCODING,  /* bad percent-encoding or a forbidden character */
    PICO_URI_ERR_UNKNOWN,   /* unknown attribute, or a path attribute in the query */
    PICO_URI_ERR_DUPLICATE, /* attribute given twice */
    PICO_URI_ERR_EMPTY,     /* attribute without a value */
    PICO_URI_ERR_VALUE,     /* value out of its domain (type=, id=, pin-last-try=) */
    PICO_URI_ERR_TOO_MANY,  /* more pka-key attributes than a device can register */
    PICO_URI_ERR_NOMEM,
} pico_uri_err;

/*
 * Parses str into uri (which the caller zero-initialises or not: it is reset
 * here). On error uri is left empty, *err_at (if not NULL) points to the
 * offending attribute within str, and the code says why. Never echoes secret
 * values: callers may print err_at only up to the '=' sign (see
 * pico_uri_attr_name_len).
 */
pico_uri_err pico_uri_parse(const char *str, pico_uri *uri, const char **err_at);

/* Length of the attribute name at p (up to '=', ';', '&' or the end). */
size_t pico_uri_attr_name_len(const char *p);

/* A short lowercase message for an error code. */
const char *pico_uri_strerror(pico_uri_err err);

/*
 * The project's one percent-decoder (RFC 3986 2.1) and one hex decoder, for
 * pico: and pkcs11: URIs, key ids and the tool's hex arguments.
 * pico_pct_decode: [p, p+n) into a new NUL-terminated buffer (*out, *out_len
 * without the NUL; OPENSSL_clear_free it); letters, digits and the characters
 * in plain stand for themselves, anything else must be %XX. 0 ok, -1 bad, -2
 * no memory.
 * pico_hex_decode: [s, s+n) as hex digit pairs, with optional sep characters
 * between bytes (':' as openssl prints ids; 0 for none), into at most cap
 * bytes. 0 ok, -1 bad.
 */
int pico_pct_decode(const char *p, size_t n, const char *plain, char **out, size_t *out_len);
int pico_hex_decode(const char *s, size_t n, char sep, uint8_t *out, size_t cap, size_t *len);

/*
 * Formats the path attributes of uri (never the query: it may hold secrets)
 * as a canonical pico: URI. Returns a malloc'ed string, NULL on failure.
 */
char *pico_uri_format(const pico_uri *uri);

/*
 * Deep copy of src into dst (secrets included, pin-value held as
 * pico_secret_hold holds it). 1 ok, 0 out of memory (dst left empty).
 */
int pico_uri_dup(const pico_uri *src, pico_uri *dst);

/* Frees what uri holds (cleansing secrets) and resets it. */
void pico_uri_free(pico_uri *uri);

/* 1 when the string looks like a pico: URI (scheme check only). */
int pico_uri_is_pico(const char *str);

#endif
