/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool init: INITIALIZE DEVICE with every option of the command
 * (protocol 3.1, 3.2), then one VERIFY of the new PIN and the PKA status, as
 * a user should see them before storing the PINs away.
 *
 * Any host can re-initialize a Pico without proving the old SO-PIN (3.4), so
 * the guard is here: a person confirms on the terminal, or --yes says so.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
    "Usage: " TOOL_NAME " init [--yes] [--pin PIN | --pin-source SRC]\n"
    "                     [--so-pin HEX | --so-pin-source SRC]\n"
    "                     [--retries N] [--dkek-shares N|none] [--pka TOTAL/REQUIRED]\n"
    "                     [--key-domains N] [--[no-]reset-retry-counter] [--transport-pin]\n"
    "                     [--pka-replaceable] [--pin-and-pka] [--rrc-counter-only]\n"
    "\n"
    "Initializes the device: erases every key, certificate and PKA key on it and\n"
    "sets the PINs and options. Asks for confirmation on the terminal unless --yes.\n"
    "\n"
    "  --yes                      do not ask (needed without a terminal)\n"
    "  --pin PIN                  new user PIN, 6 to 16 characters (visible in ps:\n"
    "                             prefer --pin-source)\n"
    "  --pin-source SRC           new user PIN from file:PATH, env:VAR or fd:N\n"
    "  --so-pin HEX               new SO-PIN, 16 hexadecimal digits (8 bytes)\n"
    "  --so-pin-source SRC        new SO-PIN from file:PATH, env:VAR or fd:N\n"
    "  --retries N                user PIN tries, 1 to 15 (default 3)\n"
    "  --dkek-shares N|none       DKEK shares to import (0: random DKEK; default none)\n"
    "  --pka TOTAL/REQUIRED       public key authentication: TOTAL keys (1 to 8), of\n"
    "                             which REQUIRED sign at each login (e.g. 3/2)\n"
    "  --key-domains N            number of key domains (1 to 16)\n"
    "  --reset-retry-counter      the SO-PIN may unblock the user PIN (option 0001,\n"
    "                             default on); --no-reset-retry-counter turns it off\n"
    "  --transport-pin            transport PIN (0002): never cleared on a Pico\n"
    "  --pka-replaceable          registered PKA keys may be replaced (0008)\n"
    "  --pin-and-pka              PIN and PKA both needed (0010; a Pico always needs both)\n"
    "  --rrc-counter-only         unblocking may reset the counter alone (0020)\n"
    "\n"
    "Without --pin and --pin-source: with --pka the device gets no user PIN\n"
    "(PKA only); without --pka the PIN is asked for on the terminal. The SO-PIN is\n"
    "asked for when not given.\n";

enum {
    OPT_YES = OPT_FIRST_LOCAL,
    OPT_RETRIES,
    OPT_DKEK,
    OPT_PKA,
    OPT_DOMAINS,
    OPT_RRC,
    OPT_NO_RRC,
    OPT_TRANSPORT,
    OPT_REPLACEABLE,
    OPT_PIN_AND_PKA,
    OPT_RRC_ONLY,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    {"pin", required_argument, NULL, OPT_PIN},
    {"pin-source", required_argument, NULL, OPT_PIN_SOURCE},
    TOOL_SO_PIN_OPTIONS,
    {"yes", no_argument, NULL, OPT_YES},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"dkek-shares", required_argument, NULL, OPT_DKEK},
    {"pka", required_argument, NULL, OPT_PKA},
    {"key-domains", required_argument, NULL, OPT_DOMAINS},
    {"reset-retry-counter", no_argument, NULL, OPT_RRC},
    {"no-reset-retry-counter", no_argument, NULL, OPT_NO_RRC},
    {"transport-pin", no_argument, NULL, OPT_TRANSPORT},
    {"pka-replaceable", no_argument, NULL, OPT_REPLACEABLE},
    {"pin-and-pka", no_argument, NULL, OPT_PIN_AND_PKA},
    {"rrc-counter-only", no_argument, NULL, OPT_RRC_ONLY},
    {NULL, 0, NULL, 0},
};

/* What the command line asks for. */
typedef struct init_args {
    pico_init_spec spec;
    tool_auth auth;
    int yes, rrc;
    int have_pin; /* a user PIN is set (given, or asked for) */
} init_args;

/* A decimal number in [min, max]; 0 on success. */
static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* --pka TOTAL/REQUIRED; returns -1 to go on, else an exit code. */
static int parse_pka(const char *arg, pico_init_spec *spec)
{
    const char *slash = strchr(arg, '/');
    char total[8];
    size_t n = slash != NULL ? (size_t)(slash - arg) : strlen(arg);

    if (n == 0 || n >= sizeof(total))
        return tool_usage_error("init", "--pka takes TOTAL/REQUIRED, e.g. 3/2");
    memcpy(total, arg, n);
    total[n] = '\0';
    if (parse_int(total, 1, 8, &spec->pka_total) != 0)
        return tool_usage_error("init", "--pka: 1 to 8 keys in total");
    spec->pka_required = 1;
    if (slash != NULL && parse_int(slash + 1, 1, spec->pka_total, &spec->pka_required) != 0)
        return tool_usage_error("init", "--pka: 1 to %d keys required", spec->pka_total);
    return -1;
}

