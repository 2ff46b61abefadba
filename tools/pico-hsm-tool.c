/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool: the management CLI of a Pico HSM (or any SmartCard-HSM).
 *
 *   pico-hsm-tool [--reader NAME] [--token NAME] [--json] [-v] SUBCOMMAND ...
 *
 * This file holds main, the options every subcommand shares, error output and
 * exit codes, device selection, secrets (PINs) and small output helpers. The
 * subcommands live in cmd_*.c; all of them reach the device through common/.
 */
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ui.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "secret.h"
#include "tool.h"
#include "transport.h"

static const char usage_main[] =
    "Usage: " TOOL_NAME " [--reader NAME] [--token NAME] [--json] [-v] SUBCOMMAND ...\n"
    "\n"
    "Manage a Pico HSM / SmartCard-HSM: initialize it, its PINs, public key\n"
    "authentication, keys and certificates.\n"
    "\n"
    "Subcommands:\n"
    "  status          device, firmware, options, PIN and PKA state, key count\n"
    "  init            initialize the device (erases every key)\n"
    "  pin             status | verify | change | unblock\n"
    "  pka             status | export | register | login\n"
    "  key             list | generate | delete | export-public\n"
    "  cert            import\n"
    "\n"
    "Options (before or after the subcommand):\n"
    "  --reader NAME   the reader: its name, a part of it, or its index (0, 1, ...)\n"
    "  --token NAME    the device name (CHR of its certificate)\n"
    "  --json          machine-readable output on stdout\n"
    "  -v, --verbose   trace every command sent to the device on stderr\n"
    "  -h, --help      help (of a subcommand when given after it)\n"
    "  -V, --version   the version (before the subcommand)\n"
    "\n"
    "Exit codes: 0 ok, 1 other error, 2 usage error, 3 authentication error\n"
    "(wrong or blocked PIN, PKA refused, missing factor), 4 device or\n"
    "communication error (no reader, no device, the device refused).\n"
    "See pico-hsm-tool(1).\n";

/* ---------------------------------------------------------------- errors */

#define MAX_ERRS 8
static struct {
    pico_err code;
    int signer; /* raised by a PKA signer (its PIN is --pka-pin-source's) */
    char msg[384];
} errs[MAX_ERRS];
static size_t n_errs;
static int json_errors;   /* --json: errors go to stdout as JSON too */
static int prompt_result; /* how the last terminal prompt ended (TOOL_ASK_...) */

/* The common reasons name URI attributes (pin-last-try=yes, pin-source): say it in options. */
static const char *tool_reason(pico_err code)
{
    switch (code) {
    case PICO_E_PIN_LAST_TRY:
        return "one pin try left: refusing to spend it without --pin-last-try";
    case PICO_E_PIN_REQUIRED:
        return "pin required";
    default:
        return pico_err_reason(code);
    }
}

/*
 * What common/ raised, taken from OpenSSL's error queue (err.h: every raised
 * error goes there; an expected failure's errors left it at their mark): the
 * first MAX_ERRS of pico's, in the order raised. OpenSSL's own errors are the
 * causes of pico's and are not repeated.
 */
static void take_errors(void)
{
    const char *file, *func, *data;
    char detail[256];
    unsigned long e;
    int line, flags;

    while ((e = ERR_get_error_all(&file, &line, &func, &data, &flags)) != 0) {
        if (ERR_GET_LIB(e) != pico_err_lib() || n_errs == MAX_ERRS)
            continue; /* the first ones are the causes */
        snprintf(detail, sizeof(detail), "%s",
                 data != NULL && (flags & ERR_TXT_STRING) != 0 ? data : "");
        errs[n_errs].code = (pico_err)ERR_GET_REASON(e);
        errs[n_errs].signer = file != NULL && strstr(file, "pka_") != NULL;
        snprintf(errs[n_errs].msg, sizeof(errs[n_errs].msg), "%s%s%s",
                 tool_reason(errs[n_errs].code), detail[0] != '\0' ? ": " : "", detail);
        n_errs++;
    }
}

