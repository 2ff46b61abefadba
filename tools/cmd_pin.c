/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool pin: status, verify, change, unblock (protocol 2.1, 4.1-4.3).
 * Every command that may spend a try reads the PIN's state first (VERIFY
 * without data spends none), refuses a blocked PIN, and spends the last try
 * only when --pin-last-try says so (or a person at the prompt was told).
 */
#include <openssl/crypto.h>
#include <string.h>

#include "tool.h"

static const char usage_status[] =
    "Usage: " TOOL_NAME " pin status [--json]\n"
    "\n"
    "Shows the user PIN and SO-PIN state: tries left, blocked, verified, not set.\n"
    "No try is spent.\n";

static const char usage_verify[] =
    "Usage: " TOOL_NAME " pin verify [--pin PIN | --pin-source SRC] [--pin-last-try]\n"
    "       " TOOL_NAME " pin verify --so [--so-pin HEX | --so-pin-source SRC] [--pin-last-try]\n"
    "\n"
    "Verifies the user PIN (or with --so the SO-PIN). A wrong PIN spends a try.\n"
    "Without a value or source the PIN is asked for on the terminal.\n"
    "\n"
    "  --pin-last-try     spend the last try (refused otherwise)\n";

static const char usage_change[] =
    "Usage: " TOOL_NAME " pin change [--so] [--pin PIN | --pin-source SRC]\n"
    "                           [--new-pin PIN | --new-pin-source SRC] [--pin-last-try]\n"
    "\n"
    "Changes the user PIN (or with --so the SO-PIN, 16 hexadecimal digits; its\n"
    "current value may also come from --so-pin/--so-pin-source). Values not given\n"
    "are asked for on the terminal, the new one twice.\n";

static const char usage_unblock[] =
    "Usage: " TOOL_NAME " pin unblock [--so-pin HEX | --so-pin-source SRC]\n"
    "                            [--new-pin PIN | --new-pin-source SRC | --counter-only]\n"
    "                            [--pin-last-try]\n"
    "\n"
    "Unblocks the user PIN with the SO-PIN (RESET RETRY COUNTER): sets a new user\n"
    "PIN and resets its tries; with --counter-only resets the tries and keeps the\n"
    "PIN (needs the device option rrc-counter-only). Needs the device option\n"
    "reset-retry-counter. --pin-last-try: spend the SO-PIN's last try.\n";

enum {
    OPT_SO = OPT_FIRST_LOCAL,
    OPT_NEW_PIN,
    OPT_NEW_PIN_SOURCE,
    OPT_COUNTER_ONLY,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    TOOL_SO_PIN_OPTIONS,
    {"so", no_argument, NULL, OPT_SO},
    {"new-pin", required_argument, NULL, OPT_NEW_PIN},
    {"new-pin-source", required_argument, NULL, OPT_NEW_PIN_SOURCE},
    {"counter-only", no_argument, NULL, OPT_COUNTER_ONLY},
    {NULL, 0, NULL, 0},
};

typedef struct pin_args {
    tool_auth auth;
    int so, counter_only;
    const char *new_pin, *new_pin_source;
} pin_args;

/* Parses the options of a pin subcommand; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, const char *cmd, const char *usage, int argc, char **argv,
                 pin_args *a)
{
    int c;

    memset(a, 0, sizeof(*a));
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        switch (c) {
        case OPT_SO:
            a->so = 1;
            break;
        case OPT_NEW_PIN:
            a->new_pin = optarg;
            break;
        case OPT_NEW_PIN_SOURCE:
            a->new_pin_source = optarg;
            break;
        case OPT_COUNTER_ONLY:
            a->counter_only = 1;
            break;
        default:
            return tool_bad_option(cmd, argv);
        }
    }
    if (ctx->help)
        return tool_help(usage);
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected extra argument");
    if (a->auth.n_pka_keys > 0)
        return tool_usage_error(cmd, "--pka-key has no use here");
    return -1;
}

pico_err tool_pin_guard(pico_card *card, uint8_t ref, int last_try_ok)
{
    const char *which = ref == PICO_PIN_SO ? "SO-PIN" : "user PIN";
    pico_pin_state state;
    int tries;
    pico_err err;

    if ((err = pico_schsm_pin_status(card, ref, &state, &tries)) != PICO_OK)
        return err;
    switch (state) {
    case PICO_PIN_BLOCKED:
        return pico_err_raise(PICO_E_PIN_BLOCKED, "the %s is blocked%s", which,
                              ref == PICO_PIN_SO ? ": only a new initialization helps" : "");
    case PICO_PIN_NOT_SET:
        return pico_err_raise(PICO_E_PIN_NOT_SET, "no %s: initialize the device first", which);
    case PICO_PIN_TRIES:
        if (tries == 1 && !last_try_ok)
            return pico_err_raise(PICO_E_PIN_LAST_TRY,
                                  "the %s has one try left: give --pin-last-try to spend it",
                                  which);
        break;
    case PICO_PIN_VERIFIED:
    case PICO_PIN_TRANSPORT:
        break;
    }
    return PICO_OK;
}

pico_err tool_so_verify(pico_card *card, const uint8_t so[TOOL_SO_PIN_LEN], int last_try_ok)
{
    int tries;
    pico_err err;

    if ((err = tool_pin_guard(card, PICO_PIN_SO, last_try_ok)) != PICO_OK)
        return err;
    return pico_schsm_verify(card, PICO_PIN_SO, so, TOOL_SO_PIN_LEN, &tries);
}

/* ---------------------------------------------------------------- pin status */

