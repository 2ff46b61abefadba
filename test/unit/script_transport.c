/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "script_transport.h"

typedef struct script_transport {
    pico_transport base;
    const script_step *steps;
    size_t next;
} script_transport;

size_t script_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int v = 0;
        if (*hex == ' ' || *hex == ':')
            continue;
        if (*hex >= '0' && *hex <= '9')
            v = *hex - '0';
        else if (*hex >= 'a' && *hex <= 'f')
            v = *hex - 'a' + 10;
        else if (*hex >= 'A' && *hex <= 'F')
            v = *hex - 'A' + 10;
        else
            fail_msg("bad hex character '%c'", *hex);
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

static void print_hex(const char *what, const uint8_t *p, size_t n)
{
    size_t i;

    fprintf(stderr, "%s:", what);
    for (i = 0; i < n; i++)
        fprintf(stderr, " %02X", p[i]);
    fprintf(stderr, "\n");
}

static pico_err st_transmit(pico_transport *base, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                            size_t *resp_len)
{
    script_transport *t = (script_transport *)base;
    const script_step *s = &t->steps[t->next];
    uint8_t want[8192];
    size_t want_len;

    if (s->cmd == NULL) {
        print_hex("unexpected command", cmd, cmd_len);
        fail_msg("script ended, step %zu", t->next);
    }
    want_len = script_hex(s->cmd, want, sizeof(want));
    if (s->prefix ? cmd_len < want_len || memcmp(want, cmd, want_len) != 0
                  : want_len != cmd_len || memcmp(want, cmd, cmd_len) != 0) {
        print_hex("sent    ", cmd, cmd_len);
        print_hex("expected", want, want_len);
        fail_msg("command of step %zu differs", t->next);
    }
    t->next++;
    if (s->resp == NULL)
        return s->err;
    *resp_len = script_hex(s->resp, resp, *resp_len);
    return PICO_OK;
}

static pico_err st_nop(pico_transport *base)
{
    return PICO_OK;
}

static void st_free(pico_transport *base)
{
    free(base);
}

static const pico_transport_ops script_ops = {st_transmit, st_nop, st_nop, st_nop, st_free};

pico_transport *script_transport_new(const script_step *steps)
{
    script_transport *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    t->base.ops = &script_ops;
    t->base.name = "script";
    t->steps = steps;
    return &t->base;
}

void script_transport_done(pico_transport *base)
{
    script_transport *t = (script_transport *)base;

    if (t->steps[t->next].cmd != NULL)
        fail_msg("step %zu (%s) was never sent", t->next, t->steps[t->next].cmd);
    st_free(base);
}
