/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool dkek: create, import, status (sc-hsm-protocol.md 8.1).
 * Share files and password shares are sc-hsm-tool's (common/dkek.h), so
 * either tool reads what the other wrote. The firmware's traps are handled
 * here and in common/device_dkek.c: a share is imported only inside a user-PIN
 * session (VERIFY first, then the import, one session), and the check value
 * is shown only when the device gives the real one (a PIN session, no share
 * missing). Also pico-hsm-tool domain: create, delete, forget, status.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device_dkek.h"
#include "dkek.h"
#include "secret.h"
#include "tool.h"

static const char usage_create[] =
    "Usage: " TOOL_NAME " dkek create --out FILE [--password-source SRC]\n"
    "       " TOOL_NAME " dkek create --out FILE --shares N --threshold M\n"
    "\n"
    "Makes a new random DKEK share and writes it to FILE (never over an existing\n"
    "file) in sc-hsm-tool's format, encrypted under a password: from SRC\n"
    "(file:PATH, env:VAR, fd:N) or asked twice on the terminal, 6 characters or\n"
    "more. With --shares N --threshold M the password is random and split with\n"
    "Shamir's scheme into N password shares, any M of which open the file; they\n"
    "are printed as sc-hsm-tool prints them (give one to each key custodian).\n"
    "Prints the share's check value (the device's KCV when it is the only share).\n"
    "No device is needed. The key derivation (10,000,000 MD5 iterations) takes\n"
    "a few seconds.\n";

static const char usage_import[] =
    "Usage: " TOOL_NAME " dkek import FILE [--password-source SRC] [--domain D]\n"
    "                          [--pin-source SRC] [--pka-key KEY ...]\n"
    "       " TOOL_NAME " dkek import FILE --password-shares M [--password-source SRC] ...\n"
    "\n"
    "Imports the DKEK share in FILE (sc-hsm-tool's format) into key domain D\n"
    "(default 0). The password comes from SRC or the terminal; with\n"
    "--password-shares M it is rebuilt from M (or more) Shamir password shares:\n"
    "from SRC (sc-hsm-tool's printout, or the prime then each share's ID and\n"
    "value, one per line), or asked on the terminal. The user PIN is verified\n"
    "first and the share imported in the same session (the firmware seals a\n"
    "share imported without a PIN session only at the next VERIFY).\n"
    "Shows the shares imported and missing, and the DKEK's check value once\n"
    "complete.\n";

static const char usage_status[] =
    "Usage: " TOOL_NAME " dkek status [--domain D] [--json] [--pin-source SRC]\n"
    "\n"
    "Shows key domain D's DKEK (default 0): shares, shares missing, check value.\n"
    "The device shows the check value only in a PIN session: give --pin or\n"
    "--pin-source (or --pka-key) to log in for it; no try is spent otherwise.\n";

enum {
    OPT_OUT = OPT_FIRST_LOCAL,
    OPT_PASSWORD_SOURCE,
    OPT_SHARES,
    OPT_THRESHOLD,
    OPT_PASSWORD_SHARES,
    OPT_DOMAIN,
    OPT_DKEK_SHARES,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    {"out", required_argument, NULL, OPT_OUT},
    {"password-source", required_argument, NULL, OPT_PASSWORD_SOURCE},
    {"shares", required_argument, NULL, OPT_SHARES},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"password-shares", required_argument, NULL, OPT_PASSWORD_SHARES},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"dkek-shares", required_argument, NULL, OPT_DKEK_SHARES},
    {NULL, 0, NULL, 0},
};

typedef struct dkek_args {
    tool_auth auth;
    const char *out, *password_source, *file;
    int shares, threshold, password_shares, domain, dkek_shares, domain_given;
} dkek_args;