static void print_errors(const char *level)
{
    size_t i, j;

    take_errors();
    for (i = 0; i < n_errs; i++) {
        for (j = 0; j < i && strcmp(errs[j].msg, errs[i].msg) != 0; j++)
            ;
        if (j == i)
            fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, level, errs[i].msg);
    }
    n_errs = 0;
}

int tool_exit_code(pico_err err)
{
    switch (err) {
    case PICO_OK:
        return TOOL_EXIT_OK;
    case PICO_E_ARGS:
    case PICO_E_URI:
    case PICO_E_PKCS11_URI:
    case PICO_E_FILE:
        return TOOL_EXIT_USAGE;
    case PICO_E_PIN_INCORRECT:
    case PICO_E_PIN_BLOCKED:
    case PICO_E_PIN_LAST_TRY:
    case PICO_E_PIN_REQUIRED:
    case PICO_E_NOT_LOGGED_IN:
    case PICO_E_KEY_LOCKED:
    case PICO_E_SECRET_SOURCE:
    case PICO_E_PKA_REQUIRED:
    case PICO_E_PKA_FAILED:
        return TOOL_EXIT_AUTH;
    case PICO_E_NO_READER:
    case PICO_E_NO_DEVICE:
    case PICO_E_REMOVED:
    case PICO_E_RESET:
    case PICO_E_COMM:
    case PICO_E_BAD_RESPONSE:
    case PICO_E_PIN_NOT_SET:
    case PICO_E_CONDITIONS:
    case PICO_E_UNSUPPORTED:
    case PICO_E_DEVICE:
    case PICO_E_TIMEOUT:
        return TOOL_EXIT_DEVICE;
    default:
        return TOOL_EXIT_OTHER;
    }
}

/* {"error":{"code":N,"reason":"...","messages":[...]}} on stdout, for --json. */
static void print_errors_json(pico_err err, const char *hint)
{
    size_t i;

    printf("{\"error\":{\"exit_code\":%d,\"reason\":", tool_exit_code(err));
    tool_json_str(stdout, err == PICO_OK ? "usage error" : tool_reason(err));
    fputs(",\"messages\":[", stdout);
    for (i = 0; i < n_errs; i++) {
        if (i > 0)
            fputc(',', stdout);
        tool_json_str(stdout, errs[i].msg);
    }
    fputs("],\"hint\":", stdout);
    tool_json_str(stdout, hint);
    fputs("}}\n", stdout);
    fflush(stdout);
}

/* 1 when a collected message already says the prompt was cancelled */
static int cancelled_said(void)
{
    size_t i;

    for (i = 0; i < n_errs; i++)
        if (strstr(errs[i].msg, "cancelled") != NULL)
            return 1;
    return 0;
}

int tool_fail(pico_err err)
{
    char hint[160] = "";
    size_t i;
    int signer = 0;

    take_errors();
    for (i = 0; i < n_errs; i++)
        if (errs[i].code == err && errs[i].signer)
            signer = 1;
    if (err == PICO_E_PIN_LAST_TRY)
        snprintf(hint, sizeof(hint), "give --pin-last-try to spend the last try");
    else if (err == PICO_E_PIN_BLOCKED)
        snprintf(hint, sizeof(hint), "'%s pin unblock' sets a new PIN with the SO-PIN", TOOL_NAME);
    else if (err == PICO_E_PIN_REQUIRED && prompt_result == TOOL_ASK_CANCELLED)
        snprintf(hint, sizeof(hint), "%s", cancelled_said() ? "" : "cancelled at the prompt");
    else if (err == PICO_E_PIN_REQUIRED && signer)
        snprintf(hint, sizeof(hint),
                 "give the PKA key's PIN with --pka-pin-source (or pin-source= in its URI)%s",
                 tool_interactive() ? "" : ", or run on a terminal");
    else if (err == PICO_E_PIN_REQUIRED)
        snprintf(hint, sizeof(hint), "give --pin-source%s",
                 tool_interactive() ? "" : " (or run on a terminal)");
    if (n_errs == 0) {
        errs[0].code = err;
        snprintf(errs[0].msg, sizeof(errs[0].msg), "%s", tool_reason(err));
        n_errs = 1;
    }
    if (json_errors)
        print_errors_json(err, hint[0] != '\0' ? hint : NULL);
    print_errors("error");
    if (hint[0] != '\0')
        fprintf(stderr, "%s: hint: %s\n", TOOL_NAME, hint);
    return tool_exit_code(err);
}

