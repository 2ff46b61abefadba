/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-tool key: list, generate, delete, export-public. Keys are what
 * common/device.c makes of the device's CCxx, PrKD (C4xx) and CExx files
 * (protocol 6.1, 6.4); generation goes through pico_device_generate, which
 * writes the PrKD with the label and ID.
 */
#include <ctype.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cvc.h"
#include "tool.h"

static const char usage_list[] =
    "Usage: " TOOL_NAME " key list [--json]\n"
    "\n"
    "Lists the keys on the device: key reference, type, size, curve, whether a\n"
    "certificate is stored with it, label and ID. The device's own key\n"
    "(reference 0) is not listed.\n";

static const char usage_generate[] =
    "Usage: " TOOL_NAME " key generate --type ec:CURVE|rsa:BITS|x25519|x448|ed25519|ed448\n"
    "                             --label LABEL [--id HEX]\n"
    "                             [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...]\n"
    "                             [--pka-pin-source SRC] [--pin-last-try] [--json]\n"
    "                             [--use-counter N] [--allow ALG,...] [--domain N]\n"
    "\n"
    "Generates a key pair on the device and labels it. CURVE: prime256v1 (P-256),\n"
    "secp384r1 (P-384), secp521r1 (P-521), brainpoolP256r1, brainpoolP384r1,\n"
    "brainpoolP512r1, secp256k1, prime192v1, secp192k1. BITS: 1024 to 4096.\n"
    "x25519 and x448 keys are for key agreement (ECDH); ed25519 and ed448 keys\n"
    "sign (PureEdDSA) on firmware built with EdDSA only.\n"
    "The ID defaults to OpenSC's: the SHA-1 of the RSA modulus or of the EC point's x.\n"
    "Logs in first: the PIN from the options or the terminal, and the PKA keys\n"
    "when the device requires public key authentication.\n"
    "Policy, fixed for the key's life: --use-counter N lets the key sign or decrypt\n"
    "N times (1 to 4294967295); --allow the algorithms the key may be used with\n"
    "(any other is refused by the device), among: ecdsa (hash made on the host, what\n"
    "the provider sends), ecdsa-sha1 .. ecdsa-sha512 (the device hashes), eddsa,\n"
    "ecdh, rsa-pkcs1 and rsa-raw (both: the raw RSA signature the provider pads),\n"
    "rsa-pkcs1-sha256, rsa-pss, rsa-pss-sha256, rsa-decrypt (every RSA decryption),\n"
    "wrap (key wrap under the DKEK); --domain N puts the key in key domain N.\n";

static const char usage_info[] =
    "Usage: " TOOL_NAME " key info (--label LABEL | --id HEX) [--json]\n"
    "\n"
    "Shows a key: type, size, label, ID, and the policy it was generated with as\n"
    "the device holds it now: the uses left on its use counter, its allowed\n"
    "algorithms (the names of key generate --allow), its key domain. No login\n"
    "is needed.\n";

static const char usage_delete[] =
    "Usage: " TOOL_NAME " key delete (--label LABEL | --id HEX) --yes\n"
    "                           [--pin PIN | --pin-source SRC] [--pka-key SIGNER ...]\n"
    "\n"
    "Deletes a key and the files that describe it: the key (CCxx), its\n"
    "description (C4xx) and its certificate or request (CExx). Irreversible:\n"
    "refused without --yes.\n";

static const char usage_export[] =
    "Usage: " TOOL_NAME " key export-public (--label LABEL | --id HEX) [--format pem|ssh]\n"
    "                                  [-o FILE]\n"
    "\n"
    "Writes the public key: PEM SubjectPublicKeyInfo (default), or an OpenSSH\n"
    "authorized_keys line (ssh-rsa, ecdsa-sha2-nistp256/384/521, ssh-ed25519,\n"
    "ssh-ed448) commented with\n"
    "the label. No login is needed.\n";

enum {
    OPT_TYPE = OPT_FIRST_LOCAL,
    OPT_LABEL,
    OPT_ID,
    OPT_YES,
    OPT_FORMAT,
    OPT_USE_COUNTER,
    OPT_ALLOW,
    OPT_DOMAIN,
};

