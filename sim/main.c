/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pico-hsm-sim: a virtual Pico HSM behind pcsc-lite's vpcd reader driver.
 *
 * It connects to vpcd's port as the card. Every vpcd message is a 2-byte
 * big-endian length and a body; a 1-byte body is a control message (0 power
 * off, 1 power on, 2 reset, 4 ATR request), anything longer an APDU. Debian's
 * vpcd writes the length and the body separately, so the card side keeps
 * TCP_NODELAY, re-arms TCP_QUICKACK before every read and answers in one
 * write (field-notes.md); an APDU round trip then costs a fraction of a
 * millisecond instead of ~50 ms.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "card.h"
#include "crypto.h"
#include "latency.h"
#include "state.h"

#define VPCD_CTRL_OFF 0
#define VPCD_CTRL_ON 1
#define VPCD_CTRL_RESET 2
#define VPCD_CTRL_ATR 4

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct opts {
    const char *state;
    const char *host;
    int port;
    int factory_reset;
    const char *init_pin;
    const char *init_so_pin;
    int init_retries;
    const char *dev_name;
    const char *log;
    const char *ready_file;
    int fail_ins;    /* --fail: the first APDU with this INS gets fail_sw unprocessed (-1: none) */
    int fail_always; /* --fail INS:SW:always: every one (a card that is not a Pico: A4:6A82) */
    uint16_t fail_sw;
    sim_latency latency; /* --latency: the real device's computing time, before the answer */
};

static FILE *logf_;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: pico-hsm-sim --state FILE [OPTIONS]\n"
            "A virtual Pico HSM (SmartCard-HSM protocol) that plugs into pcsc-lite's vpcd driver.\n"
            "\n"
            "  --state FILE          persistent device state (created on first start)\n"
            "  --host ADDR           vpcd address (default 127.0.0.1)\n"
            "  --port PORT           vpcd port (default 35963)\n"
            "  --factory-reset       start from a blank device (erases FILE's content)\n"
            "  --init-pin PIN        initialize a blank device with this user PIN ...\n"
            "  --init-so-pin HEX16   ... and this SO-PIN (16 hex digits, as sc-hsm-tool)\n"
            "  --init-retries N      user PIN tries at initialization (default 3)\n"
            "  --device-name NAME    name in the device certificate (default ESPICOHSMTR00001)\n"
            "  --log FILE|-          log every APDU (secrets hidden) to FILE or stderr\n"
            "  --ready-file FILE     create FILE once the reader has powered the card\n"
            "  --fail INS:SW[:always] answer the first APDU with instruction INS (hex) with\n"
            "                        status SW (hex), not carried out (tests of failure paths);\n"
            "                        with :always every one (A4:6A82:always: not a Pico)\n"
            "  --eddsa               model a firmware built with ENABLE_EDDSA: Ed25519 and\n"
            "                        Ed448 keys (without it such a request makes the\n"
            "                        X25519/X448 key, as the firmware does)\n"
            "  --latency sign=MS,decipher=MS,keygen=MS,apdu=MS\n"
            "                        wait this long before answering SIGN, DECIPHER, GENERATE\n"
            "                        and any other APDU (a model of the real device's speed)\n"
            "  --help, --version\n");
}