int tool_fail_msg(int code, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (json_errors) {
        printf("{\"error\":{\"exit_code\":%d,\"reason\":", code);
        tool_json_str(stdout, msg);
        printf(",\"messages\":[");
        tool_json_str(stdout, msg);
        printf("],\"hint\":null}}\n");
        fflush(stdout);
    }
    fprintf(stderr, "%s: error: %s\n", TOOL_NAME, msg);
    return code;
}

void tool_warn(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: warning: ", TOOL_NAME);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tool_note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---------------------------------------------------------------- options */

int tool_help(const char *usage)
{
    fputs(usage, stdout);
    return TOOL_EXIT_OK;
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    if (json_errors) {
        char msg[384];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        printf("{\"error\":{\"exit_code\":%d,\"reason\":\"usage error\",\"messages\":[",
               TOOL_EXIT_USAGE);
        tool_json_str(stdout, msg);
        printf("],\"hint\":null}}\n");
        fflush(stdout);
    }
    fprintf(stderr, "%s: ", TOOL_NAME);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s %s%s--help'.\n", TOOL_NAME, cmd != NULL ? cmd : "",
            cmd != NULL ? " " : "");
    return TOOL_EXIT_USAGE;
}

int tool_bad_option(const char *cmd, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";
    int n = (int)strcspn(opt, "="); /* never echo a value: it may be a PIN */

    if (optopt != 0 && optopt < 0x100 && isprint(optopt))
        return tool_usage_error(cmd, "bad option '-%c' (unknown, or its value is missing)", optopt);
    return tool_usage_error(cmd, "bad option '%.*s' (unknown, or its value is missing)", n, opt);
}

void tool_getopt_reset(void)
{
    optind = 0; /* GNU getopt: full re-initialisation for the next argv */
    opterr = 0;
}

int tool_common_opt(tool_ctx *ctx, int c, const char *arg)
{
    switch (c) {
    case OPT_READER:
        ctx->reader = arg;
        return 1;
    case OPT_TOKEN:
        ctx->token = arg;
        return 1;
    case OPT_JSON:
        ctx->json = json_errors = 1;
        return 1;
    case 'v':
        /* the trace names commands, lengths and status words, never a PIN */
        if (ctx->verbose++ == 0 && getenv("PICO_DEBUG") == NULL)
            pico_log_init("stderr");
        return 1;
    case 'h':
        ctx->help = 1;
        return 1;
    default:
        return 0;
    }
}

int tool_auth_opt(tool_auth *auth, int c, const char *arg)
{
    switch (c) {
    case OPT_PIN:
        auth->pin = arg;
        return 1;
    case OPT_PIN_SOURCE:
        auth->pin_source = arg;
        return 1;
    case OPT_SO_PIN:
        auth->so_pin = arg;
        return 1;
    case OPT_SO_PIN_SOURCE:
        auth->so_pin_source = arg;
        return 1;
    case OPT_PKA_KEY:
        if (auth->n_pka_keys == PICO_URI_MAX_PKA_KEYS)
            auth->pka_too_many = 1;
        else
            auth->pka_keys[auth->n_pka_keys++] = arg;
        return 1;
    case OPT_PKA_PIN_SOURCE:
        auth->pka_pin_source = arg;
        return 1;
    case OPT_PIN_LAST_TRY:
        auth->pin_last_try = 1;
        return 1;
    default:
        return 0;
    }
}