static const struct option opts[] = {
    TOOL_COMMON_OPTIONS,
    TOOL_AUTH_OPTIONS,
    {"type", required_argument, NULL, OPT_TYPE},
    {"label", required_argument, NULL, OPT_LABEL},
    {"id", required_argument, NULL, OPT_ID},
    {"yes", no_argument, NULL, OPT_YES},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"use-counter", required_argument, NULL, OPT_USE_COUNTER},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

typedef struct key_args {
    tool_auth auth;
    const char *type, *label, *format, *output;
    const char *use_counter, *allow, *domain; /* key generate's policy, checked by policy_of */
    uint8_t id[PICO_URI_MAX_ID];
    size_t id_len;
    int yes;
} key_args;

/* Parses the options of a key subcommand; returns -1 to go on, else an exit code. */
static int parse(tool_ctx *ctx, const char *cmd, const char *usage, int argc, char **argv,
                 key_args *a)
{
    int c;

    memset(a, 0, sizeof(*a));
    tool_getopt_reset();
    while ((c = getopt_long(argc, argv, "hvo:", opts, NULL)) != -1) {
        if (tool_common_opt(ctx, c, optarg) || tool_auth_opt(&a->auth, c, optarg))
            continue;
        switch (c) {
        case OPT_TYPE:
            a->type = optarg;
            break;
        case OPT_LABEL:
            a->label = optarg;
            break;
        case OPT_ID:
            if (tool_hex_decode(optarg, a->id, sizeof(a->id), &a->id_len) != 0 || a->id_len == 0)
                return tool_usage_error(cmd, "--id takes 1 to %d bytes in hexadecimal",
                                        PICO_URI_MAX_ID);
            break;
        case OPT_YES:
            a->yes = 1;
            break;
        case OPT_FORMAT:
            a->format = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case OPT_USE_COUNTER:
            a->use_counter = optarg;
            break;
        case OPT_ALLOW:
            a->allow = optarg;
            break;
        case OPT_DOMAIN:
            a->domain = optarg;
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
        return tool_usage_error(cmd, "at most %d --pka-key", PICO_URI_MAX_PKA_KEYS);
    return -1;
}

static void id_text(const pico_key *k, char *buf, size_t cap)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < k->id_len && 2 * i + 2 < cap; i++)
        snprintf(buf + 2 * i, cap - 2 * i, "%02x", k->id[i]);
}

static int key_matches(const pico_key *k, const char *label, const uint8_t *id, size_t id_len)
{
    if (label != NULL && (k->label == NULL || strcmp(k->label, label) != 0))
        return 0;
    if (id_len > 0 && (k->id_len != id_len || memcmp(k->id, id, id_len) != 0))
        return 0;
    return 1;
}

pico_err tool_find_key(tool_ctx *ctx, const char *label, const uint8_t *id, size_t id_len,
                       pico_key **key)
{
    pico_key **keys = NULL, *found = NULL;
    size_t n = 0, i, matches = 0;
    pico_err err;

    *key = NULL;
    if ((err = pico_device_keys(ctx->dev, &keys, &n)) != PICO_OK)
        return err;
    for (i = 0; i < n; i++) {
        if (key_matches(keys[i], label, id, id_len)) {
            found = found != NULL ? found : keys[i];
            matches++;
        }
    }
    if (matches == 0)
        return pico_err_raise(PICO_E_NOT_FOUND, "no key with %s%s%s%s on %s",
                              label != NULL ? "label '" : "", label != NULL ? label : "",
                              label != NULL ? "'" : "", id_len > 0 ? " and that id" : "",
                              pico_device_reader(ctx->dev));
    if (matches > 1)
        return pico_err_raise(PICO_E_ARGS, "%zu keys match: choose one with --id", matches);
    *key = found;
    return PICO_OK;
}

/* The public part of every key (its curve, whether a certificate is stored). */
static void read_publics(pico_key **keys, size_t n)
{
    EVP_PKEY *pub;
    size_t i;

    pico_err_mark();
    for (i = 0; i < n; i++)
        (void)pico_device_key_public(keys[i], &pub);
    pico_err_pop_to_mark();
}

/* ---------------------------------------------------------------- key list */

