/* SPDX-License-Identifier: Apache-2.0 */
/* The quoting of settings strings (words.h). */
#include "words.h"

#include <stdlib.h>
#include <string.h>

#define BLANKS " \t\r\n"

static int is_stop(char c, const char *seps)
{
    return seps != NULL && c != '\0' && (strchr(BLANKS, c) != NULL || strchr(seps, c) != NULL);
}

/*
 * Copies from *in to *out, unquoting, until the end of the string or (outside quotes) a
 * character that stops a word (seps NULL: none does). *in is left on that character.
 */
static int unquote(char **in, char **out, const char *seps, const char **why)
{
    char *r = *in, *w = *out;
    int quoted = 0;

    for (; *r != '\0' && (quoted || !is_stop(*r, seps)); r++) {
        if (*r == '"') {
            quoted = !quoted;
            continue;
        }
        if (quoted && *r == '\\') {
            if (r[1] != '"' && r[1] != '\\') {
                *why = r[1] == '\0' ? "an unterminated quote"
                                    : "a backslash before other than \" or \\ inside quotes";
                return -1;
            }
            r++;
        }
        *w++ = *r;
    }
    if (quoted) {
        *why = "an unterminated quote";
        return -1;
    }
    *in = r;
    *out = w;
    return 0;
}

int pico_word_next(char **s, const char *seps, char **word, const char **why)
{
    char *r = *s, *w;

    while (*r != '\0' && is_stop(*r, seps != NULL ? seps : ""))
        r++;
    if (*r == '\0') {
        *s = r;
        return 0;
    }
    *word = w = r;
    if (unquote(&r, &w, seps != NULL ? seps : "", why) != 0)
        return -1;
    /* the separator ends the word: past it, then the end of the word is written (w <= r) */
    *s = *r != '\0' ? r + 1 : r;
    *w = '\0';
    return 1;
}

int pico_word_unquote(char *value, const char **why)
{
    char *r = value, *w = value;

    if (unquote(&r, &w, NULL, why) != 0)
        return -1;
    *w = '\0';
    return 0;
}

char *pico_word_quote(const char *word)
{
    char *q = malloc(2 * strlen(word) + 3), *w = q;

    if (q == NULL)
        return NULL;
    *w++ = '"';
    for (; *word != '\0'; word++) {
        if (*word == '"' || *word == '\\')
            *w++ = '\\';
        *w++ = *word;
    }
    *w++ = '"';
    *w = '\0';
    return q;
}
