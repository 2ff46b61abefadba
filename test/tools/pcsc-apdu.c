/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pcsc-apdu: sends raw APDUs through PC/SC, for the integration tests.
 *
 *   pcsc-apdu [-t COUNT] READER HEX...
 *
 * READER is a reader name or its 0-based index. Each HEX is one command APDU
 * (spaces allowed); each answer is printed as "DATA SW" (upper-case hex, DATA
 * empty when there is none). With -t COUNT the last APDU is sent COUNT more
 * times and the median round trip is printed as "rtt_us=<microseconds>".
 * GET RESPONSE is never sent automatically: 61xx answers are shown as they are.
 */
#include <winscard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
    size_t n = 0;

    while (*s) {
        unsigned v;
        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        if (n == max || sscanf(s, "%2x", &v) != 1 || s[1] == 0)
            return -1;
        out[n++] = (unsigned char)v;
        s += 2;
    }
    *len = n;
    return 0;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE h;
    DWORD proto, rlen, readers_len = SCARD_AUTOALLOCATE;
    LPSTR readers = NULL;
    const char *reader = NULL;
    unsigned char cmd[65544], resp[65538];
    size_t cmd_len = 0;
    long count = 0;
    int argi = 1;

    if (argc > 3 && strcmp(argv[1], "-t") == 0) {
        count = atol(argv[2]);
        argi = 3;
    }
    if (argc - argi < 2) {
        fprintf(stderr, "usage: pcsc-apdu [-t COUNT] READER HEX...\n");
        return 2;
    }
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS ||
        SCardListReaders(ctx, NULL, (LPSTR)&readers, &readers_len) != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-apdu: no PC/SC service or readers\n");
        return 1;
    }
    {
        char *end;
        long idx = strtol(argv[argi], &end, 10);
        int i = 0;
        for (const char *r = readers; *r; r += strlen(r) + 1, i++)
            if (strcmp(r, argv[argi]) == 0 || (*end == 0 && idx == i))
                reader = r;
    }
    if (reader == NULL) {
        fprintf(stderr, "pcsc-apdu: no reader %s\n", argv[argi]);
        return 1;
    }
    if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h,
                     &proto) != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-apdu: cannot connect to %s\n", reader);
        return 1;
    }
    const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    for (int i = argi + 1; i < argc; i++) {
        if (unhex(argv[i], cmd, sizeof(cmd), &cmd_len) != 0 || cmd_len < 4) {
            fprintf(stderr, "pcsc-apdu: bad APDU %s\n", argv[i]);
            return 2;
        }
        rlen = sizeof(resp);
        LONG rv = SCardTransmit(h, pci, cmd, cmd_len, NULL, resp, &rlen);
        if (rv != SCARD_S_SUCCESS || rlen < 2) {
            printf("ERROR %s\n", pcsc_stringify_error(rv));
            continue;
        }
        for (DWORD k = 0; k + 2 < rlen; k++)
            printf("%02X", resp[k]);
        printf(" %02X%02X\n", resp[rlen - 2], resp[rlen - 1]);
    }
    if (count > 0) {
        double *t = calloc((size_t)count, sizeof(double));
        for (long k = 0; t != NULL && k < count; k++) {
            double t0 = now_us();
            rlen = sizeof(resp);
            if (SCardTransmit(h, pci, cmd, cmd_len, NULL, resp, &rlen) != SCARD_S_SUCCESS)
                return 1;
            t[k] = now_us() - t0;
        }
        qsort(t, (size_t)count, sizeof(double), cmp_double);
        printf("rtt_us=%.0f\n", t[count / 2]);
        free(t);
    }
    SCardDisconnect(h, SCARD_LEAVE_CARD);
    SCardFreeMemory(ctx, readers);
    SCardReleaseContext(ctx);
    return 0;
}