static int parse_num(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses the options of a dkek subcommand; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, const char *cmd, const char *usage, int argc, char **argv,
                 dkek_args *a)
{
    int c;

    memset(a, 0, sizeof(*a));
    a->dkek_shares = -1;
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        switch (c) {
        case OPT_OUT:
            a->out = optarg;
            break;
        case OPT_PASSWORD_SOURCE:
            a->password_source = optarg;
            break;
        case OPT_SHARES:
            if (parse_num(optarg, 3, PICO_DKEK_PW_SHARES_MAX, &a->shares) != 0)
                return tool_usage_error(cmd, "--shares takes 3 to %d", PICO_DKEK_PW_SHARES_MAX);
            break;
        case OPT_THRESHOLD:
            if (parse_num(optarg, 2, PICO_DKEK_PW_SHARES_MAX, &a->threshold) != 0)
                return tool_usage_error(cmd, "--threshold takes 2 to %d", PICO_DKEK_PW_SHARES_MAX);
            break;
        case OPT_PASSWORD_SHARES:
            if (parse_num(optarg, 2, PICO_DKEK_PW_SHARES_MAX, &a->password_shares) != 0)
                return tool_usage_error(cmd, "--password-shares takes 2 to %d",
                                        PICO_DKEK_PW_SHARES_MAX);
            break;
        case OPT_DOMAIN:
            if (parse_num(optarg, 0, PICO_DKEK_MAX_DOMAIN, &a->domain) != 0)
                return tool_usage_error(cmd, "--domain takes 0 to %d", PICO_DKEK_MAX_DOMAIN);
            a->domain_given = 1;
            break;
        case OPT_DKEK_SHARES:
            if (parse_num(optarg, 0, 255, &a->dkek_shares) != 0)
                return tool_usage_error(cmd, "--dkek-shares takes 0 to 255");
            break;
        default:
            return tool_bad_option(cmd, argv);
        }
    }
    if (ctx->help)
        return tool_help(usage);
    return -1;
}

/* ---------------------------------------------------------------- progress */

