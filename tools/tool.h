/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool internals shared by its subcommand files: the run context,
 * exit codes, the options every subcommand accepts, the login factors given
 * on the command line, secrets (PINs) from options, sources or the terminal,
 * and small JSON helpers. Everything that reaches the device goes through
 * common/ (device.h, schsm.h); nothing here builds an APDU.
 */
#ifndef PICO_TOOL_H
#define PICO_TOOL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "device.h"
#include "err.h"
#include "schsm.h"
#include "uri.h"

/* Exit codes (documented in doc/pico-hsm-tool.1) */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_OTHER 1
#define TOOL_EXIT_USAGE 2
#define TOOL_EXIT_AUTH 3   /* wrong or blocked PIN, PKA refused, a factor missing */
#define TOOL_EXIT_DEVICE 4 /* no reader, no device, communication, the device refused */

#define TOOL_NAME "pico-hsm-tool"
#define TOOL_SO_PIN_LEN 8 /* bytes; 16 hex digits on the command line, as sc-hsm-tool */

/* Long option values shared by every subcommand (short options are -h and -v). */
enum {
    OPT_READER = 0x100,
    OPT_TOKEN,
    OPT_JSON,
    OPT_PIN,
    OPT_PIN_SOURCE,
    OPT_SO_PIN,
    OPT_SO_PIN_SOURCE,
    OPT_PKA_KEY,
    OPT_PKA_PIN_SOURCE,
    OPT_PIN_LAST_TRY,
    OPT_FIRST_LOCAL = 0x200 /* subcommands number their own options from here */
};

/* Option table rows, one per line */
/* clang-format off */
#define TOOL_COMMON_OPTIONS                                                                        \
    {"reader", required_argument, NULL, OPT_READER},                                               \
    {"token", required_argument, NULL, OPT_TOKEN},                                                 \
    {"json", no_argument, NULL, OPT_JSON},                                                         \
    {"verbose", no_argument, NULL, 'v'},                                                           \
    {"help", no_argument, NULL, 'h'}

/* The login factors a subcommand may take (tool_auth_opt handles them). */
#define TOOL_AUTH_OPTIONS                                                                          \
    {"pin", required_argument, NULL, OPT_PIN},                                                     \
    {"pin-source", required_argument, NULL, OPT_PIN_SOURCE},                                       \
    {"pka-key", required_argument, NULL, OPT_PKA_KEY},                                             \
    {"pka-pin-source", required_argument, NULL, OPT_PKA_PIN_SOURCE},                               \
    {"pin-last-try", no_argument, NULL, OPT_PIN_LAST_TRY}

#define TOOL_SO_PIN_OPTIONS                                                                        \
    {"so-pin", required_argument, NULL, OPT_SO_PIN},                                               \
    {"so-pin-source", required_argument, NULL, OPT_SO_PIN_SOURCE}
/* clang-format on */

typedef struct tool_ctx {
    const char *reader; /* --reader: a reader name or a part of it */
    const char *token;  /* --token: the device name (or OpenSC's token serial) */
    int json;
    int verbose;
    int help;
    pico_device *dev; /* the device, once tool_open_device found it */
} tool_ctx;

/* Login factors from the command line. Values are argv strings (never copied). */
typedef struct tool_auth {
    const char *pin; /* --pin: visible to other users in ps; prefer pin_source */
    const char *pin_source;
    const char *so_pin; /* 16 hex digits */
    const char *so_pin_source;
    const char *pka_keys[PICO_URI_MAX_PKA_KEYS];
    size_t n_pka_keys;
    const char *pka_pin_source;
    int pin_last_try;
    int pka_too_many; /* more --pka-key options than a device can register */
} tool_auth;

/* A subcommand: argv[0] is its name; returns an exit code. */
typedef int (*tool_cmd_fn)(tool_ctx *ctx, int argc, char **argv);

typedef struct tool_subcmd {
    const char *name;
    tool_cmd_fn fn;
    const char *summary;
} tool_subcmd;

/* Runs "GROUP SUBCOMMAND ..." (argv[0] is the group) from cmds (NULL-name terminated). */
int tool_dispatch(tool_ctx *ctx, const char *group, const tool_subcmd *cmds, int argc, char **argv);

/* ---- pico-hsm-tool.c: options, errors, device, secrets, output */

/* Handles the common options; 1 when c was one of them. */
int tool_common_opt(tool_ctx *ctx, int c, const char *arg);
/* Handles TOOL_AUTH_OPTIONS and TOOL_SO_PIN_OPTIONS; 1 when c was one of them. */
int tool_auth_opt(tool_auth *auth, int c, const char *arg);
/* Starts option parsing of a subcommand (resets getopt). */
void tool_getopt_reset(void);