/* The OpenSSL name of a key type: RSA, EC, X25519, X448, ED25519, ED448. */
static const char *type_name(pico_key_type type)
{
    const pico_key_type_info *t = pico_key_type_info_of(type);

    return t != NULL ? t->name : "?";
}

static int key_list(tool_ctx *ctx, int argc, char **argv)
{
    pico_key **keys = NULL;
    size_t n = 0, i;
    key_args a;
    char id[2 * PICO_URI_MAX_ID + 1];
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "key list", usage_list, argc, argv, &a)) >= 0)
        return rc;
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = pico_device_keys(ctx->dev, &keys, &n)) != PICO_OK)
        return tool_fail(err);
    read_publics(keys, n);
    if (ctx->json) {
        printf("{\"reader\":");
        tool_json_str(stdout, pico_device_reader(ctx->dev));
        printf(",\"keys\":[");
    } else if (n == 0) {
        printf("No keys.\n");
    } else {
        printf("%-4s %-7s %5s  %-16s %-5s %-20s %s\n", "REF", "TYPE", "BITS", "CURVE", "CERT",
               "LABEL", "ID");
    }
    for (i = 0; i < n; i++) {
        pico_key *k = keys[i];
        const char *type = type_name(k->type);
        id_text(k, id, sizeof(id));
        if (ctx->json) {
            printf("%s{\"keyref\":%u,\"type\":\"%s\",\"bits\":%d,\"curve\":", i ? "," : "",
                   k->keyref, type, k->bits);
            tool_json_str(stdout, k->type == PICO_KEY_EC && k->curve[0] ? k->curve : NULL);
            printf(",\"label\":");
            tool_json_str(stdout, k->label);
            printf(",\"id\":\"%s\",\"certificate\":%s}", id, k->cert != NULL ? "true" : "false");
        } else {
            printf("%-4u %-7s %5d  %-16s %-5s %-20s %s\n", k->keyref, type, k->bits,
                   k->type == PICO_KEY_EC && k->curve[0] ? k->curve : "-",
                   k->cert != NULL ? "yes" : "no", k->label != NULL ? k->label : "(none)", id);
        }
    }
    if (ctx->json)
        printf("]}\n");
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- key generate */

typedef struct progress {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
} progress;