/* "Deriving the key ... 42%" on a terminal (stderr), one line otherwise. */
static void progress(void *arg, unsigned long done, unsigned long total)
{
    int *last = arg, pct = (int)(done * 100 / total);

    if (!isatty(STDERR_FILENO) || pct == *last)
        return;
    *last = pct;
    fprintf(stderr, "\r%s: deriving the share's key from the password: %3d%%", TOOL_NAME, pct);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static pico_dkek_progress progress_start(int *state)
{
    *state = -1;
    if (!isatty(STDERR_FILENO))
        tool_note("deriving the share's key from the password (10,000,000 MD5 iterations, a "
                  "few seconds)");
    return progress;
}

static void kcv_hex(const uint8_t kcv[8], char out[17])
{
    for (int i = 0; i < 8; i++)
        sprintf(out + 2 * i, "%02X", kcv[i]);
}

/* A line from the terminal (stdin), echo on: what sc-hsm-tool's prompts read too. */
static int read_line(const char *prompt, char *buf, size_t cap)
{
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    if (fgets(buf, (int)cap, stdin) == NULL)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- dkek create */

#define PW_MAX 256

/* Prints the password shares as sc-hsm-tool does; on a terminal one at a time. */
static pico_err print_pw_shares(tool_ctx *ctx, const pico_dkek_pw_split *sp)
{
    char text[256];
    pico_err err = PICO_OK;
    int tty = !ctx->json && isatty(STDOUT_FILENO) && tool_interactive();

    if (ctx->json)
        printf(",\"prime\":\"");
    for (size_t i = 0; i < sp->n && err == PICO_OK; i++) {
        if ((err = pico_dkek_pw_share_text(sp, i, text, sizeof(text))) != PICO_OK)
            break;
        if (ctx->json) {
            /* "Prime       : xx:..\nShare ID    : n\nShare value : yy:..\n" */
            char *prime = strchr(text, ':') + 2, *value = strrchr(text, ' ') + 1;
            if (i == 0)
                printf("%.*s\",\"shares\":[", (int)strcspn(prime, "\n"), prime);
            printf("%s{\"id\":%u,\"value\":\"%.*s\"}", i ? "," : "", sp->share[i].id,
                   (int)strcspn(value, "\n"), value);
        } else {
            if (tty) {
                char line[8];
                fprintf(stderr, "Password share %zu of %zu: ", i + 1, sp->n);
                read_line("press Enter to show it.", line, sizeof(line));
            }
            printf("Share %zu of %zu\n\n%s\n", i + 1, sp->n, text);
            if (tty) {
                fflush(stdout);
                char line[8];
                read_line("Note it down, then press Enter (the screen is cleared).", line,
                          sizeof(line));
                printf("\033[H\033[2J");
            }
        }
        OPENSSL_cleanse(text, sizeof(text));
    }
    if (ctx->json)
        printf("]");
    return err;
}

/* The password: random and split (shares), else from the source or asked twice. */
static pico_err create_password(const dkek_args *a, char *pw, size_t *len, pico_dkek_pw_split *sp)
{
    pico_err err;

    if (a->shares > 0) {
        if ((err = pico_dkek_pw_random((uint8_t *)pw)) != PICO_OK)
            return err;
        *len = PICO_DKEK_PW_LEN;
        return pico_dkek_pw_split_new((uint8_t *)pw, (unsigned)a->threshold, (unsigned)a->shares,
                                      sp);
    }
    if ((err = tool_get_secret("password for the DKEK share", NULL, a->password_source, 1, pw,
                               PW_MAX, len)) != PICO_OK)
        return err;
    if (*len < 6)
        return pico_err_raise(PICO_E_ARGS, "the share's password needs 6 characters or more "
                                           "(a long one: it is all that protects the share)");
    return PICO_OK;
}

static int dkek_create(tool_ctx *ctx, int argc, char **argv)
{
    uint8_t share[PICO_DKEK_SHARE_LEN], file[PICO_DKEK_FILE_LEN], kcv[8];
    char pw[PW_MAX], hex[17];
    pico_dkek_pw_split sp;
    size_t len = 0;
    dkek_args a;
    int rc, state;
    pico_err err;

    if ((rc = parse(ctx, "dkek create", usage_create, argc, argv, &a)) >= 0)
        return rc;
    if (optind < argc)
        return tool_usage_error("dkek create", "unexpected extra argument");
    if (a.out == NULL)
        return tool_usage_error("dkek create", "name the share file with --out");
    if ((a.shares > 0) != (a.threshold > 0))
        return tool_usage_error("dkek create", "--shares and --threshold go together");
    if (a.threshold > a.shares)
        return tool_usage_error("dkek create", "--threshold is at most --shares");
    if (a.shares > 0 && a.password_source != NULL)
        return tool_usage_error("dkek create",
                                "with --shares the password is random: no --password-source");
    if (access(a.out, F_OK) == 0)
        return tool_fail_msg(TOOL_EXIT_OTHER, "%s exists: a share file is never overwritten",
                             a.out);
    memset(&sp, 0, sizeof(sp));
    if ((err = create_password(&a, pw, &len, &sp)) != PICO_OK ||
        (err = pico_dkek_share_random(share)) != PICO_OK ||
        (err = pico_dkek_seal(share, (uint8_t *)pw, len, NULL, PICO_DKEK_ITERATIONS,
                              progress_start(&state), &state, file)) != PICO_OK ||
        (err = pico_dkek_kcv(share, kcv)) != PICO_OK ||
        (err = pico_dkek_write_file(a.out, file)) != PICO_OK)
        goto end;
    kcv_hex(kcv, hex);
    if (ctx->json) {
        printf("{\"file\":");
        tool_json_str(stdout, a.out);
        printf(",\"kcv\":\"%s\"", hex);
    } else {
        printf("DKEK share written to %s (check value %s).\n", a.out, hex);
        if (a.shares > 0)
            printf("Its password is split into %d shares, %d of which open it:\n\n", a.shares,
                   a.threshold);
    }
    if (a.shares > 0)
        err = print_pw_shares(ctx, &sp);
    if (ctx->json)
        printf("}\n");
end:
    OPENSSL_cleanse(share, sizeof(share));
    OPENSSL_cleanse(pw, sizeof(pw));
    pico_dkek_pw_split_clear(&sp);
    return err == PICO_OK ? TOOL_EXIT_OK : tool_fail(err);
}

/* ---------------------------------------------------------------- dkek import, status */

/* The state as text or a JSON object (no newline); done: "imported" for an import. */
static void print_state(tool_ctx *ctx, int domain, const pico_dkek_state *st, const char *done)
{
    const pico_dkek_info *in = &st->info;
    int real_kcv = st->set_up && in->total > 0 && in->missing == 0 && st->pin_session;
    char hex[17];

    kcv_hex(in->kcv, hex);
    if (ctx->json) {
        printf("{\"domain\":%d,\"set_up\":%s", domain, st->set_up ? "true" : "false");
        if (st->set_up)
            printf(",\"shares\":%u,\"missing\":%u,\"complete\":%s", in->total, in->missing,
                   in->total > 0 && in->missing == 0 ? "true" : "false");
        printf(",\"kcv\":");
        if (real_kcv)
            printf("\"%s\"", hex);
        else
            printf("null");
        printf(",\"pin_session\":%s%s}", st->pin_session ? "true" : "false",
               done != NULL ? ",\"imported\":true" : "");
        return;
    }
    if (done != NULL)
        printf("DKEK share %s into key domain %d.\n", done, domain);
    if (!st->set_up) {
        printf("Key domain %d: not set up ('%s domain create').\n", domain, TOOL_NAME);
        return;
    }
    if (in->total == 0) {
        printf("Key domain %d: no DKEK (the device was initialized without --dkek-shares, or "
               "the domain created with 0 shares).\n",
               domain);
        return;
    }
    printf("Key domain %d: DKEK of %u share%s, %u imported, %u missing.\n", domain, in->total,
           in->total == 1 ? "" : "s", in->total - in->missing, in->missing);
    if (real_kcv)
        printf("DKEK check value: %s\n", hex);
    else if (in->missing == 0)
        printf("DKEK check value: shown in a PIN session only (give --pin-source).\n");
}

/* print_state as a line of its own. */
static void show_state(tool_ctx *ctx, int domain, const pico_dkek_state *st, const char *done)
{
    print_state(ctx, domain, st, done);
    if (ctx->json)
        printf("\n");
}

/* The whole text a source gives: file:PATH, env:VAR, fd:N (password shares, many lines). */
static pico_err read_all(const char *source, char *buf, size_t cap)
{
    FILE *f = NULL;
    size_t n = 0;

    buf[0] = '\0';
    if (strncmp(source, "env:", 4) == 0) {
        const char *v = getenv(source + 4);
        if (v == NULL || strlen(v) + 1 > cap)
            return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: not set, or too long", source);
        memcpy(buf, v, strlen(v) + 1);
        return PICO_OK;
    }
    if (strncmp(source, "file:", 5) == 0)
        f = fopen(source + 5, "r");
    else if (strncmp(source, "fd:", 3) == 0)
        f = fdopen(atoi(source + 3), "r");
    if (f == NULL)
        return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: cannot be read (file:, env: or fd:)",
                              source);
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (n == cap - 1)
        return pico_err_raise(PICO_E_SECRET_SOURCE, "%s: too long", source);
    return PICO_OK;
}

/* Asks for the prime and m shares on the terminal, as sc-hsm-tool's import does. */
static pico_err ask_pw_shares(int m, char *buf, size_t cap)
{
    char line[128];
    size_t n = 0;

    if (!tool_interactive())
        return pico_err_raise(PICO_E_PIN_REQUIRED, "the password shares: no terminal to ask on: "
                                                   "give them with --password-source");
    for (int i = -1; i < m; i++) {
        for (int part = 0; part < (i < 0 ? 1 : 2); part++) {
            char prompt[64];
            if (i < 0)
                snprintf(prompt, sizeof(prompt), "Prime: ");
            else
                snprintf(prompt, sizeof(prompt), "Password share %d of %d, %s: ", i + 1, m,
                         part == 0 ? "share ID" : "share value");
            if (read_line(prompt, line, sizeof(line)) != 0 || n + strlen(line) + 2 > cap) {
                OPENSSL_cleanse(line, sizeof(line));
                return pico_err_raise(PICO_E_PIN_REQUIRED, "the password shares: cancelled");
            }
            n += (size_t)snprintf(buf + n, cap - n, "%s\n", line);
        }
    }
    OPENSSL_cleanse(line, sizeof(line));
    return PICO_OK;
}

/* The share file's password: given, or rebuilt from password shares. */
static pico_err import_password(const dkek_args *a, char *pw, size_t *len)
{
    char text[4096];
    pico_dkek_pw_split sp;
    pico_err err;

    if (a->password_shares == 0)
        return tool_get_secret("password of the DKEK share", NULL, a->password_source, 0, pw,
                               PW_MAX, len);
    err = a->password_source != NULL ? read_all(a->password_source, text, sizeof(text))
                                     : ask_pw_shares(a->password_shares, text, sizeof(text));
    if (err == PICO_OK && (err = pico_dkek_pw_parse(text, &sp)) == PICO_OK) {
        if (sp.n < (size_t)a->password_shares)
            err = pico_err_raise(PICO_E_ARGS, "%zu password shares given, %d needed", sp.n,
                                 a->password_shares);
        else
            err = pico_dkek_pw_join(&sp, (uint8_t *)pw, len);
        pico_dkek_pw_split_clear(&sp);
    }
    OPENSSL_cleanse(text, sizeof(text));
    return err;
}

/* Before the slow derivation: a domain that takes this share (set up, a DKEK, one missing). */
static pico_err import_check(tool_ctx *ctx, int domain)
{
    pico_dkek_state st;
    pico_err err;

    if ((err = pico_device_dkek_status(ctx->dev, (uint8_t)domain, &st)) != PICO_OK)
        return err;
    if (!st.set_up)
        return pico_err_raise(PICO_E_NOT_FOUND,
                              "key domain %d is not set up: '%s domain "
                              "create --domain %d --shares N' first",
                              domain, TOOL_NAME, domain);
    if (st.info.total == 0)
        return pico_err_raise(PICO_E_CONDITIONS,
                              "key domain %d has no DKEK to import into (the device was "
                              "initialized without --dkek-shares, or the domain created with 0)",
                              domain);
    if (st.info.missing == 0)
        return pico_err_raise(PICO_E_CONDITIONS,
                              "key domain %d has all its %u shares: no more can be imported",
                              domain, st.info.total);
    return PICO_OK;
}

static int dkek_import(tool_ctx *ctx, int argc, char **argv)
{
    uint8_t file[PICO_DKEK_FILE_LEN], share[PICO_DKEK_SHARE_LEN];
    char pw[PW_MAX];
    size_t len = 0;
    pico_dkek_state st;
    dkek_args a;
    int rc, state;
    pico_err err;

    if ((rc = parse(ctx, "dkek import", usage_import, argc, argv, &a)) >= 0)
        return rc;
    if (optind + 1 != argc)
        return tool_usage_error("dkek import", "name one share file");
    memset(pw, 0, sizeof(pw));
    memset(share, 0, sizeof(share));
    if ((err = pico_dkek_read_file(argv[optind], file)) != PICO_OK ||
        (err = tool_open_device(ctx)) != PICO_OK || (err = import_check(ctx, a.domain)) != PICO_OK)
        goto end;
    if ((err = import_password(&a, pw, &len)) != PICO_OK ||
        (err = pico_dkek_open(file, (uint8_t *)pw, len, PICO_DKEK_ITERATIONS,
                              progress_start(&state), &state, share)) != PICO_OK)
        goto end;
    OPENSSL_cleanse(pw, sizeof(pw));
    /* VERIFY, then the import in the same session (field-notes.md) */
    if ((err = tool_login(ctx, &a.auth)) != PICO_OK ||
        (err = pico_device_dkek_import(ctx->dev, (uint8_t)a.domain, share, &st)) != PICO_OK)
        goto end;
    show_state(ctx, a.domain, &st, "imported");
end:
    OPENSSL_cleanse(share, sizeof(share));
    OPENSSL_cleanse(pw, sizeof(pw));
    return err == PICO_OK ? TOOL_EXIT_OK : tool_fail(err);
}

/* A login factor on the command line: dkek status logs in (for the KCV) only then. */
static int has_factor(const tool_auth *auth)
{
    return auth->pin != NULL || auth->pin_source != NULL || auth->n_pka_keys > 0;
}

static int dkek_status(tool_ctx *ctx, int argc, char **argv)
{
    pico_dkek_state st;
    dkek_args a;
    int rc;
    pico_err err;

    if ((rc = parse(ctx, "dkek status", usage_status, argc, argv, &a)) >= 0)
        return rc;
    if (optind < argc)
        return tool_usage_error("dkek status", "unexpected extra argument");
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (has_factor(&a.auth) && (err = tool_login(ctx, &a.auth)) != PICO_OK) ||
        (err = pico_device_dkek_status(ctx->dev, (uint8_t)a.domain, &st)) != PICO_OK)
        return tool_fail(err);
    show_state(ctx, a.domain, &st, NULL);
    return TOOL_EXIT_OK;
}

