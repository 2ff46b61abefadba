/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debug log: always compiled in, off by default. PICO_DEBUG=stderr|FILE (or
 * the provider's pico-debug config key) turns it on. Lines read
 * "AREA VERB detail", e.g. "APDU SIGN key=3 alg=0x70 sw=9000 0.71ms". It
 * never goes to stdout and never carries a secret: callers log names,
 * lengths and status words, not data.
 */
#ifndef PICO_LOG_H
#define PICO_LOG_H

/* Opens the target ("stderr", "-" or a file path, appended). NULL reads PICO_DEBUG. */
void pico_log_init(const char *target);
int pico_log_enabled(void);
void pico_log(const char *area, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Monotonic milliseconds, for timings in log lines. */
double pico_log_now_ms(void);

#endif