static void log_line(const char *dir, const uint8_t *p, size_t n, size_t hide_from, size_t hide_len)
{
    if (logf_ == NULL)
        return;
    fputs(dir, logf_);
    fputc(' ', logf_);
    for (size_t i = 0; i < n; i++) {
        if (i >= hide_from && i < hide_from + hide_len)
            fputs("**", logf_);
        else
            fprintf(logf_, "%02X", p[i]);
    }
    fputc('\n', logf_);
    fflush(logf_);
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t max, size_t *len)
{
    size_t n = strlen(hex);

    if (n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

/* INITIALIZE as sc-hsm-tool builds it (options 0001, 3.3), run through the card. */
static int initialize(sim_card *card, sim_state *st, const struct opts *o)
{
    uint8_t apdu[128], so[16];
    size_t so_len, pin_len = strlen(o->init_pin), n = 0;
    sim_bytes resp = {0};
    int ret = -1;

    if (hex_to_bytes(o->init_so_pin, so, sizeof(so), &so_len) != 0 || so_len != 8 || pin_len < 1 ||
        pin_len > 16) {
        fprintf(stderr, "pico-hsm-sim: --init-so-pin needs 16 hex digits, --init-pin 1-16 "
                        "characters\n");
        return -1;
    }
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x0B, 0xE8, 0x2B, 0x06, 0x01,
                                     0x04, 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01, 0x00};
    if (sim_card_process(card, select, sizeof(select), &resp) != 0)
        goto end;
    apdu[n++] = 0x80;
    apdu[n++] = 0x50;
    apdu[n++] = 0x00;
    apdu[n++] = 0x00;
    apdu[n++] = (uint8_t)(4 + 2 + pin_len + 2 + so_len + 3);
    apdu[n++] = 0x80;
    apdu[n++] = 0x02;
    apdu[n++] = 0x00;
    apdu[n++] = 0x01;
    apdu[n++] = 0x81;
    apdu[n++] = (uint8_t)pin_len;
    memcpy(apdu + n, o->init_pin, pin_len);
    n += pin_len;
    apdu[n++] = 0x82;
    apdu[n++] = (uint8_t)so_len;
    memcpy(apdu + n, so, so_len);
    n += so_len;
    apdu[n++] = 0x91;
    apdu[n++] = 0x01;
    apdu[n++] = (uint8_t)o->init_retries;
    if (sim_card_process(card, apdu, n, &resp) != 0 || resp.len != 2 || resp.data[0] != 0x90) {
        fprintf(stderr, "pico-hsm-sim: initialization failed\n");
        goto end;
    }
    sim_card_reset(card);
    ret = sim_state_save(st, o->state);
end:
    memset(apdu, 0, sizeof(apdu));
    memset(so, 0, sizeof(so));
    sim_bytes_free(&resp);
    return ret;
}

static int connect_vpcd(const char *host, int port)
{
    struct addrinfo hints = {0}, *res = NULL;
    char portstr[16];
    int fd, one = 1;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        /* vpcd's ports are in the ephemeral range: a connect while nobody
         * listens can meet itself (TCP simultaneous open). Not a reader. */
        struct sockaddr_storage a, b;
        socklen_t al = sizeof(a), bl = sizeof(b);
        if (getsockname(fd, (struct sockaddr *)&a, &al) == 0 &&
            getpeername(fd, (struct sockaddr *)&b, &bl) == 0 && al == bl &&
            memcmp(&a, &b, al) == 0) {
            close(fd);
            return -1;
        }
    }
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    int one = 1;

    while (n > 0) {
        /* Delayed ACK would hold vpcd's second write for ~40 ms: re-arm QUICKACK. */
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) {
            if (stop)
                return -1;
            continue;
        }
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_msg(int fd, const uint8_t *body, size_t len)
{
    uint8_t buf[2 + 65538];
    size_t n = 2 + len, off = 0;

    if (len > sizeof(buf) - 2)
        return -1;
    buf[0] = (uint8_t)(len >> 8);
    buf[1] = (uint8_t)len;
    memcpy(buf + 2, body, len);
    while (off < n) { /* one write; loop only on a short write */
        ssize_t w = write(fd, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    OPENSSL_cleanse(buf, n); /* an answer may be a plaintext */
    return off == n ? 0 : -1;
}

static void mark_ready(const char *path)
{
    FILE *f;

    if (path == NULL)
        return;
    f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
}

/* A vpcd control message (1-byte body). Returns -1 when the connection is gone. */
static int control(int fd, sim_card *card, const struct opts *o, int *ready, uint8_t msg)
{
    size_t atr_len;
    const uint8_t *atr;
    int ret = 0;

    switch (msg) {
    case VPCD_CTRL_OFF:
        sim_card_reset(card);
        if (logf_)
            fputs("# power off\n", logf_);
        break;
    case VPCD_CTRL_ON:
    case VPCD_CTRL_RESET:
        sim_card_reset(card);
        if (logf_)
            fputs(msg == VPCD_CTRL_ON ? "# power on\n" : "# reset\n", logf_);
        break;
    case VPCD_CTRL_ATR:
        atr = sim_card_atr(&atr_len);
        if (send_msg(fd, atr, atr_len) != 0) {
            ret = -1;
            break;
        }
        if (!*ready) {
            mark_ready(o->ready_file);
            *ready = 1;
        }
        break;
    default:
        break;
    }
    if (logf_)
        fflush(logf_);
    return ret;
}

/* --fail: the APDU answered with the requested status word, unprocessed, once. Returns -1
 * when the connection is gone. */
static int answer_fail(int fd, struct opts *o, uint8_t *body, size_t len)
{
    uint8_t sw[2] = {(uint8_t)(o->fail_sw >> 8), (uint8_t)o->fail_sw};

    if (!o->fail_always)
        o->fail_ins = -1;                               /* once */
    log_line(">", body, len, 5, len > 5 ? len - 5 : 0); /* data unread: hidden */
    OPENSSL_cleanse(body, len);
    log_line("<", sw, 2, 0, 0);
    if (logf_)
        fputs("# failed on request (--fail)\n", logf_);
    return send_msg(fd, sw, 2) != 0 ? -1 : 0;
}

/* The modelled computing time of a command that succeeded (9000 or 61xx), slept. */
static void wait_latency(const sim_latency *lat, uint8_t ins, const sim_bytes *resp)
{
    unsigned us = sim_latency_for(lat, ins);
    const uint8_t *sw = resp->len >= 2 ? resp->data + resp->len - 2 : NULL;
    struct timespec t;

    if (us == 0 || sw == NULL || !((sw[0] == 0x90 && sw[1] == 0x00) || sw[0] == 0x61))
        return;
    t.tv_sec = us / 1000000;
    t.tv_nsec = (long)(us % 1000000) * 1000;
    while (nanosleep(&t, &t) != 0 && errno == EINTR && !stop)
        ;
}

/* One APDU processed and answered. Returns 0 to go on, 1 when the connection is gone, -1
 * on a fatal state error. */
static int answer_apdu(int fd, sim_card *card, sim_state *st, const struct opts *o, uint8_t *body,
                       size_t len, sim_bytes *resp)
{
    size_t secret, hdr_len;
    uint8_t ins = len >= 2 ? body[1] : 0;
    int sent;

    if (sim_card_process(card, body, len, resp) != 0) {
        /* Malformed framing: the firmware stays silent (1.4). Where its data would
         * start is unknown, so nothing past the header is shown (it may be a PIN). */
        log_line(">", body, len, 4, len > 4 ? len - 4 : 0);
        OPENSSL_cleanse(body, len);
        if (logf_) {
            fputs("# malformed APDU, no answer\n", logf_);
            fflush(logf_);
        }
        return 0;
    }
    secret = (size_t)sim_card_last_secret(card);
    hdr_len = len > 5 && body[4] == 0 && len > 7 ? 7 : 5;
    log_line(">", body, len, hdr_len, secret);
    OPENSSL_cleanse(body, len);
    /* The new state is on disk before the host sees the answer. */
    if (st->dirty && sim_state_save(st, o->state) != 0) {
        fprintf(stderr, "pico-hsm-sim: cannot save %s: %s\n", o->state, strerror(errno));
        return -1;
    }
    wait_latency(&o->latency, ins, resp);
    /* a DECIPHER answer is a plaintext or a shared secret: its status word only */
    log_line("<", resp->data, resp->len, 0,
             sim_card_answer_secret(card) && resp->len > 2 ? resp->len - 2 : 0);
    sent = send_msg(fd, resp->data, resp->len);
    sim_bytes_clear(resp);
    return sent != 0 ? 1 : 0;
}

/* Serves one vpcd connection until it closes. Returns -1 on a fatal state error. */
static int serve(int fd, sim_card *card, sim_state *st, struct opts *o, int *ready)
{
    static uint8_t body[65536 + 16];
    sim_bytes resp = {0};
    uint8_t hdr[2];
    int ret = 0, r;

    while (!stop) {
        if (read_full(fd, hdr, 2) != 0)
            break;
        size_t len = (size_t)hdr[0] << 8 | hdr[1];
        if (len == 0 || read_full(fd, body, len) != 0)
            break;
        if (len == 1) {
            if (control(fd, card, o, ready, body[0]) != 0)
                break;
            continue;
        }
        if (o->fail_ins >= 0 && len >= 4 && body[1] == (uint8_t)o->fail_ins) {
            if (answer_fail(fd, o, body, len) != 0)
                break;
            continue;
        }
        if ((r = answer_apdu(fd, card, st, o, body, len, &resp)) != 0) {
            ret = r < 0 ? -1 : 0;
            break;
        }
    }
    sim_bytes_free(&resp);
    return ret;
}

/* The options that take a value or act at once: -1 to go on, else the exit status. */
static int parse_special(int c, struct opts *o)
{
    unsigned ins, sw;
    char when[8] = "";

    switch (c) {
    case 'f':
        if (sscanf(optarg, "%x:%x:%7s", &ins, &sw, when) < 2 || ins > 0xFF || sw > 0xFFFF ||
            (when[0] != '\0' && strcmp(when, "always") != 0)) {
            usage(stderr);
            return 2;
        }
        o->fail_ins = (int)ins;
        o->fail_sw = (uint16_t)sw;
        o->fail_always = when[0] != '\0';
        return -1;
    case 'e':
        sim_set_eddsa(1); /* a build option of the firmware: one for the whole process */
        return -1;
    case 'L':
        if (sim_latency_parse(optarg, &o->latency) != 0) {
            fprintf(stderr, "pico-hsm-sim: --latency takes sign=MS,decipher=MS,keygen=MS,"
                            "apdu=MS (milliseconds, up to 60000)\n");
            return 2;
        }
        return -1;
    case 'h':
        usage(stdout);
        return 0;
    case 'V':
        printf("pico-hsm-sim " PACKAGE_VERSION " (firmware 6.6)\n");
        return 0;
    default:
        usage(stderr);
        return 2;
    }
}

/* One option into o: -1 to go on, else the exit status. */
static int parse_one(int c, struct opts *o)
{
    switch (c) {
    case 's':
        o->state = optarg;
        break;
    case 'H':
        o->host = optarg;
        break;
    case 'p':
        o->port = atoi(optarg);
        break;
    case 'F':
        o->factory_reset = 1;
        break;
    case 'P':
        o->init_pin = optarg;
        break;
    case 'S':
        o->init_so_pin = optarg;
        break;
    case 'r':
        o->init_retries = atoi(optarg);
        break;
    case 'n':
        o->dev_name = optarg;
        break;
    case 'l':
        o->log = optarg;
        break;
    case 'R':
        o->ready_file = optarg;
        break;
    default:
        return parse_special(c, o);
    }
    return -1;
}

/* The command line into o; returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"factory-reset", no_argument, NULL, 'F'},
        {"init-pin", required_argument, NULL, 'P'},
        {"init-so-pin", required_argument, NULL, 'S'},
        {"init-retries", required_argument, NULL, 'r'},
        {"device-name", required_argument, NULL, 'n'},
        {"log", required_argument, NULL, 'l'},
        {"ready-file", required_argument, NULL, 'R'},
        {"fail", required_argument, NULL, 'f'},
        {"latency", required_argument, NULL, 'L'},
        {"eddsa", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
        if ((rc = parse_one(c, o)) >= 0)
            return rc;
    if (o->state == NULL || optind != argc || o->port <= 0 || o->port > 65535 ||
        (o->init_pin == NULL) != (o->init_so_pin == NULL) || o->init_retries < 1 ||
        o->init_retries > 15 ||
        (o->dev_name && (strlen(o->dev_name) == 0 || strlen(o->dev_name) > 32))) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* --init-pin: a blank device (no user PIN: VERIFY status 6A88) is initialized. */
static int init_if_blank(sim_card *card, sim_state *st, const struct opts *o)
{
    static const uint8_t verify_status[] = {0x00, 0x20, 0x00, 0x81};
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x0B, 0xE8, 0x2B, 0x06, 0x01,
                                     0x04, 0x01, 0x81, 0xC3, 0x1F, 0x02, 0x01, 0x00};
    sim_bytes r = {0};
    int blank;

    if (o->init_pin == NULL)
        return 0;
    blank = sim_card_process(card, select, sizeof(select), &r) == 0 &&
            sim_card_process(card, verify_status, sizeof(verify_status), &r) == 0 && r.len == 2 &&
            r.data[0] == 0x6A && r.data[1] == 0x88;
    sim_bytes_free(&r);
    sim_card_reset(card);
    return blank ? initialize(card, st, o) : 0;
}

/* The state from its file (unless --factory-reset), the card over it, initialized if
 * asked, and the state written back. NULL on an error (said on stderr). */
static sim_card *open_card(sim_state *st, const struct opts *o)
{
    sim_card *card;

    if (!o->factory_reset && sim_state_load(st, o->state) < 0) {
        fprintf(stderr, "pico-hsm-sim: %s is not a valid state file (use --factory-reset)\n",
                o->state);
        return NULL;
    }
    if ((card = sim_card_new(st, o->dev_name)) == NULL)
        return NULL;
    if (init_if_blank(card, st, o) != 0) {
        sim_card_free(card);
        return NULL;
    }
    if (sim_state_save(st, o->state) != 0) {
        fprintf(stderr, "pico-hsm-sim: cannot write %s: %s\n", o->state, strerror(errno));
        sim_card_free(card);
        return NULL;
    }
    return card;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .port = 35963, .init_retries = 3, .fail_ins = -1};
    struct sigaction sa = {0};
    sim_state st;
    sim_card *card = NULL;
    int rc = 1, ready = 0;

    if ((rc = parse_opts(argc, argv, &o)) >= 0)
        return rc;
    rc = 1;
    if (o.log != NULL) {
        logf_ = strcmp(o.log, "-") == 0 ? stderr : fopen(o.log, "a");
        if (logf_ == NULL) {
            fprintf(stderr, "pico-hsm-sim: cannot open log %s: %s\n", o.log, strerror(errno));
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    sim_state_init(&st);
    if ((card = open_card(&st, &o)) == NULL)
        goto end;
    while (!stop) {
        int fd = connect_vpcd(o.host, o.port);
        if (fd < 0) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        int r = serve(fd, card, &st, &o, &ready);
        close(fd);
        sim_card_reset(card);
        if (r != 0)
            goto end;
    }
    rc = 0;
end:
    sim_card_free(card);
    sim_state_free(&st);
    if (logf_ != NULL && logf_ != stderr)
        fclose(logf_);
    return rc;
}