int tool_cmd_dkek(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"create", dkek_create, "write a new DKEK share file (sc-hsm-tool's format)"},
        {"import", dkek_import, "import a DKEK share file into a key domain"},
        {"status", dkek_status, "a key domain's DKEK: shares, missing, check value"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "dkek", cmds, argc, argv);
}

/* ---------------------------------------------------------------- domain */

static const char usage_domain_create[] =
    "Usage: " TOOL_NAME " domain create --domain D --dkek-shares N [--pin-source SRC]\n"
    "\n"
    "Sets up key domain D (the device was initialized with --key-domains) with a\n"
    "DKEK of N shares to import ('dkek import --domain D'); N = 0 makes a domain\n"
    "without a DKEK (its keys can never be wrapped). Needs the user PIN.\n";

static const char usage_domain_delete[] =
    "Usage: " TOOL_NAME " domain delete --domain D [--pin-source SRC]\n"
    "\n"
    "Deletes key domain D and its DKEK; refused while keys use it. Needs the\n"
    "user PIN.\n";

static const char usage_domain_forget[] =
    "Usage: " TOOL_NAME " domain forget --domain D [--pin-source SRC]\n"
    "\n"
    "Forgets key domain D's DKEK: its shares are to import again before its keys\n"
    "can be wrapped or unwrapped. Needs the user PIN.\n";

