/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool status: what the device says about itself without spending
 * anything: the SELECT answer (options, firmware version; protocol 1.2,
 * 2.2), PIN states from VERIFY without data (2.1), the PKA status and each
 * slot's CHR (2.3, 5.3), and the number of keys.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
    "Usage: " TOOL_NAME " status [--reader NAME] [--token NAME] [--json]\n"
    "\n"
    "Shows the reader, the device name, the firmware version and options, the\n"
    "user PIN and SO-PIN state (no try is spent), the public key authentication\n"
    "(PKA) configuration and its registered keys, and the number of keys.\n";

/* Option bits (protocol 3.2), by the names init takes them under. */
static const struct {
    uint16_t bit;
    const char *name;
} option_names[] = {
    {PICO_OPT_RESET_RETRY, "reset-retry-counter"},
    {PICO_OPT_TRANSPORT_PIN, "transport-pin"},
    {0x0004, "session-pin"},
    {PICO_OPT_PKA_REPLACEABLE, "pka-replaceable"},
    {PICO_OPT_PIN_AND_PKA, "pin-and-pka"},
    {PICO_OPT_RRC_COUNTER_ONLY, "rrc-counter-only"},
    {0x0100, "press-to-confirm"},
    {0x0200, "key-usage-counter"},
    {0x0400, "secure-lock"},
};

pico_err tool_status_read(pico_card *card, tool_status *st)
{
    unsigned i, n;
    int set;
    pico_err err;

    if ((err = pico_schsm_pin_status(card, PICO_PIN_USER, &st->user_state, &st->user_tries)) !=
            PICO_OK ||
        (err = pico_schsm_pin_status(card, PICO_PIN_SO, &st->so_state, &st->so_tries)) != PICO_OK)
        return err;
    /* 2.3: 6A86, PKA not configured, comes back unraised */
    err = pico_schsm_pka_status(card, st->pka_st);
    if (err == PICO_E_UNSUPPORTED) {
        st->pka = 0;
        return PICO_OK;
    }
    if (err != PICO_OK)
        return err;
    st->pka = 1;
    /* 2.1: a PKA-only device answers tries left as one with a PIN; its PIN's EF tells */
    if (st->user_state == PICO_PIN_TRIES &&
        pico_schsm_user_pin_ef(card, &st->info, &set) == PICO_OK && set == 0)
        st->user_none = 1;
    n = st->pka_st[0] < 8 ? st->pka_st[0] : 8;
    for (i = 0; i < n; i++) {
        err = pico_schsm_pka_query(card, (uint8_t)i, st->slot[i].chr, sizeof(st->slot[i].chr),
                                   &st->slot[i].authenticated);
        if (err == PICO_E_NOT_FOUND) /* an empty slot, unraised */
            continue;
        if (err != PICO_OK)
            return err;
        st->slot[i].registered = 1;
    }
    return PICO_OK;
}

static pico_err status_fn(void *arg, pico_card *card)
{
    return tool_status_read(card, arg);
}

pico_err tool_status_get(tool_ctx *ctx, tool_status *st)
{
    pico_err err;

    memset(st, 0, sizeof(*st));
    if ((err = pico_device_select_info(ctx->dev, &st->info)) != PICO_OK)
        return err;
    return pico_device_run(ctx->dev, status_fn, st);
}

const char *tool_pin_state_text(pico_pin_state state, int tries, char *buf, size_t cap)
{
    switch (state) {
    case PICO_PIN_VERIFIED:
        return "verified in this session";
    case PICO_PIN_TRIES:
        snprintf(buf, cap, "%d %s left", tries, tries == 1 ? "try" : "tries");
        return buf;
    case PICO_PIN_BLOCKED:
        return "blocked";
    case PICO_PIN_NOT_SET:
        return "not set (device not initialized)";
    case PICO_PIN_TRANSPORT:
        return "transport PIN: change it before use";
    }
    return "unknown";
}

static const char *pin_state_name(pico_pin_state state)
{
    switch (state) {
    case PICO_PIN_VERIFIED:
        return "verified";
    case PICO_PIN_TRIES:
        return "set";
    case PICO_PIN_BLOCKED:
        return "blocked";
    case PICO_PIN_NOT_SET:
        return "not-set";
    case PICO_PIN_TRANSPORT:
        return "transport";
    }
    return "unknown";
}

static void print_pin_json(FILE *f, const char *name, pico_pin_state state, int tries)
{
    fprintf(f, "\"%s\":{\"state\":\"%s\",\"tries\":", name, pin_state_name(state));
    if (tries >= 0)
        fprintf(f, "%d}", tries);
    else
        fputs("null}", f);
}

void tool_status_print_pins(FILE *f, const tool_status *st, int json)
{
    char b[32];

    if (json && st->user_none) {
        fputs("\"user_pin\":{\"state\":\"none\",\"tries\":null},", f);
        print_pin_json(f, "so_pin", st->so_state, st->so_tries);
        return;
    }
    if (json) {
        print_pin_json(f, "user_pin", st->user_state, st->user_tries);
        fputc(',', f);
        print_pin_json(f, "so_pin", st->so_state, st->so_tries);
        return;
    }
    fprintf(f, "User PIN:            %s\n",
            st->user_none ? "none (initialized for PKA only: 'pin unblock' gives it one)"
                          : tool_pin_state_text(st->user_state, st->user_tries, b, sizeof(b)));
    fprintf(f, "SO-PIN:              %s\n",
            tool_pin_state_text(st->so_state, st->so_tries, b, sizeof(b)));
}