/* One option of init's own; returns -1 to go on, else an exit code. */
static int init_opt(int c, const char *arg, init_args *a, char **argv)
{
    pico_init_spec *spec = &a->spec;

    switch (c) {
    case OPT_YES:
        a->yes = 1;
        break;
    case OPT_RETRIES:
        if (parse_int(arg, 1, 15, &spec->retries) != 0)
            return tool_usage_error("init", "--retries takes 1 to 15");
        break;
    case OPT_DKEK:
        if (strcmp(arg, "none") == 0)
            spec->dkek_shares = -1;
        else if (parse_int(arg, 0, 255, &spec->dkek_shares) != 0)
            return tool_usage_error("init", "--dkek-shares takes 0 to 255, or none");
        break;
    case OPT_PKA:
        return parse_pka(arg, spec);
    case OPT_DOMAINS:
        if (parse_int(arg, 1, 16, &spec->key_domains) != 0)
            return tool_usage_error("init", "--key-domains takes 1 to 16");
        break;
    case OPT_RRC:
    case OPT_NO_RRC:
        a->rrc = c == OPT_RRC;
        break;
    case OPT_TRANSPORT:
        spec->options |= PICO_OPT_TRANSPORT_PIN;
        break;
    case OPT_REPLACEABLE:
        spec->options |= PICO_OPT_PKA_REPLACEABLE;
        break;
    case OPT_PIN_AND_PKA:
        spec->options |= PICO_OPT_PIN_AND_PKA;
        break;
    case OPT_RRC_ONLY:
        spec->options |= PICO_OPT_RRC_COUNTER_ONLY;
        break;
    default:
        return tool_bad_option("init", argv);
    }
    return -1;
}

/* The options that go together, and what a run without a terminal must give. Nothing
 * touches the device before these checks: a refusal leaves it as it was. */
static int check_args(init_args *a)
{
    const tool_auth *auth = &a->auth;

    if (a->rrc)
        a->spec.options |= PICO_OPT_RESET_RETRY;
    if ((a->spec.options & (PICO_OPT_PKA_REPLACEABLE | PICO_OPT_PIN_AND_PKA)) &&
        a->spec.pka_total == 0)
        return tool_usage_error("init", "--pka-replaceable and --pin-and-pka need --pka");
    if ((a->spec.options & PICO_OPT_RRC_COUNTER_ONLY) && !a->rrc)
        return tool_usage_error("init", "--rrc-counter-only needs the reset retry counter "
                                        "option (every unblock variant does, protocol 4.3)");
    if (auth->pin != NULL && auth->pin_source != NULL)
        return tool_usage_error("init", "--pin and --pin-source: give one");
    if (auth->so_pin != NULL && auth->so_pin_source != NULL)
        return tool_usage_error("init", "--so-pin and --so-pin-source: give one");
    /* On a terminal the user PIN is asked for like any init, PKA or not (empty: PKA only);
     * a script gives --pka without --pin for a PKA-only device */
    a->have_pin = auth->pin != NULL || auth->pin_source != NULL || a->spec.pka_total == 0 ||
                  tool_interactive();
    if (!a->yes && !tool_interactive())
        return tool_usage_error("init", "init erases the device: without a terminal to confirm "
                                        "on, give --yes");
    if (!tool_interactive() && ((a->have_pin && auth->pin == NULL && auth->pin_source == NULL) ||
                                (auth->so_pin == NULL && auth->so_pin_source == NULL)))
        return tool_usage_error("init", "no terminal to ask on: give the PINs with --pin-source "
                                        "and --so-pin-source");
    return -1;
}

/* Parses init's options; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, int argc, char **argv, init_args *a)
{
    int c, rc;

    memset(a, 0, sizeof(*a));
    a->spec.dkek_shares = -1;
    a->rrc = 1;
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        if ((rc = init_opt(c, optarg, a, argv)) >= 0)
            return rc;
    }
    if (ctx->help)
        return tool_help(usage);
    if (optind < argc)
        return tool_usage_error("init", "unexpected extra argument");
    return check_args(a);
}

/* The new PINs, from the options or the terminal, and the INITIALIZE data checked with
 * them before the device is asked anything. The caller cleanses pin and so. */