/* A dot a second on stderr while the device works (RSA takes seconds to minutes). */
static void *progress_main(void *arg)
{
    progress *p = arg;
    struct timespec t;

    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 1;
        if (pthread_cond_timedwait(&p->cond, &p->lock, &t) != 0 && !p->stop) {
            fputc('.', stderr);
            fflush(stderr);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int progress_start(progress *p)
{
    p->stop = 0;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return pthread_create(&p->thread, NULL, progress_main, p) == 0;
}

static void progress_stop(progress *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
}

/* ec:CURVE (OpenSSL or NIST name), rsa:BITS, or a type of fixed size by its name (x25519,
 * x448, ed25519, ed448: keytype.c) into spec; any case, as pkcs11-tool's EC:prime256v1 and
 * RSA:2048. */
static int parse_type(const char *type, pico_keygen *spec)
{
    const pico_key_type_info *t = pico_key_type_by_tool_name(type);
    char upper[16];
    const char *curve;
    size_t i;
    int nid;

    if (t != NULL && t->bits != 0) {
        spec->type = t->type;
        return 0;
    }
    if (strncasecmp(type, "rsa:", 4) == 0) {
        char *end;
        long bits = strtol(type + 4, &end, 10);
        /* 6.2: any even size from 1024 to 4096 bits */
        if (type[4] == '\0' || *end != '\0' || bits < 1024 || bits > 4096 || bits % 2 != 0)
            return -1;
        spec->type = PICO_KEY_RSA;
        spec->bits = (int)bits;
        return 0;
    }
    if (strncasecmp(type, "ec:", 3) != 0)
        return -1;
    curve = type + 3;
    for (i = 0; curve[i] != '\0' && i + 1 < sizeof(upper); i++)
        upper[i] = (char)toupper((unsigned char)curve[i]);
    upper[i] = '\0';
    nid = EC_curve_nist2nid(upper); /* P-256, p-256 */
    if (nid == NID_undef)
        nid = OBJ_sn2nid(curve);
    for (i = 0; pico_cvc_curves[i] != NULL; i++) {
        if ((nid != NID_undef && strcmp(pico_cvc_curves[i], OBJ_nid2sn(nid)) == 0) ||
            strcasecmp(pico_cvc_curves[i], curve) == 0) {
            spec->type = PICO_KEY_EC;
            spec->curve = pico_cvc_curves[i];
            return 0;
        }
    }
    return -1;
}

/* A decimal number from lo to hi; -1 when s is not one. */
static int parse_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *v >= lo && *v <= hi ? 0 : -1;
}

/* --use-counter, --allow, --domain for a key of type: 0, or an exit code after a message. */
static int policy_of(const key_args *a, pico_key_type type, pico_key_policy *p)
{
    unsigned long v;
    pico_err err;

    pico_key_policy_init(p);
    if (a->use_counter != NULL) {
        if (parse_number(a->use_counter, 1, 0xFFFFFFFFUL, &v) != 0)
            return tool_usage_error("key generate", "--use-counter takes 1 to 4294967295");
        p->has_counter = 1;
        p->use_counter = (uint32_t)v;
    }
    if (a->domain != NULL) {
        if (parse_number(a->domain, 0, 255, &v) != 0)
            return tool_usage_error("key generate", "--domain takes 0 to 255");
        p->domain = (int)v;
    }
    if (a->allow != NULL && (err = pico_key_policy_add_algs(p, type, a->allow)) != PICO_OK)
        return tool_fail(err);
    if (a->allow != NULL && p->nalgs == 0)
        return tool_usage_error("key generate", "--allow names no algorithm");
    return 0;
}

static int key_generate(tool_ctx *ctx, int argc, char **argv)
{
    pico_key_policy policy;
    pico_keygen spec;
    pico_key *key = NULL;
    key_args a;
    progress prog;
    char id[2 * PICO_URI_MAX_ID + 1];
    int rc, shown = 0;
    pico_err err;

    if ((rc = parse(ctx, "key generate", usage_generate, argc, argv, &a)) >= 0)
        return rc;
    memset(&spec, 0, sizeof(spec));
    if (a.type == NULL || parse_type(a.type, &spec) != 0)
        return tool_usage_error("key generate",
                                "--type ec:CURVE or rsa:BITS (1024 to 4096), with a curve the "
                                "device supports, or x25519, x448, ed25519, ed448");
    if (a.label == NULL || a.label[0] == '\0' || strlen(a.label) > 100)
        return tool_usage_error("key generate", "--label takes 1 to 100 characters");
    if ((rc = policy_of(&a, spec.type, &policy)) != 0)
        return rc;
    spec.policy = &policy;
    spec.label = a.label;
    spec.id = a.id_len > 0 ? a.id : NULL;
    spec.id_len = a.id_len;
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = pico_device_check_new_key(ctx->dev, &spec)) != PICO_OK)
        return tool_fail(err);
    if ((err = tool_login(ctx, &a.auth)) != PICO_OK)
        return tool_fail(err);
    if (spec.type == PICO_KEY_RSA)
        fprintf(stderr, "Generating an RSA-%d key on the device (this takes a while)", spec.bits);
    else if (spec.type == PICO_KEY_EC)
        fprintf(stderr, "Generating an EC %s key on the device", spec.curve);
    else
        fprintf(stderr, "Generating an %s key on the device", type_name(spec.type));
    fflush(stderr);
    shown = spec.type == PICO_KEY_RSA && progress_start(&prog);
    err = pico_device_generate(ctx->dev, &spec, &key);
    if (shown)
        progress_stop(&prog);
    fprintf(stderr, err == PICO_OK ? " done\n" : " failed\n");
    if (err != PICO_OK)
        return tool_fail(err);
    id_text(key, id, sizeof(id));
    if (ctx->json) {
        printf("{\"keyref\":%u,\"type\":\"%s\",\"bits\":%d,\"curve\":", key->keyref,
               type_name(key->type), key->bits);
        tool_json_str(stdout, key->type == PICO_KEY_EC ? key->curve : NULL);
        printf(",\"label\":");
        tool_json_str(stdout, key->label);
        printf(",\"id\":\"%s\"}\n", id);
    } else {
        if (key->type == PICO_KEY_EC)
            printf("Generated key %u: EC %s, label '%s', id %s\n", key->keyref, key->curve,
                   key->label != NULL ? key->label : "", id);
        else if (key->type == PICO_KEY_RSA)
            printf("Generated key %u: RSA-%d, label '%s', id %s\n", key->keyref, key->bits,
                   key->label != NULL ? key->label : "", id);
        else
            printf("Generated key %u: %s, label '%s', id %s\n", key->keyref, type_name(key->type),
                   key->label != NULL ? key->label : "", id);
    }
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- key info */

