/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico: URIs (common/uri.c), as a user writes them in a command line or a
 * config file. Beyond "no crash": an error points inside the string, and a
 * parsed URI formats to one that parses back to the same path attributes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
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
