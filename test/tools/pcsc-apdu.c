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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

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

/* The reader named NAME, or the one at index NAME, in a PC/SC multi-string; NULL if none. */
static const char *find_reader(const char *readers, const char *name)
{
    const char *reader = NULL;
    char *end;
    long idx = strtol(name, &end, 10);
    int i = 0;

    for (const char *r = readers; *r; r += strlen(r) + 1, i++)
        if (strcmp(r, name) == 0 || (*end == 0 && idx == i))
            reader = r;
    return reader;
}

/* Sends each APDU of apdus[0..n) and prints its answer; the last one stays in cmd. */
static int send_apdus(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, char **apdus, int n,
                      unsigned char *cmd, size_t *cmd_len)
{
    unsigned char resp[65538];
    DWORD rlen;

    for (int i = 0; i < n; i++) {
        if (unhex(apdus[i], cmd, 65544, cmd_len) != 0 || *cmd_len < 4) {
            fprintf(stderr, "pcsc-apdu: bad APDU %s\n", apdus[i]);
            return 2;
        }
        rlen = sizeof(resp);
        LONG rv = SCardTransmit(h, pci, cmd, *cmd_len, NULL, resp, &rlen);
        if (rv != SCARD_S_SUCCESS || rlen < 2) {
            printf("ERROR %s\n", pcsc_stringify_error(rv));
            continue;
        }
        for (DWORD k = 0; k + 2 < rlen; k++)
            printf("%02X", resp[k]);
        printf(" %02X%02X\n", resp[rlen - 2], resp[rlen - 1]);
    }
    return 0;
}

/* Sends cmd COUNT times and prints the median round trip. */
static int time_apdu(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, const unsigned char *cmd,
                     size_t cmd_len, long count)
{
    unsigned char resp[65538];
    DWORD rlen;
    double *t = calloc((size_t)count, sizeof(double));
    int rc = 1;

    if (t == NULL)
        goto end;
    for (long k = 0; k < count; k++) {
        double t0 = now_us();
        rlen = sizeof(resp);
        if (SCardTransmit(h, pci, cmd, cmd_len, NULL, resp, &rlen) != SCARD_S_SUCCESS)
            goto end;
        t[k] = now_us() - t0;
    }
    qsort(t, (size_t)count, sizeof(double), cmp_double);
    printf("rtt_us=%.0f\n", t[count / 2]);
    rc = 0;
end:
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    SCARDCONTEXT ctx = 0;
    SCARDHANDLE h = 0;
    DWORD proto, readers_len = SCARD_AUTOALLOCATE;
    LPSTR readers = NULL;
    const char *reader;
    static unsigned char cmd[65544];
    size_t cmd_len = 0;
    long count = 0;
    int argi = 1, have_ctx = 0, rc = 1;

    if (argc > 3 && strcmp(argv[1], "-t") == 0) {
        count = atol(argv[2]);
        argi = 3;
    }
    if (argc - argi < 2) {
        fprintf(stderr, "usage: pcsc-apdu [-t COUNT] READER HEX...\n");
        return 2;
    }
    have_ctx = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) == SCARD_S_SUCCESS;
    if (!have_ctx ||
        SCardListReaders(ctx, NULL, (LPSTR)&readers, &readers_len) != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-apdu: no PC/SC service or readers\n");
        goto end;
    }
    if ((reader = find_reader(readers, argv[argi])) == NULL) {
        fprintf(stderr, "pcsc-apdu: no reader %s\n", argv[argi]);
        goto end;
    }
    if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h,
                     &proto) != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-apdu: cannot connect to %s\n", reader);
        h = 0;
        goto end;
    }
    const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    rc = send_apdus(h, pci, argv + argi + 1, argc - argi - 1, cmd, &cmd_len);
    if (rc == 0 && count > 0)
        rc = time_apdu(h, pci, cmd, cmd_len, count);
end:
    /* every exit frees the reader list: a wait loop runs this program hundreds of times */
    if (h != 0)
        SCardDisconnect(h, SCARD_LEAVE_CARD);
    if (readers != NULL)
        SCardFreeMemory(ctx, readers);
    if (have_ctx)
        SCardReleaseContext(ctx);
    return rc;
}
