/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool pka: Public Key Authentication (protocol 5).
 *
 *   status     the PKA part of `status` (2.3, 5.3 query)
 *   export     a registration request for a signer's key (5.2), to a file
 *   register   MANAGE PKA ADD / REPLACE after a PIN or SO-PIN session (5.3)
 *   login      PIN, then one challenge signed by each key until the device's
 *              required count (5.4-5.8); reports every key's result
 *
 * Signers are named as in the provider's pka-key= attribute (file:, pkcs11:,
 * pico:) and opened through common/pka_signer.h before the device is taken:
 * a signer may prompt, or drive a token in another reader.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "pka_signer.h"
#include "tool.h"

#define PKA_PEM_NAME "CV CERTIFICATE REQUEST"

static const char usage_status[] =
    "Usage: " TOOL_NAME " pka status [--json]\n"
    "\n"
    "Shows whether public key authentication is configured, how many keys it\n"
    "has, needs and misses, and the name (CHR) registered in each slot.\n";

static const char usage_export[] =
    "Usage: " TOOL_NAME " pka export --key SIGNER [--chr CHR] -o FILE [--pem]\n"
    "                          [--pka-pin-source SRC]\n"
    "\n"
    "Writes the registration request of the signer's key (a self-referenced CV\n"
    "certificate request, signed by the key) for 'pka register --request'.\n"
    "SIGNER: file:PEM-KEY, pkcs11:URI or pico:URI. CHR defaults to the key's\n"
    "16-character name (PK + 9 hex digits of its SHA-256 + 00001), the name\n"
    "'pka login' looks it up by. --pka-pin-source: the signer's own PIN or\n"
    "passphrase.\n";

static const char usage_register[] =
    "Usage: " TOOL_NAME " pka register (--key SIGNER | --request FILE) [--replace SLOT]\n"
    "                            [--chr CHR] [--pin PIN | --pin-source SRC]\n"
    "                            [--so-pin HEX | --so-pin-source SRC] [--pin-last-try]\n"
    "\n"
    "Registers a PKA key on the device (or with --replace, replaces the key in\n"
    "SLOT; needs the device option pka-replaceable). The device takes it after a\n"
    "PIN session: the user PIN (from the options or the terminal), or the SO-PIN\n"
    "with --so-pin/--so-pin-source (the only way on a device without user PIN).\n";

static const char usage_login[] =
    "Usage: " TOOL_NAME " pka login --key SIGNER [--key SIGNER ...]\n"
    "                         [--pin PIN | --pin-source SRC]\n"
    "                         [--so-pin HEX | --so-pin-source SRC | --no-pin]\n"
    "                         [--pka-pin-source SRC] [--pin-last-try]\n"
    "\n"
    "Logs in with public key authentication: the PIN first (it unlocks the key\n"
    "material; --no-pin skips it), then one challenge signed by each key until\n"
    "the device's required count. Exit 0 when authenticated, 3 otherwise, naming\n"
    "what is missing. The login lasts until another application selects the\n"
    "device: this checks the factors more than it opens a session for others.\n";

