/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico: URIs (common/uri.c), as a user writes them in a command line or a
 * config file. Beyond "no crash": an error points inside the string, and a
 * parsed URI formats to one that parses back to the same path attributes.
 * The same input as a settings string (common/words.c: pico-pkcs11's
 * x-init-reserved, the PKA key lists): each word quoted again gives itself
 * back, and unquoting never makes a string longer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"
#include "words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void settings_words(const char *in)
{
    char *copy = strdup(in), *p = copy, *w, *q, *qp, *again;
    const char *why;
    int got;

    while (copy != NULL && (got = pico_word_next(&p, ";", &w, &why)) > 0) {
        if ((q = pico_word_quote(w)) == NULL)
            break;
        qp = q;
        if (pico_word_next(&qp, ";", &again, &why) != 1 || strcmp(again, w) != 0 ||
            pico_word_next(&qp, ";", &again, &why) != 0)
            abort();
        free(q);
    }
    free(copy);
    if ((copy = strdup(in)) != NULL && pico_word_unquote(copy, &why) == 0 &&
        strlen(copy) > strlen(in))
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *str = malloc(size + 1), *text = NULL;
    const char *err_at = NULL;
    pico_uri uri, copy, again;
    pico_uri_err err;

    memset(&uri, 0, sizeof(uri));
    memset(&copy, 0, sizeof(copy));
    memset(&again, 0, sizeof(again));
    if (str == NULL)
        return 0;
    memcpy(str, data, size);
    str[size] = '\0';
    settings_words(str);
    (void)pico_uri_is_pico(str);
    err = pico_uri_parse(str, &uri, &err_at);
    if (err != PICO_URI_OK) {
        (void)pico_uri_strerror(err);
        /* callers print err_at up to its name's end: both must lie inside the string */
        if (err_at != NULL && (err_at < str || err_at > str + strlen(str) ||
                               err_at + pico_uri_attr_name_len(err_at) > str + strlen(str)))
            abort();
        goto end;
    }
    if (!pico_uri_dup(&uri, &copy))
        goto end;
    text = pico_uri_format(&copy);
    if (text == NULL)
        goto end;
    /* the canonical form parses back to the same path attributes */
    if (pico_uri_parse(text, &again, NULL) != PICO_URI_OK || !same_str(uri.token, again.token) ||
        !same_str(uri.reader, again.reader) || !same_str(uri.object, again.object) ||
        uri.type != again.type || uri.id_len != again.id_len ||
        memcmp(uri.id, again.id, uri.id_len) != 0)
        abort();
end:
    free(text);
    pico_uri_free(&again);
    pico_uri_free(&copy);
    pico_uri_free(&uri);
    free(str);
    return 0;
}