static const char usage_domain_status[] =
    "Usage: " TOOL_NAME " domain status [--domain D] [--json] [--pin-source SRC]\n"
    "\n"
    "Shows key domain D (default: every domain the device has): set up or not,\n"
    "its DKEK's shares and check value (in a PIN session only, as dkek status).\n";

static int domain_change(tool_ctx *ctx, int argc, char **argv, const char *cmd, const char *usage,
                         int p1)
{
    pico_dkek_state st;
    dkek_args a;
    int rc;
    pico_err err;

    if ((rc = parse(ctx, cmd, usage, argc, argv, &a)) >= 0)
        return rc;
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected extra argument");
    if (!a.domain_given)
        return tool_usage_error(cmd, "name the key domain with --domain D");
    if (p1 == 1 && a.dkek_shares < 0)
        return tool_usage_error(cmd, "give the DKEK's shares with --dkek-shares N (0: none)");
    memset(&st, 0, sizeof(st));
    if ((err = tool_open_device(ctx)) != PICO_OK || (err = tool_login(ctx, &a.auth)) != PICO_OK)
        return tool_fail(err);
    if (p1 == 1)
        err = pico_device_domain_create(ctx->dev, (uint8_t)a.domain, (uint8_t)a.dkek_shares, &st);
    else if (p1 == 3)
        err = pico_device_domain_delete(ctx->dev, (uint8_t)a.domain);
    else
        err = pico_device_domain_forget(ctx->dev, (uint8_t)a.domain, &st);
    if (err != PICO_OK)
        return tool_fail(err);
    if (p1 == 3) {
        if (ctx->json)
            printf("{\"domain\":%d,\"deleted\":true}\n", a.domain);
        else
            printf("Key domain %d deleted.\n", a.domain);
        return TOOL_EXIT_OK;
    }
    show_state(ctx, a.domain, &st, NULL);
    return TOOL_EXIT_OK;
}