enum {
    OPT_KEY = OPT_FIRST_LOCAL,
    OPT_CHR,
    OPT_PEM,
    OPT_REQUEST,
    OPT_REPLACE,
    OPT_NO_PIN,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    TOOL_SO_PIN_OPTIONS,
    {"key", required_argument, NULL, OPT_PKA_KEY},
    {"chr", required_argument, NULL, OPT_CHR},
    {"pem", no_argument, NULL, OPT_PEM},
    {"request", required_argument, NULL, OPT_REQUEST},
    {"replace", required_argument, NULL, OPT_REPLACE},
    {"no-pin", no_argument, NULL, OPT_NO_PIN},
    {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

typedef struct pka_args {
    tool_auth auth;
    const char *chr, *request, *output;
    int pem, replace, no_pin;
} pka_args;

/* Parses the options of a pka subcommand; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, const char *cmd, const char *usage, int argc, char **argv,
                 pka_args *a)
{
    char *end;
    int c;

    memset(a, 0, sizeof(*a));
    a->replace = -1;
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hvo:", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        switch (c) {
        case OPT_CHR:
            a->chr = optarg;
            break;
        case OPT_PEM:
            a->pem = 1;
            break;
        case OPT_REQUEST:
            a->request = optarg;
            break;
        case OPT_REPLACE:
            a->replace = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || a->replace < 0 || a->replace > 7)
                return tool_usage_error(cmd, "--replace takes a slot number, 0 to 7");
            break;
        case OPT_NO_PIN:
            a->no_pin = 1;
            break;
        case 'o':
            a->output = optarg;
            break;
        default:
            return tool_bad_option(cmd, argv);
        }
    }
    if (ctx->help)
        return tool_help(usage);
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected extra argument");
    if (a->auth.pka_too_many)
        return tool_usage_error(cmd, "at most %d --key", PICO_URI_MAX_PKA_KEYS);
    if (a->chr != NULL && (strlen(a->chr) == 0 || strlen(a->chr) > 64))
        return tool_usage_error(cmd, "--chr takes 1 to 64 characters (16 is best, 5.2)");
    return -1;
}

static pico_err sign_cb(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    return pico_pka_signer_sign(arg, msg, len, sig, sig_len);
}

/* The registration request of the signer spec names (5.2); *req malloc'ed. */
static pico_err build_request(const char *spec, const char *chr_opt, const char *pin_source,
                              uint8_t **req, size_t *len, char chr[65])
{
    pico_pka_signer *s = NULL;
    EVP_PKEY *pub;
    char name[17];
    pico_err err;

    if ((err = pico_pka_signer_open(spec, pin_source, &tool_pin_prompt, &s)) != PICO_OK)
        return err;
    pub = pico_pka_signer_public(s);
    if (chr_opt == NULL && (err = pico_pka_chr(pub, name)) != PICO_OK)
        goto end;
    snprintf(chr, 65, "%s", chr_opt != NULL ? chr_opt : name);
    /* pico-hsm 6.6's EXTERNAL AUTHENTICATE fails every RSA key (its verifier loads the
     * modulus without setting the key length: mbedtls_rsa_complete refuses, 6985) */
    if (EVP_PKEY_is_a(pub, "RSA"))
        fprintf(stderr,
                "%s: warning: Pico HSM firmware 6.6 refuses RSA keys at PKA login (a firmware "
                "bug); an EC key works\n",
                TOOL_NAME);
    err = pico_cvc_pka_request(pub, chr, sign_cb, s, req, len);
end:
    pico_pka_signer_free(s);
    return err;
}

/* ---------------------------------------------------------------- pka status */

static int pka_status(tool_ctx *ctx, int argc, char **argv)
{
    pka_args a;
    int rc;

    if ((rc = parse(ctx, "pka status", usage_status, argc, argv, &a)) >= 0)
        return rc;
    return tool_status_show_part(ctx, tool_status_print_pka);
}

/* ---------------------------------------------------------------- pka export */

static int pka_export(tool_ctx *ctx, int argc, char **argv)
{
    uint8_t *req = NULL;
    size_t len = 0;
    char chr[65];
    pka_args a;
    BIO *out = NULL;
    int rc, ok;
    pico_err err;

    if ((rc = parse(ctx, "pka export", usage_export, argc, argv, &a)) >= 0)
        return rc;
    if (a.auth.n_pka_keys != 1)
        return tool_usage_error("pka export", "name one signer with --key");
    if (a.output == NULL)
        return tool_usage_error("pka export", "name the output file with -o");
    if (ctx->json && strcmp(a.output, "-") == 0)
        return tool_usage_error("pka export", "--json and -o - both write standard output: "
                                              "give -o FILE");
    if ((err = build_request(a.auth.pka_keys[0], a.chr, a.auth.pka_pin_source, &req, &len, chr)) !=
        PICO_OK)
        return tool_fail(err);
    out = strcmp(a.output, "-") == 0 ? BIO_new_fp(stdout, BIO_NOCLOSE)
                                     : BIO_new_file(a.output, a.pem ? "w" : "wb");
    ok = out != NULL && (a.pem ? PEM_write_bio(out, PKA_PEM_NAME, "", req, (long)len) > 0
                               : BIO_write(out, req, (int)len) == (int)len);
    ok = ok && BIO_flush(out) == 1;
    BIO_free(out);
    free(req);
    if (!ok)
        return tool_fail_msg(TOOL_EXIT_OTHER, "cannot write %s", a.output);
    if (ctx->json) {
        printf("{\"exported\":true,\"key\":");
        tool_json_str(stdout, a.auth.pka_keys[0]);
        printf(",\"chr\":");
        tool_json_str(stdout, chr);
        printf(",\"output\":");
        tool_json_str(stdout, a.output);
        printf(",\"format\":\"%s\",\"bytes\":%zu}\n", a.pem ? "pem" : "der", len);
    } else if (strcmp(a.output, "-") != 0)
        tool_note("Wrote the registration request of %s (CHR %s) to %s.", a.auth.pka_keys[0], chr,
                  a.output);
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- pka register */

/* A request file as pka export writes it: binary, or PEM of any name. */
static pico_err read_request(const char *path, uint8_t **req, size_t *len)
{
    BIO *in = BIO_new_file(path, "rb");
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long n = 0;
    uint8_t buf[4096];
    int got;
    pico_err err = PICO_OK;

    *req = NULL;
    if (in == NULL)
        return pico_err_raise(PICO_E_ARGS, "cannot read %s", path);
    if ((got = BIO_read(in, buf, sizeof(buf))) <= 0) {
        err = pico_err_raise(PICO_E_ARGS, "%s is empty", path);
        goto end;
    }
    if (buf[0] == '-') {
        if (BIO_reset(in) != 0 || !PEM_read_bio(in, &name, &header, &data, &n) || n <= 0) {
            err = pico_err_raise(PICO_E_ARGS, "%s: unreadable PEM", path);
            goto end;
        }
    } else {
        n = got;
        data = OPENSSL_memdup(buf, (size_t)got);
    }
    if (data == NULL || (*req = malloc((size_t)n)) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "request");
        goto end;
    }
    memcpy(*req, data, (size_t)n);
    *len = (size_t)n;
    /* 5.2: 67 { 7F21 ... } or a bare 7F21 */
    if (n < 2 || ((*req)[0] != 0x67 && (*req)[0] != 0x7F)) {
        free(*req);
        *req = NULL;
        err = pico_err_raise(PICO_E_ARGS, "%s is not a CV certificate request", path);
    }
end:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(in);
    return err;
}

typedef struct login_factors {
    const tool_auth *auth;
    uint8_t so[TOOL_SO_PIN_LEN];
    char pin[PICO_PIN_MAX + 2];
    size_t pin_len;
    int use_so, use_pin, last_try_ok;
    int pin_done, pin_skipped;
} login_factors;

/* 5.3, 5.8: the PIN (or SO-PIN) session MANAGE PKA ADD needs and PKA login starts with. */
static pico_err pin_step(pico_card *card, login_factors *f)
{
    int tries;
    pico_err err;

    if (f->use_so) {
        if ((err = tool_so_verify(card, f->so, f->last_try_ok)) == PICO_OK)
            f->pin_done = 1;
        return err;
    }
    if (!f->use_pin)
        return PICO_OK;
    if ((err = tool_pin_guard(card, PICO_PIN_USER, f->last_try_ok)) != PICO_OK ||
        (err = pico_schsm_verify(card, PICO_PIN_USER, (const uint8_t *)f->pin, f->pin_len,
                                 &tries)) != PICO_OK)
        return err;
    f->pin_done = 1;
    return PICO_OK;
}

static pico_err pin_state_fn(void *arg, pico_card *card)
{
    int *tries = arg;
    pico_pin_state state;
    pico_err err;

    if ((err = pico_schsm_pin_status(card, PICO_PIN_USER, &state, tries)) != PICO_OK)
        return err;
    if (state == PICO_PIN_BLOCKED)
        return pico_err_raise(PICO_E_PIN_BLOCKED, "the user PIN is blocked");
    return PICO_OK;
}

/*
 * The factors of the PIN step, from the options or the terminal, before the
 * device is taken. A device initialized for PKA only has no user PIN, and
 * its PIN status cannot tell (2.1: 63C3 all the same), so for a login the
 * PIN is optional: without one (no option, no terminal, or an empty answer)
 * the PKA round goes on and the keys stay locked (4.5).
 */
static pico_err factors_init(tool_ctx *ctx, const pka_args *a, login_factors *f, int optional)
{
    char prompt[384];
    int tries = -1;
    pico_err err;

    memset(f, 0, sizeof(*f));
    f->auth = &a->auth;
    f->last_try_ok = a->auth.pin_last_try;
    if (a->auth.so_pin != NULL || a->auth.so_pin_source != NULL) {
        f->use_so = 1;
        return tool_get_so_pin(a->auth.so_pin, a->auth.so_pin_source, "SO-PIN", 0, f->so);
    }
    if (a->no_pin) {
        f->pin_skipped = 1;
        return PICO_OK;
    }
    if (a->auth.pin != NULL || a->auth.pin_source != NULL) {
        f->use_pin = 1;
        return tool_get_secret("user PIN", a->auth.pin, a->auth.pin_source, 0, f->pin,
                               sizeof(f->pin), &f->pin_len);
    }
    if (tool_interactive()) {
        /* the person at the prompt is told the tries left, the last one included */
        if ((err = pico_device_run(ctx->dev, pin_state_fn, &tries)) != PICO_OK)
            return err;
        snprintf(prompt, sizeof(prompt), "User PIN for %s in reader '%s' (%d %s left%s)%s",
                 pico_device_name(ctx->dev), pico_device_reader(ctx->dev), tries,
                 tries == 1 ? "try" : "tries", tries == 1 ? ", the last" : "",
                 optional ? ", Enter if the device has none" : "");
        int asked = tool_ask_secret(prompt, 0, f->pin, sizeof(f->pin));
        if (asked == TOOL_ASK_OK && f->pin[0] != '\0') {
            f->pin_len = strlen(f->pin);
            f->use_pin = 1;
            f->last_try_ok = 1;
            return PICO_OK;
        }
        if (asked == TOOL_ASK_CANCELLED)
            return pico_err_raise(PICO_E_PIN_REQUIRED, "the user PIN: cancelled at the prompt");
    }
    if (optional) {
        f->pin_skipped = 1;
        return PICO_OK;
    }
    return pico_err_raise(PICO_E_PIN_REQUIRED,
                          "registering a PKA key needs a PIN session: give --pin-source (or "
                          "--so-pin-source on a device without user PIN)");
}

typedef struct register_run {
    login_factors f;
    tool_status st;
} register_run;

/* The PIN session MANAGE PKA add needs (5.3), in the registration's transaction. */
static pico_err register_check(void *arg, pico_card *card)
{
    register_run *r = arg;

    return pin_step(card, &r->f);
}

/* The PKA status and slots after the registration, for the output. */
static pico_err register_report(void *arg, pico_card *card)
{
    register_run *r = arg;

    return tool_status_read(card, &r->st);
}

static int pka_register(tool_ctx *ctx, int argc, char **argv)
{
    uint8_t *req = NULL;
    size_t len = 0;
    const uint8_t *chr_p;
    size_t chr_len;
    char chr[65] = "";
    uint8_t st[4];
    register_run r;
    pico_admin_steps steps = {register_check, register_report, &r};
    pka_args a;
    int rc;
    pico_err err;

    if ((rc = parse(ctx, "pka register", usage_register, argc, argv, &a)) >= 0)
        return rc;
    if ((a.auth.n_pka_keys == 1) == (a.request != NULL) || a.auth.n_pka_keys > 1)
        return tool_usage_error("pka register", "give one --key SIGNER or one --request FILE");
    if (a.chr != NULL && a.request != NULL)
        return tool_usage_error("pka register", "--chr goes with --key (a request has its CHR)");
    memset(&r, 0, sizeof(r));
    if (a.request != NULL && read_request(a.request, &req, &len) != PICO_OK) {
        tool_fail(PICO_E_ARGS);
        return TOOL_EXIT_OTHER; /* a file that is not a request: not a usage error */
    }
    err = req != NULL
              ? PICO_OK
              : build_request(a.auth.pka_keys[0], a.chr, a.auth.pka_pin_source, &req, &len, chr);
    if (err != PICO_OK || (err = tool_open_device(ctx)) != PICO_OK ||
        (err = factors_init(ctx, &a, &r.f, 0)) != PICO_OK)
        goto end;
    if (chr[0] == '\0' && pico_cvc_chr(req, len, &chr_p, &chr_len) == PICO_OK && chr_len < 65) {
        memcpy(chr, chr_p, chr_len);
        chr[chr_len] = '\0';
    }
    err = pico_device_pka_register(ctx->dev, a.replace, req, len, &steps, st);
end:
    OPENSSL_cleanse(r.f.pin, sizeof(r.f.pin));
    OPENSSL_cleanse(r.f.so, sizeof(r.f.so));
    free(req);
    if (err != PICO_OK)
        return tool_fail(err);
    if (ctx->json) {
        printf("{\"registered\":");
        tool_json_str(stdout, chr[0] != '\0' ? chr : NULL);
        putchar(',');
        tool_status_print_pka(stdout, &r.st, 1);
        printf("}\n");
    } else {
        if (a.replace >= 0)
            printf("Replaced the PKA key in slot %d with %s.\n", a.replace, chr);
        else
            printf("Registered the PKA key %s.\n", chr);
        tool_status_print_pka(stdout, &r.st, 0);
    }
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- pka login */

/* by pico_pka_result */
static const char *const result_names[] = {"not-tried",      "authenticated", "authenticated",
                                           "not-registered", "refused",       "signer-failed"};

typedef struct login_run {
    login_factors f;
    const char *name; /* device name: what the keys sign, with the challenge */
    pico_pka_signer **signers;
    size_t n;
    char chr[PICO_URI_MAX_PKA_KEYS][17];
    pico_pka_result result[PICO_URI_MAX_PKA_KEYS];
    unsigned done;
    tool_status st;
    pico_select_info si; /* the device's version: whether it can tell a PIN-less device */
} login_run;

static pico_err login_fn(void *arg, pico_card *card)
{
    login_run *r = arg;
    pico_auth_factors f = {0};
    uint8_t st[4];
    int set;
    pico_err err;

    if ((err = pico_schsm_pka_status(card, st)) == PICO_E_UNSUPPORTED)
        return pico_err_raise(PICO_E_UNSUPPORTED, "public key authentication is not configured "
                                                  "on this device");
    if (err != PICO_OK)
        return err;
    /* 2.1: a PKA-only device answers tries left too; a PIN sent to it spends one */
    if (r->f.use_pin && !r->f.use_so && pico_schsm_user_pin_ef(card, &r->si, &set) == PICO_OK &&
        set == 0)
        return pico_err_raise(PICO_E_PIN_NOT_SET,
                              "the device was initialized for PKA only: leave out the PIN "
                              "(--no-pin), or give it one with 'pin unblock' and the SO-PIN");
    if ((err = pin_step(card, &r->f)) != PICO_OK)
        return err;
    f.device = r->name;
    f.signers = r->signers;
    f.n_signers = r->n;
    f.dev_name = r->name;
    /* the same round as the provider's login; each key's outcome is reported by the caller */
    pico_err_mark();
    err = pico_auth_pka_round(card, &f, st, r->result, &r->done);
    pico_err_pop_to_mark();
    if (err != PICO_OK && err != PICO_E_PKA_FAILED && err != PICO_E_PKA_REQUIRED)
        return err;
    return tool_status_read(card, &r->st);
}

static void print_login(tool_ctx *ctx, const login_run *r, const pka_args *a, int ok)
{
    unsigned i, required = r->st.pka_st[2];

    if (ctx->json) {
        printf("{\"authenticated\":%s,\"pin\":%s,\"required\":%u,\"done\":%u,\"keys\":[",
               ok ? "true" : "false", r->f.pin_done ? "true" : "false", required, r->done);
        for (i = 0; i < r->n; i++) {
            printf("%s{\"key\":", i ? "," : "");
            tool_json_str(stdout, pico_pka_signer_name(r->signers[i]));
            printf(",\"chr\":\"%s\",\"result\":\"%s\"}", r->chr[i], result_names[r->result[i]]);
        }
        printf("]}\n");
        return;
    }
    if (r->f.pin_done)
        printf("%s verified.\n", r->f.use_so ? "SO-PIN" : "User PIN");
    else
        printf("No PIN verified: the keys stay locked until a PIN is (protocol 4.5).\n");
    for (i = 0; i < r->n; i++)
        printf("PKA key %s (%s): %s\n", pico_pka_signer_name(r->signers[i]), r->chr[i],
               result_names[r->result[i]]);
    if (ok) {
        printf("Authenticated: %u of %u required PKA keys.\n", r->done, required);
        return;
    }
    /* what is missing, in the words of a next step */
    fflush(stdout);
    fprintf(stderr, "%s: not authenticated: %u of %u required PKA keys signed", TOOL_NAME, r->done,
            required);
    if (a->auth.n_pka_keys < required)
        fprintf(stderr, "; give %u more --key (registered: ", required - r->done);
    else
        fprintf(stderr, "; missing: %u more registered key (registered: ", required - r->done);
    for (i = 0; i < 8 && i < r->st.pka_st[0]; i++)
        if (r->st.slot[i].registered)
            fprintf(stderr, "%s%s", i ? " " : "", r->st.slot[i].chr);
    fprintf(stderr, ")\n");
}

static int pka_login(tool_ctx *ctx, int argc, char **argv)
{
    pico_pka_signer *signers[PICO_URI_MAX_PKA_KEYS];
    login_run r;
    pka_args a;
    size_t i;
    int rc, ok;
    pico_err err = PICO_OK;

    if ((rc = parse(ctx, "pka login", usage_login, argc, argv, &a)) >= 0)
        return rc;
    if (a.auth.n_pka_keys == 0)
        return tool_usage_error("pka login", "name the PKA keys with --key");
    if (a.no_pin && (a.auth.pin || a.auth.pin_source || a.auth.so_pin || a.auth.so_pin_source))
        return tool_usage_error("pka login", "--no-pin with a PIN option");
    memset(&r, 0, sizeof(r));
    /* 1. the signers, before the device is taken (they may prompt or use other readers) */
    for (i = 0; i < a.auth.n_pka_keys; i++) {
        if ((err = pico_pka_signer_open(a.auth.pka_keys[i], a.auth.pka_pin_source, &tool_pin_prompt,
                                        &signers[r.n])) != PICO_OK)
            goto end;
        r.n++;
        if ((err = pico_pka_chr(pico_pka_signer_public(signers[i]), r.chr[i])) != PICO_OK)
            goto end;
    }
    r.signers = signers;
    /* 2. the device name (2.5), read before the device is taken for the round */
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = factors_init(ctx, &a, &r.f, 1)) != PICO_OK)
        goto end;
    r.name = pico_device_name(ctx->dev);
    if ((err = pico_device_select_info(ctx->dev, &r.si)) != PICO_OK)
        goto end;
    /* 3. PIN, challenge, each key */
    err = pico_device_run_login(ctx->dev, login_fn, &r);
end:
    OPENSSL_cleanse(r.f.pin, sizeof(r.f.pin));
    OPENSSL_cleanse(r.f.so, sizeof(r.f.so));
    if (err != PICO_OK) {
        for (i = 0; i < r.n; i++)
            pico_pka_signer_free(signers[i]);
        return tool_fail(err);
    }
    ok = r.done >= r.st.pka_st[2];
    print_login(ctx, &r, &a, ok);
    for (i = 0; i < r.n; i++)
        pico_pka_signer_free(signers[i]);
    /* print_login said what is missing, in the tool's words */
    return ok ? TOOL_EXIT_OK : tool_exit_code(PICO_E_PKA_REQUIRED);
}

int tool_cmd_pka(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"status", pka_status, "PKA configuration and registered keys"},
        {"export", pka_export, "write a signer's registration request"},
        {"register", pka_register, "register (or replace) a PKA key"},
        {"login", pka_login, "log in with the PIN and PKA keys"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "pka", cmds, argc, argv);
}