/* The allowed algorithms by name (the hex of a byte without one), each once. */
static void print_algs(const pico_key_policy *p, int json)
{
    const char *names[PICO_POLICY_MAX_ALGS], *n;
    size_t i, j, k = 0;
    char hexname[8];

    for (i = 0; i < p->nalgs; i++) {
        n = pico_key_policy_alg_name(p->algs[i]);
        for (j = 0; n != NULL && j < k && strcmp(names[j], n) != 0; j++)
            ;
        if (n != NULL && j < k)
            continue;
        snprintf(hexname, sizeof(hexname), "0x%02x", p->algs[i]);
        if (json) {
            printf("%s", k ? "," : "");
            tool_json_str(stdout, n != NULL ? n : hexname);
        } else {
            printf("%s%s", k ? ", " : "", n != NULL ? n : hexname);
        }
        if (n != NULL)
            names[k] = n;
        k++;
    }
}

static void print_info_json(const pico_key *k, const pico_key_policy *p, const char *id)
{
    printf("{\"keyref\":%u,\"type\":\"%s\",\"bits\":%d,\"curve\":", k->keyref, type_name(k->type),
           k->bits);
    tool_json_str(stdout, k->type == PICO_KEY_EC && k->curve[0] ? k->curve : NULL);
    printf(",\"label\":");
    tool_json_str(stdout, k->label);
    printf(",\"id\":\"%s\",\"use_counter\":", id);
    if (p->has_counter)
        printf("%lu", (unsigned long)p->use_counter);
    else
        printf("null");
    printf(",\"allowed\":");
    if (p->nalgs > 0) {
        printf("[");
        print_algs(p, 1);
        printf("]");
    } else {
        printf("null");
    }
    printf(",\"domain\":");
    if (p->domain >= 0)
        printf("%d}\n", p->domain);
    else
        printf("null}\n");
}

static void print_info_text(const pico_key *k, const pico_key_policy *p, const char *id)
{
    printf("Key %u\n  type:        %s", k->keyref, type_name(k->type));
    if (k->type == PICO_KEY_EC && k->curve[0])
        printf(" %s", k->curve);
    printf("\n  size:        %d bits\n  label:       %s\n  id:          %s\n", k->bits,
           k->label != NULL ? k->label : "(none)", id);
    if (p->has_counter)
        printf("  uses left:   %lu\n", (unsigned long)p->use_counter);
    else
        printf("  uses left:   no use counter\n");
    printf("  allowed:     ");
    if (p->nalgs > 0)
        print_algs(p, 0);
    else
        printf("every algorithm of the key type");
    if (p->domain >= 0)
        printf("\n  key domain:  %d\n", p->domain);
    else
        printf("\n  key domain:  none\n");
}

static int key_info(tool_ctx *ctx, int argc, char **argv)
{
    pico_key_policy policy;
    pico_key *key;
    EVP_PKEY *pub;
    key_args a;
    char id[2 * PICO_URI_MAX_ID + 1];
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "key info", usage_info, argc, argv, &a)) >= 0)
        return rc;
    if (a.label == NULL && a.id_len == 0)
        return tool_usage_error("key info", "name the key with --label or --id");
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_find_key(ctx, a.label, a.id, a.id_len, &key)) != PICO_OK)
        return tool_fail(err);
    pico_err_mark(); /* the curve only: a key without its public part is still shown */
    (void)pico_device_key_public(key, &pub);
    pico_err_pop_to_mark();
    if ((err = pico_device_key_info(ctx->dev, key, &policy)) != PICO_OK)
        return tool_fail(err);
    id_text(key, id, sizeof(id));
    if (ctx->json)
        print_info_json(key, &policy, id);
    else
        print_info_text(key, &policy, id);
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- key delete */