static int pin_status(tool_ctx *ctx, int argc, char **argv)
{
    pin_args a;
    int rc;

    if ((rc = parse(ctx, "pin status", usage_status, argc, argv, &a)) >= 0)
        return rc;
    return tool_status_show_part(ctx, tool_status_print_pins);
}

/* ---------------------------------------------------------------- pin verify */

typedef struct verify_run {
    const tool_auth *auth;
    const pico_uri *uri;
    const char *device;
    uint8_t so[TOOL_SO_PIN_LEN];
} verify_run;

static pico_err verify_user_fn(void *arg, pico_card *card)
{
    verify_run *r = arg;
    /* the login engine: state first, the PIN from the options or the prompt, one VERIFY */
    pico_auth_factors f = {.uri = r->uri, .prompt = &tool_pin_prompt, .device = r->device};

    return pico_auth_login(card, &f, NULL, NULL);
}

static pico_err verify_so_fn(void *arg, pico_card *card)
{
    verify_run *r = arg;

    return tool_so_verify(card, r->so, r->auth->pin_last_try);
}

static int pin_verify(tool_ctx *ctx, int argc, char **argv)
{
    verify_run r;
    pico_uri uri;
    pin_args a;
    char device[256];
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "pin verify", usage_verify, argc, argv, &a)) >= 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(&uri, 0, sizeof(uri));
    r.auth = &a.auth;
    if ((err = tool_open_device(ctx)) != PICO_OK)
        return tool_fail(err);
    snprintf(device, sizeof(device), "Pico HSM %s in reader '%s'", pico_device_name(ctx->dev),
             pico_device_reader(ctx->dev));
    r.device = device;
    if (a.so) {
        const char *v = a.auth.so_pin != NULL ? a.auth.so_pin : a.auth.pin;
        const char *s = a.auth.so_pin_source != NULL ? a.auth.so_pin_source : a.auth.pin_source;
        if ((err = tool_get_so_pin(v, s, "SO-PIN", 0, r.so)) == PICO_OK)
            err = pico_device_run_login(ctx->dev, verify_so_fn, &r);
    } else if ((err = tool_auth_uri(&a.auth, &uri)) == PICO_OK) {
        r.uri = &uri;
        err = pico_device_run_login(ctx->dev, verify_user_fn, &r);
    }
    pico_uri_free(&uri);
    OPENSSL_cleanse(r.so, sizeof(r.so));
    if (err != PICO_OK)
        return tool_fail(err);
    if (!ctx->json)
        printf("%s verified.\n", a.so ? "SO-PIN" : "User PIN");
    else
        printf("{\"verified\":true,\"pin\":\"%s\"}\n", a.so ? "so" : "user");
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- pin change */

typedef struct change_run {
    uint8_t ref;
    const uint8_t *old_pin, *new_pin;
    size_t old_len, new_len;
    int last_try_ok;
    int tries;
} change_run;

/* The state of the PIN about to be checked, in the change's transaction. */
static pico_err change_check(void *arg, pico_card *card)
{
    change_run *r = arg;

    return tool_pin_guard(card, r->ref, r->last_try_ok);
}

static int pin_change(tool_ctx *ctx, int argc, char **argv)
{
    char old_pin[PICO_PIN_MAX + 2], new_pin[PICO_PIN_MAX + 2];
    uint8_t old_so[TOOL_SO_PIN_LEN], new_so[TOOL_SO_PIN_LEN];
    pico_admin_steps steps = {change_check, NULL, NULL};
    change_run r;
    pin_args a;
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "pin change", usage_change, argc, argv, &a)) >= 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(old_pin, 0, sizeof(old_pin));
    memset(new_pin, 0, sizeof(new_pin));
    r.last_try_ok = a.auth.pin_last_try;
    if ((err = tool_open_device(ctx)) != PICO_OK)
        goto end;
    if (a.so) {
        const char *v = a.auth.so_pin != NULL ? a.auth.so_pin : a.auth.pin;
        const char *s = a.auth.so_pin_source != NULL ? a.auth.so_pin_source : a.auth.pin_source;
        if ((err = tool_get_so_pin(v, s, "current SO-PIN", 0, old_so)) != PICO_OK ||
            (err = tool_get_so_pin(a.new_pin, a.new_pin_source, "new SO-PIN", 1, new_so)) !=
                PICO_OK)
            goto end;
        r.ref = PICO_PIN_SO;
        r.old_pin = old_so;
        r.old_len = r.new_len = TOOL_SO_PIN_LEN;
        r.new_pin = new_so;
    } else {
        if ((err = tool_get_secret("current user PIN", a.auth.pin, a.auth.pin_source, 0, old_pin,
                                   sizeof(old_pin), &r.old_len)) != PICO_OK ||
            (err = tool_get_secret("new user PIN", a.new_pin, a.new_pin_source, 1, new_pin,
                                   sizeof(new_pin), &r.new_len)) != PICO_OK)
            goto end;
        if (r.new_len < 6 || r.new_len > PICO_PIN_MAX) {
            err = pico_err_raise(PICO_E_ARGS, "the new user PIN has 6 to %d characters",
                                 PICO_PIN_MAX);
            goto end;
        }
        r.ref = PICO_PIN_USER;
        r.old_pin = (const uint8_t *)old_pin;
        r.new_pin = (const uint8_t *)new_pin;
    }
    /* the device object drops the login (a wrong old PIN drops the PIN sessions, 4.2) and,
     * after a new user PIN, the held one */
    steps.arg = &r;
    err = pico_device_change_pin(ctx->dev, r.ref, r.old_pin, r.old_len, r.new_pin, r.new_len,
                                 &steps, &r.tries);
