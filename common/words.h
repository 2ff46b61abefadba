/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The quoting of settings strings (pico-pkcs11's x-init-reserved and its
 * configuration file, the configured PKA key lists): words are separated by
 * blanks (and the separators a caller adds, as ';'); inside double quotes a
 * blank or a separator belongs to the word, and \" and \\ stand for a quote
 * and a backslash (no other escape). The quotes may be anywhere in a word and
 * are removed: pin-source=file:"/a b/pin" and "pin-source=file:/a b/pin" are
 * the same word. Outside quotes a backslash is an ordinary character, so a
 * value without quotes means what it meant before quoting existed.
 */
#ifndef PICO_WORDS_H
#define PICO_WORDS_H

/*
 * The next word of *s, unquoted in place (the string is modified); *s moves past it and
 * its separator. 1: *word is the word; 0: no word left; -1: malformed quoting, *why says
 * what (a static string).
 */
int pico_word_next(char **s, const char *seps, char **word, const char **why);

/* A whole value unquoted in place, blanks outside quotes kept: 0, or -1 with *why. */
int pico_word_unquote(char *value, const char **why);

/* word in quotes, so that pico_word_next gives it back as it is; NULL: out of memory (free). */
char *pico_word_quote(const char *word);

#endif