void tool_status_print_pka(FILE *f, const tool_status *st, int json)
{
    unsigned i, n = st->pka ? (st->pka_st[0] < 8 ? st->pka_st[0] : 8) : 0;

    if (json) {
        fprintf(f, "\"pka\":{\"configured\":%s", st->pka ? "true" : "false");
        if (st->pka) {
            fprintf(f,
                    ",\"total\":%u,\"missing\":%u,\"required\":%u,\"authenticated\":%u,"
                    "\"slots\":[",
                    st->pka_st[0], st->pka_st[1], st->pka_st[2], st->pka_st[3]);
            for (i = 0; i < n; i++) {
                fprintf(f, "%s{\"slot\":%u,\"chr\":", i ? "," : "", i);
                tool_json_str(f, st->slot[i].registered ? st->slot[i].chr : NULL);
                fprintf(f, ",\"authenticated\":%s}", st->slot[i].authenticated ? "true" : "false");
            }
            fputc(']', f);
        }
        fputc('}', f);
        return;
    }
    if (!st->pka) {
        fprintf(f, "PKA:                 not configured\n");
        return;
    }
    fprintf(f, "PKA:                 configured\n");
    fprintf(f, "PKA keys total:      %u\n", st->pka_st[0]);
    fprintf(f, "PKA keys missing:    %u (still to register)\n", st->pka_st[1]);
    fprintf(f, "PKA keys required:   %u\n", st->pka_st[2]);
    fprintf(f, "PKA authenticated:   %u\n", st->pka_st[3]);
    for (i = 0; i < n; i++) {
        if (st->slot[i].registered)
            fprintf(f, "PKA slot %u:          %s (registered%s)\n", i, st->slot[i].chr,
                    st->slot[i].authenticated ? ", authenticated in this round" : "");
        else
            fprintf(f, "PKA slot %u:          (empty)\n", i);
    }
}

static void print_options(FILE *f, uint16_t options, int json)
{
    size_t i;
    int first = 1;

    for (i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++) {
        if (!(options & option_names[i].bit))
            continue;
        if (json)
            fprintf(f, "%s\"%s\"", first ? "" : ",", option_names[i].name);
        else
            fprintf(f, "%s%s", first ? " (" : ", ", option_names[i].name);
        first = 0;
    }
    if (!json && !first)
        fputc(')', f);
}

int tool_status_show_part(tool_ctx *ctx, void (*print)(FILE *, const tool_status *, int))
{
    tool_status st;
    pico_err err;

    if ((err = tool_open_device(ctx)) != PICO_OK || (err = tool_status_get(ctx, &st)) != PICO_OK)
        return tool_fail(err);
    if (ctx->json)
        fputc('{', stdout);
    print(stdout, &st, ctx->json);
    if (ctx->json)
        fputs("}\n", stdout);
    return TOOL_EXIT_OK;
}

int tool_status_show(tool_ctx *ctx)
{
    tool_status st;
    pico_key **keys = NULL;
    size_t nkeys = 0;
    const char *name;
    int have_keys;
    pico_err err;

    name = pico_device_name(ctx->dev);
    if ((err = tool_status_get(ctx, &st)) != PICO_OK)
        return tool_fail(err);
    /* a blank device has no key list to give: not an error of the status */
    pico_err_mark();
    have_keys = st.user_state != PICO_PIN_NOT_SET || st.pka
                    ? pico_device_keys(ctx->dev, &keys, &nkeys) == PICO_OK
                    : 0;
    pico_err_pop_to_mark();
    if (ctx->json) {
        printf("{\"reader\":");
        tool_json_str(stdout, pico_device_reader(ctx->dev));
        printf(",\"device\":");
        tool_json_str(stdout, name[0] != '\0' ? name : NULL);
        printf(",\"firmware\":\"%u.%u\",\"options\":{\"value\":\"%04X\",\"names\":[", st.info.major,
               st.info.minor, st.info.options);
        print_options(stdout, st.info.options, 1);
        printf("]},\"initialized\":%s,",
               st.user_state == PICO_PIN_NOT_SET && st.so_state == PICO_PIN_NOT_SET ? "false"
                                                                                    : "true");
        tool_status_print_pins(stdout, &st, 1);
        putchar(',');
        tool_status_print_pka(stdout, &st, 1);
        if (have_keys)
            printf(",\"keys\":%zu}\n", nkeys);
        else
            printf(",\"keys\":null}\n");
        return TOOL_EXIT_OK;
    }
    printf("Reader:              %s\n", pico_device_reader(ctx->dev));
    printf("Device:              %s\n", name[0] != '\0' ? name : "(no device certificate)");
    printf("Firmware version:    %u.%u\n", st.info.major, st.info.minor);
    printf("Options:             %04X", st.info.options);
    print_options(stdout, st.info.options, 0);
    putchar('\n');
    tool_status_print_pins(stdout, &st, 0);
    tool_status_print_pka(stdout, &st, 0);
    if (have_keys)
        printf("Keys:                %zu\n", nkeys);
    else
        printf("Keys:                (none: device not initialized)\n");
    return TOOL_EXIT_OK;
}

int tool_cmd_status(tool_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {TOOL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    pico_err err;
    int c;

    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1)
        if (!tool_common_opt(ctx, c, optarg))
            return tool_bad_option("status", argv);
    if (ctx->help)
        return tool_help(usage);
    if (optind < argc)
        return tool_usage_error("status", "unexpected extra argument");
    if ((err = tool_open_device(ctx)) != PICO_OK)
        return tool_fail(err);
    return tool_status_show(ctx);
}
