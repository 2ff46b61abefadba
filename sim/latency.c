/* SPDX-License-Identifier: Apache-2.0 */
#include "latency.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* "12", "0.5", "2.25": milliseconds into microseconds; -1 when not such a number. */
static long parse_ms(const char *s, size_t len)
{
    char buf[16], *end;
    double ms;

    if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789.") < len)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    ms = strtod(buf, &end);
    if (*end != '\0' || ms < 0 || ms > 60000)
        return -1;
    return (long)(ms * 1000 + 0.5);
}

int sim_latency_parse(const char *spec, sim_latency *lat)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"sign", offsetof(sim_latency, sign_us)},
        {"decipher", offsetof(sim_latency, decipher_us)},
        {"keygen", offsetof(sim_latency, keygen_us)},
        {"apdu", offsetof(sim_latency, apdu_us)},
    };
    const char *p = spec;

    memset(lat, 0, sizeof(*lat));
    if (spec == NULL || *spec == '\0')
        return -1;
    while (*p != '\0') {
        size_t item = strcspn(p, ","), name = strcspn(p, "=,"), i;
        long us;

        if (name == item)
            return -1; /* no "=" */
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strlen(keys[i].name) == name && strncmp(p, keys[i].name, name) == 0)
                break;
        if (i == sizeof(keys) / sizeof(keys[0]) ||
            (us = parse_ms(p + name + 1, item - name - 1)) < 0)
            return -1;
        *(unsigned *)((char *)lat + keys[i].off) = (unsigned)us;
        p += item;
        if (*p == ',' && *++p == '\0')
            return -1; /* a trailing comma */
    }
    return 0;
}

unsigned sim_latency_for(const sim_latency *lat, uint8_t ins)
{
    switch (ins) {
    case 0x68:
        return lat->sign_us;
    case 0x62:
        return lat->decipher_us;
    case 0x46:
        return lat->keygen_us;
    default:
        return lat->apdu_us;
    }
}
