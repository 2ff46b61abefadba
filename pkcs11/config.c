/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's settings (pico-pkcs11(5)): first the file PICO_PKCS11_CONFIG
 * names (one "key = value" a line, # comments), for applications that load
 * the module directly; then the string C_Initialize got in pReserved, which
 * is what p11-kit passes from the registration's x-init-reserved: line, raw
 * ("key=value" words, separated by blanks or ';'). A value holds blanks or
 * ';' in double quotes, with \" and \\ inside (common/words.h), in either
 * place. Later settings win, and pka-key adds a signer each time. An unknown
 * key, or malformed quoting, is an error: a mistyped pin-source must not pass
 * for "no PIN source".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "module.h"
#include "words.h"

enum { S_READER, S_PIN_SOURCE, S_PKA_KEYS, S_PKA_PIN_SOURCE, S_DEBUG };

static int set_string(int slot, const char *value)
{
    char *v = strdup(value);

    if (v == NULL)
        return 0;
    free(p11.cfg_strings[slot]);
    p11.cfg_strings[slot] = v;
    return 1;
}

/* pka-key may be given several times (m-of-n): the device layer takes them as words, each
 * quoted here so that a path with blanks stays one key. */
static int add_pka_key(const char *value)
{
    const char *old = p11.cfg_strings[S_PKA_KEYS];
    char *q = pico_word_quote(value), *v = NULL;
    size_t n;

    if (q != NULL) {
        n = (old != NULL ? strlen(old) + 1 : 0) + strlen(q) + 1;
        if ((v = malloc(n)) != NULL)
            snprintf(v, n, "%s%s%s", old != NULL ? old : "", old != NULL ? " " : "", q);
    }
    free(q);
    if (v == NULL)
        return 0;
    free(p11.cfg_strings[S_PKA_KEYS]);
    p11.cfg_strings[S_PKA_KEYS] = v;
    return 1;
}

static int yes_no(const char *value, int *out)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
        *out = 1;
    else if (strcmp(value, "no") == 0 || strcmp(value, "0") == 0 || strcmp(value, "false") == 0)
        *out = 0;
    else
        return 0;
    return 1;
}

static CK_RV set_option(const char *key, const char *value, const char *where)
{
    int ok;

    if (strcmp(key, "reader") == 0)
        ok = set_string(S_READER, value);
    else if (strcmp(key, "pin-source") == 0)
        ok = set_string(S_PIN_SOURCE, value);
    else if (strcmp(key, "pka-key") == 0)
        ok = add_pka_key(value);
    else if (strcmp(key, "pka-pin-source") == 0)
        ok = set_string(S_PKA_PIN_SOURCE, value);
    else if (strcmp(key, "debug") == 0)
        ok = set_string(S_DEBUG, value);
    else if (strcmp(key, "cache-pin") == 0)
        ok = yes_no(value, &p11.cfg.cache_pin);
    else if (strcmp(key, "pin-last-try") == 0)
        ok = yes_no(value, &p11.pin_last_try);
    else {
        fprintf(stderr, "pico-pkcs11: unknown setting '%s' in %s\n", key, where);
        return CKR_ARGUMENTS_BAD;
    }
    if (!ok)
        fprintf(stderr, "pico-pkcs11: bad value for '%s' in %s\n", key, where);
    return ok ? CKR_OK : CKR_ARGUMENTS_BAD;
}

static CK_RV bad_quoting(const char *s, const char *why, const char *where)
{
    fprintf(stderr, "pico-pkcs11: malformed quoting in %s: %s in '%.40s'\n", where, why, s);
    return CKR_ARGUMENTS_BAD;
}

/* One "key=value" (blanks around '=' allowed in the file, whose value is unquoted here:
 * unquote); s is modified. */
static CK_RV parse_item(char *s, const char *where, int unquote)
{
    char *eq = strchr(s, '='), *k_end, *v;
    const char *why = NULL;

    if (eq == NULL) {
        fprintf(stderr, "pico-pkcs11: '%.40s' in %s is not key=value\n", s, where);
        return CKR_ARGUMENTS_BAD;
    }
    for (k_end = eq; k_end > s && isspace((unsigned char)k_end[-1]); k_end--)
        ;
    *k_end = '\0';
    for (v = eq + 1; isspace((unsigned char)*v); v++)
        ;
    if (unquote && pico_word_unquote(v, &why) != 0)
        return bad_quoting(s, why, where);
    return set_option(s, v, where);
}

static CK_RV load_file(const char *path)
{
    char line[1024], *s, *e;
    FILE *f = fopen(path, "r");
    CK_RV rv = CKR_OK;

    if (f == NULL) {
        fprintf(stderr, "pico-pkcs11: cannot read PICO_PKCS11_CONFIG file %s\n", path);
        return CKR_ARGUMENTS_BAD;
    }
    while (rv == CKR_OK && fgets(line, sizeof(line), f) != NULL) {
        for (s = line; isspace((unsigned char)*s); s++)
            ;
        for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
            ;
        *e = '\0';
        if (*s != '\0' && *s != '#')
            rv = parse_item(s, path, 1);
    }
    fclose(f);
    return rv;
}

static CK_RV load_reserved(const char *reserved)
{
    char *copy = strdup(reserved), *p = copy, *item = NULL;
    const char *why = NULL;
    CK_RV rv = CKR_OK;
    int got;

    if (copy == NULL)
        return CKR_HOST_MEMORY;
    while (rv == CKR_OK && (got = pico_word_next(&p, ";", &item, &why)) != 0)
        rv = got < 0 ? bad_quoting(item, why, "x-init-reserved")
                     : parse_item(item, "x-init-reserved", 0);
    free(copy);
    return rv;
}

CK_RV p11_config_load(const char *reserved)
{
    const char *file = getenv("PICO_PKCS11_CONFIG");
    CK_RV rv = CKR_OK;

    p11_config_free();
    if (file != NULL && *file != '\0')
        rv = load_file(file);
    if (rv == CKR_OK && reserved != NULL)
        rv = load_reserved(reserved);
    if (rv != CKR_OK) {
        p11_config_free();
        return rv;
    }
    if (p11.cfg_strings[S_DEBUG] != NULL)
        pico_log_init(p11.cfg_strings[S_DEBUG]);
    p11.cfg.default_reader = p11.cfg_strings[S_READER];
    p11.cfg.pin_source = p11.cfg_strings[S_PIN_SOURCE];
    p11.cfg.pka_keys = p11.cfg_strings[S_PKA_KEYS];
    p11.cfg.pka_pin_source = p11.cfg_strings[S_PKA_PIN_SOURCE];
    pico_log("PKCS11", "settings: reader=%s pin-source=%s pka-keys=%s cache-pin=%d",
             p11.cfg.default_reader ? p11.cfg.default_reader : "(any)",
             p11.cfg.pin_source ? "(set)" : "(none)", p11.cfg.pka_keys ? "(set)" : "(none)",
             p11.cfg.cache_pin);
    return CKR_OK;
}

void p11_config_free(void)
{
    size_t i;

    for (i = 0; i < sizeof(p11.cfg_strings) / sizeof(p11.cfg_strings[0]); i++) {
        free(p11.cfg_strings[i]);
        p11.cfg_strings[i] = NULL;
    }
    memset(&p11.cfg, 0, sizeof(p11.cfg));
    p11.pin_last_try = 0;
}