int tool_dispatch(tool_ctx *ctx, const char *group, const tool_subcmd *cmds, int argc, char **argv)
{
    const tool_subcmd *c;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            ctx->help = 1;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0 ||
                 strcmp(argv[i], "--json") == 0)
            tool_common_opt(ctx, argv[i][2] == 'j' ? OPT_JSON : 'v', NULL);
        else
            break;
    }
    if (i < argc && argv[i][0] != '-') {
        for (c = cmds; c->name != NULL; c++)
            if (strcmp(c->name, argv[i]) == 0)
                return c->fn(ctx, argc - i, argv + i);
        return tool_usage_error(group, "unknown subcommand '%s %s'", group, argv[i]);
    }
    if (ctx->help || i == argc) {
        FILE *f = ctx->help ? stdout : stderr;
        fprintf(f, "Usage: %s %s SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", TOOL_NAME, group);
        for (c = cmds; c->name != NULL; c++)
            fprintf(f, "  %-14s %s\n", c->name, c->summary);
        fprintf(f, "\n'%s %s SUBCOMMAND --help' tells more.\n", TOOL_NAME, group);
        return ctx->help ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
    }
    return tool_usage_error(group, "a subcommand comes before '%.*s'", (int)strcspn(argv[i], "="),
                            argv[i]);
}

/* ---------------------------------------------------------------- device */

#define MAX_DEVICES 16

typedef struct found {
    pico_device *dev[MAX_DEVICES];
    size_t n;
} found;

static int collect_device(void *arg, pico_device *dev)
{
    found *f = arg;

    if (f->n < MAX_DEVICES)
        f->dev[f->n++] = dev;
    return 0;
}

/* sc-hsm-tool and opensc-tool number readers from 0: --reader 1 is the second reader. */
static pico_err reader_by_index(const char *arg, char **name)
{
    char **readers = NULL, *end;
    size_t n = 0;
    long idx = strtol(arg, &end, 10);
    pico_err err;

    *name = NULL;
    if ((err = pico_pcsc_list_readers(&readers, &n)) != PICO_OK)
        return err;
    if (*end != '\0' || idx < 0 || (size_t)idx >= n)
        err = pico_err_raise(PICO_E_NO_DEVICE, "no reader number %s (%zu readers)", arg, n);
    else if ((*name = strdup(readers[idx])) == NULL)
        err = pico_err_raise(PICO_E_NOMEM, "reader name");
    pico_pcsc_free_readers(readers, n);
    return err;
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

pico_err tool_open_device(tool_ctx *ctx)
{
    pico_uri uri;
    found f;
    size_t i, exact = MAX_DEVICES;
    pico_err err;

    memset(&uri, 0, sizeof(uri));
    memset(&f, 0, sizeof(f));
    if (ctx->reader != NULL && all_digits(ctx->reader)) {
        if ((err = reader_by_index(ctx->reader, &uri.reader)) != PICO_OK)
            goto end;
    } else if (ctx->reader != NULL && (uri.reader = strdup(ctx->reader)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "reader");
        goto end;
    }
    if (ctx->token != NULL && (uri.token = strdup(ctx->token)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "token");
        goto end;
    }
    if ((err = pico_device_foreach(&uri, NULL, collect_device, &f)) != PICO_OK)
        goto end;
    for (i = 0; uri.reader != NULL && i < f.n; i++)
        if (strcmp(pico_device_reader(f.dev[i]), uri.reader) == 0)
            exact = i;
    if (exact < f.n) {
        ctx->dev = f.dev[exact];
    } else if (f.n == 1) {
        ctx->dev = f.dev[0];
    } else {
        char list[512] = "";
        for (i = 0; i < f.n; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s'%s'", i ? ", " : "",
                     pico_device_reader(f.dev[i]));
        }
        err =
            pico_err_raise(PICO_E_ARGS, "%zu devices (in %s): choose one with --reader", f.n, list);
    }
end:
    pico_uri_free(&uri);
    return err;
}

/* ---------------------------------------------------------------- secrets */

int tool_interactive(void)
{
    return isatty(STDIN_FILENO);
}