static int domain_create(tool_ctx *ctx, int argc, char **argv)
{
    return domain_change(ctx, argc, argv, "domain create", usage_domain_create, 1);
}

static int domain_delete(tool_ctx *ctx, int argc, char **argv)
{
    return domain_change(ctx, argc, argv, "domain delete", usage_domain_delete, 3);
}

static int domain_forget(tool_ctx *ctx, int argc, char **argv)
{
    return domain_change(ctx, argc, argv, "domain forget", usage_domain_forget, 4);
}

/* Every domain the device has: 0 up to the first it refuses (6A86/6B00). */
static int domain_status_all(tool_ctx *ctx)
{
    pico_dkek_state st;
    int d, n = 0;
    pico_err err = PICO_OK;

    if (ctx->json)
        printf("[");
    for (d = 0; d <= PICO_DKEK_MAX_DOMAIN; d++) {
        pico_err_mark(); /* the first domain the device lacks ends the list */
        err = pico_device_dkek_status(ctx->dev, (uint8_t)d, &st);
        pico_err_pop_to_mark();
        if (err == PICO_E_UNSUPPORTED && d > 0) {
            err = PICO_OK;
            break;
        }
        if (err != PICO_OK)
            break;
        if (ctx->json && n++ > 0)
            printf(",");
        print_state(ctx, d, &st, NULL);
    }
    if (ctx->json)
        printf("]\n");
    if (err != PICO_OK) /* domain 0 refused, or a device error: say it */
        return tool_fail(pico_device_dkek_status(ctx->dev, (uint8_t)d, &st));
    return TOOL_EXIT_OK;
}

static int domain_status(tool_ctx *ctx, int argc, char **argv)
{
    pico_dkek_state st;
    dkek_args a;
    int rc;
    pico_err err;

    if ((rc = parse(ctx, "domain status", usage_domain_status, argc, argv, &a)) >= 0)
        return rc;
    if (optind < argc)
        return tool_usage_error("domain status", "unexpected extra argument");
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (has_factor(&a.auth) && (err = tool_login(ctx, &a.auth)) != PICO_OK))
        return tool_fail(err);
    if (!a.domain_given)
        return domain_status_all(ctx);
    if ((err = pico_device_dkek_status(ctx->dev, (uint8_t)a.domain, &st)) != PICO_OK)
        return tool_fail(err);
    show_state(ctx, a.domain, &st, NULL);
    return TOOL_EXIT_OK;
}

int tool_cmd_domain(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"create", domain_create, "set up a key domain with N DKEK shares"},
        {"delete", domain_delete, "delete an empty key domain"},
        {"forget", domain_forget, "forget a key domain's DKEK (its shares are imported again)"},
        {"status", domain_status, "the key domains and their DKEKs"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "domain", cmds, argc, argv);
}