static int key_delete(tool_ctx *ctx, int argc, char **argv)
{
    pico_key *key;
    key_args a;
    char label[128];
    unsigned keyref;
    pico_err err;
    int rc;

    if ((rc = parse(ctx, "key delete", usage_delete, argc, argv, &a)) >= 0)
        return rc;
    if (a.label == NULL && a.id_len == 0)
        return tool_usage_error("key delete", "name the key with --label or --id");
    if (!a.yes)
        return tool_usage_error("key delete", "deleting a key cannot be undone: give --yes");
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_find_key(ctx, a.label, a.id, a.id_len, &key)) != PICO_OK)
        return tool_fail(err);
    keyref = key->keyref;
    snprintf(label, sizeof(label), "%s", key->label != NULL ? key->label : "");
    /* the key leaves the device object's list; the others stay known */
    if ((err = tool_login(ctx, &a.auth)) != PICO_OK ||
        (err = pico_device_delete_key(ctx->dev, key, NULL)) != PICO_OK)
        return tool_fail(err);
    if (ctx->json)
        printf("{\"deleted\":%u}\n", keyref);
    else
        printf("Deleted key %u ('%s') with its description and certificate files.\n", keyref,
               label);
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- key export-public */

typedef struct ssh_buf {
    uint8_t b[2048];
    size_t n;
    int ok;
} ssh_buf;

/* RFC 4251 string: uint32 length, bytes. */
static void ssh_string(ssh_buf *s, const uint8_t *p, size_t n)
{
    if (!s->ok || s->n + 4 + n > sizeof(s->b)) {
        s->ok = 0;
        return;
    }
    s->b[s->n++] = (uint8_t)(n >> 24);
    s->b[s->n++] = (uint8_t)(n >> 16);
    s->b[s->n++] = (uint8_t)(n >> 8);
    s->b[s->n++] = (uint8_t)n;
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

/* RFC 4251 mpint, positive: OpenSSL's MPI format is the same bytes. */
static void ssh_mpint(ssh_buf *s, const BIGNUM *bn)
{
    int n = BN_bn2mpi(bn, NULL);

    if (!s->ok || n <= 0 || s->n + (size_t)n > sizeof(s->b)) {
        s->ok = 0;
        return;
    }
    s->n += (size_t)BN_bn2mpi(bn, s->b + s->n);
}

/* The OpenSSH authorized_keys line of pub (RFC 4253 6.6, RFC 5656 3.1). */
static int ssh_line(EVP_PKEY *pub, const char *comment, FILE *out)
{
    static const struct {
        const char *group, *name;
    } curves[] = {
        {"prime256v1", "nistp256"},
        {"secp384r1", "nistp384"},
        {"secp521r1", "nistp521"},
    };
    BIGNUM *x = NULL, *y = NULL, *n = NULL, *e = NULL;
    char group[64] = "", algo[32], *b64 = NULL;
    uint8_t point[1 + 2 * 66];
    ssh_buf s;
    size_t i, flen;
    int ok = 0;

    s.n = 0;
    s.ok = 1;
    if (EVP_PKEY_is_a(pub, "ED25519") || EVP_PKEY_is_a(pub, "ED448")) {
        /* RFC 8709: string "ssh-ed25519" / "ssh-ed448", string the raw public key */
        size_t rawlen = sizeof(point);
        snprintf(algo, sizeof(algo), "ssh-%s", EVP_PKEY_is_a(pub, "ED25519") ? "ed25519" : "ed448");
        if (!EVP_PKEY_get_raw_public_key(pub, point, &rawlen))
            goto end;
        ssh_string(&s, (const uint8_t *)algo, strlen(algo));
        ssh_string(&s, point, rawlen);
    } else if (EVP_PKEY_is_a(pub, "RSA")) {
        if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) ||
            !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n))
            goto end;
        snprintf(algo, sizeof(algo), "ssh-rsa");
        ssh_string(&s, (const uint8_t *)algo, strlen(algo));
        ssh_mpint(&s, e);
        ssh_mpint(&s, n);
    } else {
        if (!EVP_PKEY_is_a(pub, "EC")) {
            fprintf(stderr, "%s: error: OpenSSH has no key type for %s keys\n", TOOL_NAME,
                    EVP_PKEY_get0_type_name(pub));
            goto end;
        }
        if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                            NULL))
            goto end;
        for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
            if (strcmp(curves[i].group, group) == 0)
                break;
        if (i == sizeof(curves) / sizeof(curves[0])) {
            fprintf(stderr, "%s: error: OpenSSH has no key type for curve %s\n", TOOL_NAME, group);
            goto end;
        }
        flen = ((size_t)EVP_PKEY_get_bits(pub) + 7) / 8;
        if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
            !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_Y, &y) || flen > 66)
            goto end;
        point[0] = 0x04; /* SEC 1 uncompressed, as RFC 5656 asks */
        if (BN_bn2binpad(x, point + 1, (int)flen) < 0 ||
            BN_bn2binpad(y, point + 1 + flen, (int)flen) < 0)
            goto end;
        snprintf(algo, sizeof(algo), "ecdsa-sha2-%s", curves[i].name);
        ssh_string(&s, (const uint8_t *)algo, strlen(algo));
        ssh_string(&s, (const uint8_t *)curves[i].name, strlen(curves[i].name));
        ssh_string(&s, point, 1 + 2 * flen);
    }
    if (!s.ok || (b64 = malloc(4 * ((s.n + 2) / 3) + 1)) == NULL)
        goto end;
    EVP_EncodeBlock((unsigned char *)b64, s.b, (int)s.n);
    fprintf(out, "%s %s%s%s\n", algo, b64, comment != NULL ? " " : "",
            comment != NULL ? comment : "");
    ok = 1;