static pico_err get_pins(init_args *a, char *pin, size_t cap, uint8_t so[TOOL_SO_PIN_LEN])
{
    const tool_auth *auth = &a->auth;
    uint8_t *data = NULL;
    size_t pin_len = 0, len = 0;
    pico_err err;

    if (a->have_pin) {
        int pka_only_ok = a->spec.pka_total > 0 && auth->pin == NULL && auth->pin_source == NULL;
        err = tool_get_secret(pka_only_ok ? "new user PIN (empty: none, PKA only)" : "new user PIN",
                              auth->pin, auth->pin_source, 1, pin, cap, &pin_len);
        if (err == PICO_OK && !(pin_len == 0 && pka_only_ok) &&
            (pin_len < 6 || pin_len > PICO_PIN_MAX))
            err = pico_err_raise(PICO_E_ARGS, "the user PIN has 6 to %d characters", PICO_PIN_MAX);
        if (err != PICO_OK)
            return err;
        if (pin_len > 0)
            a->spec.pin = pin;
    }
    if ((err = tool_get_so_pin(auth->so_pin, auth->so_pin_source, "new SO-PIN", 1, so)) != PICO_OK)
        return err;
    a->spec.so_pin = so;
    err = pico_schsm_init_data(&a->spec, &data, &len);
    if (data != NULL)
        OPENSSL_cleanse(data, len);
    free(data);
    return err;
}

/* What is about to be set up may not be what was meant: said before the question. Returns
 * -1 to go on, else an exit code. */
static int warn_and_confirm(tool_ctx *ctx, const init_args *a)
{
    const pico_init_spec *spec = &a->spec;
    char question[512];
    const char *name;

    if (spec->options & PICO_OPT_TRANSPORT_PIN)
        tool_warn("transport PIN: a Pico never clears this option, so every session must "
                  "change the PIN before use (VERIFY answers 6984)");
    if (spec->pka_total > 0 && spec->pin == NULL)
        tool_warn(
            "PKA only, no user PIN: on a Pico, keys are encrypted under a key that only a PIN "
            "opens, so key use will need the SO-PIN (or a user PIN set later with "
            "'pin unblock') besides PKA (protocol 4.5)");
    if (spec->options & PICO_OPT_PIN_AND_PKA)
        tool_note("note: a Pico always requires the PIN and PKA together once PKA is "
                  "configured; the option is stored only");
    if (a->yes)
        return -1;
    name = pico_device_name(ctx->dev);
    snprintf(question, sizeof(question),
             "Initialize the device %s in reader '%s'? This erases every key, certificate "
             "and PKA key on it.",
             name[0] != '\0' ? name : "(blank)", pico_device_reader(ctx->dev));
    if (!tool_confirm(question))
        return tool_fail_msg(TOOL_EXIT_USAGE, "not confirmed: the device was not changed");
    return -1;
}

/* The status after INITIALIZE and the new PIN's VERIFY, in their transaction. */
static pico_err init_report(void *arg, pico_card *card)
{
    return tool_status_read(card, arg);
}

/* What was done, and the next step, then the whole status. */
static int show_result(tool_ctx *ctx, const init_args *a, const pico_init_result *res,
                       const tool_status *st)
{
    tool_note("Device initialized.");
    if (res->pin_verified)
        tool_note("The new user PIN was verified.");
    else if (a->spec.pin != NULL)
        tool_note("The new user PIN was not verified (transport PIN): change it with "
                  "'pin change' first.");
    if (st->pka && st->pka_st[1] > 0)
        tool_note("Public key authentication: register %u key(s) with 'pka register' "
                  "(%u of %u needed to log in).",
                  st->pka_st[1], st->pka_st[2], st->pka_st[0]);
    return tool_status_show(ctx);
}

int tool_cmd_init(tool_ctx *ctx, int argc, char **argv)
{
    char pin[PICO_PIN_MAX + 2];
    uint8_t so[TOOL_SO_PIN_LEN];
    init_args a;
    tool_status st;
    pico_admin_steps steps = {NULL, init_report, &st};
    pico_init_result res;
    int rc;
    pico_err err;

    if ((rc = parse(ctx, argc, argv, &a)) >= 0)
        return rc;
    memset(&st, 0, sizeof(st));
    if ((err = get_pins(&a, pin, sizeof(pin), so)) != PICO_OK ||
        (err = tool_open_device(ctx)) != PICO_OK) {
        rc = tool_fail(err);
        goto end;
    }
    if ((rc = warn_and_confirm(ctx, &a)) >= 0)
        goto end;
    /* INITIALIZE, VERIFY of the new PIN, status: one transaction, no other client between.
     * The device object forgets everything it knew of the device */
    if ((err = pico_device_initialize(ctx->dev, &a.spec, &steps, &res)) != PICO_OK)
        rc = tool_fail(err);
    else
        rc = show_result(ctx, &a, &res, &st);
end:
    OPENSSL_cleanse(pin, sizeof(pin));
    OPENSSL_cleanse(so, sizeof(so));
    return rc;
}