int tool_ask_secret(const char *prompt, int confirm, char *buf, size_t cap)
{
    char p[256], again[1024];
    int rc = TOOL_ASK_OK, ui;

    if (!tool_interactive() || cap > sizeof(again))
        return prompt_result = TOOL_ASK_NO_TERMINAL;
    snprintf(p, sizeof(p), "%s: ", prompt);
    p[0] = (char)toupper((unsigned char)p[0]);
    /* OpenSSL's console UI: /dev/tty, echo off; -2 is Ctrl-C. Its own verify mode says
     * "Verify failure" and returns what a read error returns: compare here instead. */
    ui = UI_UTIL_read_pw_string(buf, (int)cap, p, 0);
    if (ui == 0 && confirm) {
        snprintf(p, sizeof(p), "%s again: ", prompt);
        p[0] = (char)toupper((unsigned char)p[0]);
        ui = UI_UTIL_read_pw_string(again, (int)cap, p, 0);
        if (ui == 0 && strcmp(buf, again) != 0)
            rc = TOOL_ASK_DIFFER;
        OPENSSL_cleanse(again, sizeof(again));
    }
    if (ui != 0)
        rc = TOOL_ASK_CANCELLED; /* Ctrl-C, Ctrl-D or the terminal gone */
    if (rc != TOOL_ASK_OK)
        OPENSSL_cleanse(buf, cap);
    return prompt_result = rc;
}

int tool_confirm(const char *question)
{
    char line[16];

    if (!tool_interactive())
        return 0;
    fprintf(stderr, "%s Type 'yes' to go on: ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "yes") == 0;
}

static int prompt_ask(void *arg, const char *info, char *buf, size_t cap)
{
    (void)arg;
    return tool_ask_secret(info, 0, buf, cap) == TOOL_ASK_OK;
}

const pico_pin_prompt tool_pin_prompt = {prompt_ask, NULL};

pico_err tool_get_secret(const char *what, const char *value, const char *source, int confirm,
                         char *buf, size_t cap, size_t *len)
{
    *len = 0;
    if (value != NULL) {
        size_t n = strlen(value);
        if (n + 1 > cap)
            return pico_err_raise(PICO_E_ARGS, "the %s is longer than %zu characters", what,
                                  cap - 1);
        memcpy(buf, value, n + 1);
        *len = n;
        return PICO_OK;
    }
    if (source != NULL)
        return pico_secret_read(source, buf, cap, len);
    switch (tool_ask_secret(what, confirm, buf, cap)) {
    case TOOL_ASK_OK:
        *len = strlen(buf);
        return PICO_OK;
    case TOOL_ASK_DIFFER:
        return pico_err_raise(PICO_E_ARGS, "the %s: the two entries differ (nothing changed)",
                              what);
    case TOOL_ASK_CANCELLED:
        return pico_err_raise(PICO_E_PIN_REQUIRED, "the %s: cancelled at the prompt", what);
    default:
        return pico_err_raise(PICO_E_PIN_REQUIRED,
                              "the %s: no terminal to ask on: give it with its --...-source "
                              "option",
                              what);
    }
}

pico_err tool_get_so_pin(const char *value, const char *source, const char *what, int confirm,
                         uint8_t so[TOOL_SO_PIN_LEN])
{
    char hex[2 * TOOL_SO_PIN_LEN + 2], prompt[128];
    size_t len = 0, got = 0;
    pico_err err;

    snprintf(prompt, sizeof(prompt), "%s (16 hex digits)", what);
    err = tool_get_secret(prompt, value, source, confirm, hex, sizeof(hex), &len);
    if (err == PICO_OK &&
        (len != 2 * TOOL_SO_PIN_LEN || tool_hex_decode(hex, so, TOOL_SO_PIN_LEN, &got) != 0 ||
         got != TOOL_SO_PIN_LEN))
        err = pico_err_raise(PICO_E_ARGS, "the %s is 16 hexadecimal digits (8 bytes)", what);
    OPENSSL_cleanse(hex, sizeof(hex));
    return err;
}

static int dup_str(char **dst, const char *src)
{
    if (src == NULL)
        return 1;
    *dst = strdup(src);
    return *dst != NULL;
}

pico_err tool_auth_uri(const tool_auth *auth, pico_uri *uri)
{
    size_t i;
    int ok;

    memset(uri, 0, sizeof(*uri));
    uri->pin_last_try = auth->pin_last_try ? 1 : -1;
    /* pico_uri_free releases pin_value as pico_secret_hold memory */
    ok = (auth->pin == NULL ||
          (uri->pin_value = pico_secret_hold(auth->pin, strlen(auth->pin))) != NULL) &&
         dup_str(&uri->pin_source, auth->pin_source) &&
         dup_str(&uri->pka_pin_source, auth->pka_pin_source);
    for (i = 0; ok && i < auth->n_pka_keys; i++, uri->n_pka_keys++)
        ok = dup_str(&uri->pka_keys[i], auth->pka_keys[i]);
    if (!ok) {
        pico_uri_free(uri);
        return pico_err_raise(PICO_E_NOMEM, "login factors");
    }
    return PICO_OK;
}

static pico_err pka_status_fn(void *arg, pico_card *card)
{
    return pico_schsm_pka_status(card, arg);
}

pico_err tool_login(tool_ctx *ctx, const tool_auth *auth)
{
    uint8_t st[4];
    pico_uri uri;
    pico_err err;

    /* 4.4: with PKA configured the PIN alone is refused later (6982); say so now */
    if (auth->n_pka_keys == 0 && !pico_device_logged_in(ctx->dev)) {
        err = pico_device_run(ctx->dev, pka_status_fn, st);
        if (err == PICO_OK && st[3] < st[2])
            return pico_err_raise(PICO_E_PKA_REQUIRED,
                                  "this device requires public key authentication: give %u of "
                                  "its %u keys with --pka-key",
                                  st[2], st[0]);
        if (err != PICO_OK && err != PICO_E_UNSUPPORTED)
            return err;
    }
    if ((err = tool_auth_uri(auth, &uri)) != PICO_OK)
        return err;
    err = pico_device_login(ctx->dev, &uri, NULL, NULL, &tool_pin_prompt);
    pico_uri_free(&uri);
    return err;
}

/* ---------------------------------------------------------------- output */

int tool_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    return pico_hex_decode(hex, strlen(hex), '\0', out, cap, len);
}