end:
    free(b64);
    BN_free(x);
    BN_free(y);
    BN_free(n);
    BN_free(e);
    return ok;
}

static int key_export_public(tool_ctx *ctx, int argc, char **argv)
{
    pico_key *key;
    EVP_PKEY *pub;
    key_args a;
    FILE *out = stdout;
    int rc, ssh, ok;
    pico_err err;

    if ((rc = parse(ctx, "key export-public", usage_export, argc, argv, &a)) >= 0)
        return rc;
    if (a.label == NULL && a.id_len == 0)
        return tool_usage_error("key export-public", "name the key with --label or --id");
    if (a.format != NULL && strcmp(a.format, "pem") != 0 && strcmp(a.format, "ssh") != 0)
        return tool_usage_error("key export-public", "--format pem or ssh");
    ssh = a.format != NULL && strcmp(a.format, "ssh") == 0;
    if ((err = tool_open_device(ctx)) != PICO_OK ||
        (err = tool_find_key(ctx, a.label, a.id, a.id_len, &key)) != PICO_OK ||
        (err = pico_device_key_public(key, &pub)) != PICO_OK)
        return tool_fail(err);
    if (a.output != NULL && strcmp(a.output, "-") != 0 && (out = fopen(a.output, "w")) == NULL) {
        return tool_fail_msg(TOOL_EXIT_OTHER, "cannot write %s", a.output);
    }
    ok = ssh ? ssh_line(pub, key->label, out) : PEM_write_PUBKEY(out, pub);
    if (out != stdout && fclose(out) != 0)
        ok = 0;
    if (!ok) {
        return tool_fail_msg(TOOL_EXIT_OTHER, "the public key could not be written");
    }
    return TOOL_EXIT_OK;
}

int tool_cmd_key(tool_ctx *ctx, int argc, char **argv)
{
    static const tool_subcmd cmds[] = {
        {"list", key_list, "list the keys"},
        {"generate", key_generate, "generate a key pair on the device"},
        {"info", key_info, "show a key and its policy (use counter, algorithms, domain)"},
        {"delete", key_delete, "delete a key with its description and certificate"},
        {"export-public", key_export_public, "write a public key (PEM or OpenSSH)"},
        {"wrap", tool_key_wrap, "export a key encrypted under the device's DKEK"},
        {"unwrap", tool_key_unwrap, "import a wrapped key (key wrap, sc-hsm-tool -W)"},
        {"import", tool_key_import, "import a PEM or PKCS#12 key under the DKEK"},
        {NULL, NULL, NULL},
    };

    return tool_dispatch(ctx, "key", cmds, argc, argv);
}