end:
    OPENSSL_cleanse(old_pin, sizeof(old_pin));
    OPENSSL_cleanse(new_pin, sizeof(new_pin));
    OPENSSL_cleanse(old_so, sizeof(old_so));
    OPENSSL_cleanse(new_so, sizeof(new_so));
    if (err != PICO_OK)
        return tool_fail(err);
    if (ctx->json)
        printf("{\"changed\":true,\"pin\":\"%s\"}\n", a.so ? "so" : "user");
    else
        printf("%s changed.\n", a.so ? "SO-PIN" : "User PIN");
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- pin unblock */

typedef struct unblock_run {
    uint8_t so[TOOL_SO_PIN_LEN];
    const uint8_t *new_pin;
    size_t new_len;
    int last_try_ok;
    int tries;
    tool_status st;
} unblock_run;

/* The SO-PIN's state, in the unblock's transaction. */
static pico_err unblock_check(void *arg, pico_card *card)
{
    unblock_run *r = arg;

    return tool_pin_guard(card, PICO_PIN_SO, r->last_try_ok);
}

static int pin_unblock(tool_ctx *ctx, int argc, char **argv)
{
    char new_pin[PICO_PIN_MAX + 2];
    pico_admin_steps steps = {unblock_check, NULL, NULL};
    unblock_run r;
    pin_args a;
    char b[32];
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "pin unblock", usage_unblock, argc, argv, &a)) >= 0)
        return rc;
    if (a.counter_only && (a.new_pin != NULL || a.new_pin_source != NULL))
        return tool_usage_error("pin unblock", "--counter-only keeps the PIN: no new PIN with it");
    memset(&r, 0, sizeof(r));
    memset(new_pin, 0, sizeof(new_pin));
    r.last_try_ok = a.auth.pin_last_try;
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_get_so_pin(a.auth.so_pin, a.auth.so_pin_source, "SO-PIN", 0, r.so)) != PICO_OK)
        goto end;
    if (!a.counter_only) {
        if ((err = tool_get_secret("new user PIN", a.new_pin, a.new_pin_source, 1, new_pin,
                                   sizeof(new_pin), &r.new_len)) != PICO_OK)
            goto end;
        if (r.new_len < 6 || r.new_len > PICO_PIN_MAX) {
            err = pico_err_raise(PICO_E_ARGS, "the new user PIN has 6 to %d characters",
                                 PICO_PIN_MAX);
            goto end;
        }
        r.new_pin = (const uint8_t *)new_pin;
    }
    /* new_pin NULL: counter only (P1=01). The device object ends the session RRC opened */
    steps.arg = &r;
    err = pico_device_unblock_pin(ctx->dev, r.so, TOOL_SO_PIN_LEN, r.new_pin, r.new_len, &steps,
                                  &r.tries);
    /* the state a new session sees */
    if (err == PICO_OK)
        err = tool_status_get(ctx, &r.st);
end:
    OPENSSL_cleanse(new_pin, sizeof(new_pin));
    OPENSSL_cleanse(r.so, sizeof(r.so));
    if (err != PICO_OK)
        return tool_fail(err);
    if (ctx->json) {
        printf("{\"unblocked\":true,\"new_pin\":%s,", a.counter_only ? "false" : "true");
        tool_status_print_pins(stdout, &r.st, 1);
        printf("}\n");
    } else {
        printf("User PIN unblocked%s: %s.\n",
               a.counter_only ? " (PIN unchanged)" : " with a new PIN",
               tool_pin_state_text(r.st.user_state, r.st.user_tries, b, sizeof(b)));
    }
    return TOOL_EXIT_OK;
}

int tool_cmd_pin(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"status", pin_status, "user PIN and SO-PIN state (no try spent)"},
        {"verify", pin_verify, "verify the user PIN or the SO-PIN"},
        {"change", pin_change, "change the user PIN or the SO-PIN"},
        {"unblock", pin_unblock, "unblock the user PIN with the SO-PIN"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "pin", cmds, argc, argv);
}