void tool_hex_print(FILE *f, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    cp = s[0] & (0x7f >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void tool_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    while (*p != '\0') {
        /* a label is bytes from the device: a byte that is not UTF-8 becomes U+FFFD, so
         * that the output stays JSON (RFC 8259 8.1) */
        if ((n = utf8_len(p)) == 0) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}

/* ---------------------------------------------------------------- main */

static const tool_subcmd commands[] = {
    {"status", tool_cmd_status, "device, firmware, options, PIN and PKA state, key count"},
    {"init", tool_cmd_init, "initialize the device (erases every key)"},
    {"pin", tool_cmd_pin, "PIN status, verify, change, unblock"},
    {"pka", tool_cmd_pka, "public key authentication: status, export, register, login"},
    {"key", tool_cmd_key, "keys: list, generate, delete, export-public"},
    {"cert", tool_cmd_cert, "certificates: import"},
    {"dkek", tool_cmd_dkek, "DKEK shares: create a share file, import it, status"},
    {"domain", tool_cmd_domain, "key domains: create, delete, forget, status"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        TOOL_COMMON_OPTIONS,
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    tool_ctx ctx;
    const tool_subcmd *c;
    int ch, rc;

    memset(&ctx, 0, sizeof(ctx));
    pico_device_init();
    tool_getopt_reset();
    while ((ch = getopt_long(argc, argv, "+hvV", opts, NULL)) != -1) {
        if (tool_common_opt(&ctx, ch, optarg))
            continue;
        if (ch == 'V') {
            printf("%s %s\n", TOOL_NAME, PACKAGE_VERSION);
            return TOOL_EXIT_OK;
        }
        return tool_bad_option(NULL, argv);
    }
    if (optind == argc) {
        if (ctx.help)
            return tool_help(usage_main);
        fputs(usage_main, stderr);
        return TOOL_EXIT_USAGE;
    }
    for (c = commands; c->name != NULL; c++)
        if (strcmp(c->name, argv[optind]) == 0)
            break;
    if (c->name == NULL)
        return tool_usage_error(NULL, "unknown subcommand '%s'", argv[optind]);
    rc = c->fn(&ctx, argc - optind, argv + optind);
    if (ctx.verbose)
        print_errors("note");
    pico_device_cleanup();
    return rc;
}