/* Prints usage to stdout (--help): returns 0. */
int tool_help(const char *usage);
/* For getopt's '?' and ':': names the bad option (never a value) and returns 2. */
int tool_bad_option(const char *cmd, char **argv);
/* Prints "pico-hsm-tool: message" and a hint to --help on stderr: returns 2. */
int tool_usage_error(const char *cmd, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the errors raised so far (and as JSON on stdout with --json): the exit code for err. */
int tool_fail(pico_err err);
/* An error of the tool itself ("pico-hsm-tool: error: ..."), JSON too with --json: returns code. */
int tool_fail_msg(int code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int tool_exit_code(pico_err err);
/* "pico-hsm-tool: warning: ..." on stderr. */
void tool_warn(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Informational lines on stderr (not with --json on stdout's behalf: they never go there). */
void tool_note(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Finds the one device the options name (--reader, --token) into ctx->dev. */
pico_err tool_open_device(tool_ctx *ctx);

/* 1 when a person can answer on the terminal (stdin is a terminal). */
int tool_interactive(void);
/* How tool_ask_secret ended. */
#define TOOL_ASK_OK 1
#define TOOL_ASK_NO_TERMINAL 0
#define TOOL_ASK_DIFFER (-1)    /* confirm: the two entries differ */
#define TOOL_ASK_CANCELLED (-2) /* Ctrl-C (or end of input) at the prompt */
/* Asks for a secret on the terminal, echo off; confirm: ask twice. TOOL_ASK_... */
int tool_ask_secret(const char *prompt, int confirm, char *buf, size_t cap);
/* Asks a yes/no question on the terminal: 1 only for "yes". */
int tool_confirm(const char *question);
/* The prompt pico_device_login uses for the user PIN. */
extern const pico_pin_prompt tool_pin_prompt;

/*
 * A secret from --value, --source or the terminal (prompt), first found.
 * Errors: PICO_E_PIN_REQUIRED when there is none and no terminal. The
 * caller cleanses buf.
 */
pico_err tool_get_secret(const char *what, const char *value, const char *source, int confirm,
                         char *buf, size_t cap, size_t *len);
/* The SO-PIN (16 hex digits) from --so-pin, --so-pin-source or the terminal, as 8 bytes. */
pico_err tool_get_so_pin(const char *value, const char *source, const char *what, int confirm,
                         uint8_t so[TOOL_SO_PIN_LEN]);

/* The factors as a pico: URI for pico_device_login (secrets cleansed by pico_uri_free). */
pico_err tool_auth_uri(const tool_auth *auth, pico_uri *uri);
/* Logs in for key use: PIN (and PKA with --pka-key) through pico_device_login. */
pico_err tool_login(tool_ctx *ctx, const tool_auth *auth);

/* Hex helpers. */
int tool_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len);
void tool_hex_print(FILE *f, const uint8_t *p, size_t n);

/* JSON: a string literal with escapes (NULL prints null). */
void tool_json_str(FILE *f, const char *s);

/* ---- cmd_status.c */

/* What the status queries tell (2.1-2.3, 5.3). */
typedef struct tool_status {
    pico_select_info info;
    pico_pin_state user_state, so_state;
    int user_tries, so_tries;
    int user_none;     /* no user PIN: initialized for PKA only (firmware 6.6+ tells) */
    int pka;           /* PKA configured */
    uint8_t pka_st[4]; /* total, missing, required, authenticated */
    struct {
        char chr[65];
        int registered, authenticated;
    } slot[8];
} tool_status;

/* Reads the PIN and PKA state (spends no try): inside pico_device_run, or after a change. */
pico_err tool_status_read(pico_card *card, tool_status *st);
/* Runs tool_status_read on ctx->dev. */
pico_err tool_status_get(tool_ctx *ctx, tool_status *st);
/* The PIN part of a status, as text lines or as two members of a JSON object. */
void tool_status_print_pins(FILE *f, const tool_status *st, int json);
/* The PKA part of a status, as text or as the members of a JSON object. */
void tool_status_print_pka(FILE *f, const tool_status *st, int json);
/* A PIN state as text ("3 tries left", "blocked", ...). */
const char *tool_pin_state_text(pico_pin_state state, int tries, char *buf, size_t cap);
/* Prints the whole status of ctx->dev (status subcommand, and after init). */
int tool_status_show(tool_ctx *ctx);
/* One part of the status (tool_status_print_pins or _pka), as text or a JSON object. */
int tool_status_show_part(tool_ctx *ctx, void (*print)(FILE *, const tool_status *, int));

int tool_cmd_status(tool_ctx *ctx, int argc, char **argv);

/* ---- cmd_init.c, cmd_pin.c, cmd_key.c, cmd_cert.c, cmd_pka.c */
int tool_cmd_init(tool_ctx *ctx, int argc, char **argv);
int tool_cmd_pin(tool_ctx *ctx, int argc, char **argv);
int tool_cmd_key(tool_ctx *ctx, int argc, char **argv);
int tool_cmd_cert(tool_ctx *ctx, int argc, char **argv);
int tool_cmd_pka(tool_ctx *ctx, int argc, char **argv);

/* cmd_pin.c: checks the PIN's state (no try spent) before a command that may spend a try:
 * blocked, not set, or the last try without --pin-last-try are errors. */
pico_err tool_pin_guard(pico_card *card, uint8_t ref, int last_try_ok);
/* cmd_pin.c: VERIFY of the SO-PIN (88) after tool_pin_guard. */
pico_err tool_so_verify(pico_card *card, const uint8_t so[TOOL_SO_PIN_LEN], int last_try_ok);

/* cmd_key.c: the one key --label/--id names (an error when none or several). */
pico_err tool_find_key(tool_ctx *ctx, const char *label, const uint8_t *id, size_t id_len,
                       pico_key **key);

/* cmd_keywrap.c: key wrap, key unwrap, key import (under the device's DKEK) */
int tool_key_wrap(tool_ctx *ctx, int argc, char **argv);
int tool_key_unwrap(tool_ctx *ctx, int argc, char **argv);
int tool_key_import(tool_ctx *ctx, int argc, char **argv);

/* ---- cmd_dkek.c: DKEK shares and key domains */
int tool_cmd_dkek(tool_ctx *ctx, int argc, char **argv);
int tool_cmd_domain(tool_ctx *ctx, int argc, char **argv);

#endif
