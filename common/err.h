/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors of the common layer. Every failure is a pico_err code, raised once
 * where it happens with pico_err_raise() (reason code plus detail), and
 * returned up the stack.
 *
 * One error queue: every raised error goes onto OpenSSL's per-thread error
 * queue. The provider's handler puts it there with the provider's reason
 * strings (pico_err_set_handler); without a handler (pico-hsm-tool, tests)
 * it goes there under pico_err_lib(), and pico-hsm-tool prints its errors
 * from the queue.
 *
 * One way to silence an expected failure (a reader holding another card, a
 * key that is not there, a probe, a fallback): bracket it with
 * pico_err_mark() and pico_err_pop_to_mark(), which are ERR_set_mark() and
 * ERR_pop_to_mark(): what was raised in between, by this code or by OpenSSL,
 * leaves the queue, so no stale error reaches the application (libssl and
 * others take any leftover error as a failure). When only the outcome tells
 * (a retry that may work), end with pico_err_clear_mark() (ERR_clear_last_mark)
 * to keep the errors of a real failure. Never ERR_clear_error() (it takes the
 * application's errors too), and no other switch that drops errors.
 *
 * In a -v / PICO_DEBUG trace, an error raised inside a mark reads "note"
 * instead of "ERR" (marks nest, per thread); pico_err_clear_mark() adds an
 * "ERR" line, since the failure was real after all.
 */
#ifndef PICO_ERR_H
#define PICO_ERR_H

#include <stdarg.h>

typedef enum pico_err {
    PICO_OK = 0,
    /* these numbers are also the provider's reason codes: append only */
    PICO_E_INTERNAL = 1,
    PICO_E_NOMEM,
    PICO_E_ARGS,
    PICO_E_NO_READER,     /* no PC/SC reader, or pcscd not running */
    PICO_E_NO_DEVICE,     /* no Pico HSM found in any (matching) reader */
    PICO_E_REMOVED,       /* device removed while in use */
    PICO_E_RESET,         /* card reset: login state lost */
    PICO_E_COMM,          /* transport failure */
    PICO_E_BAD_RESPONSE,  /* truncated or malformed device answer */
    PICO_E_PIN_INCORRECT, /* wrong PIN, tries left in the detail */
    PICO_E_PIN_BLOCKED,
    PICO_E_PIN_LAST_TRY,  /* refused to spend the last try without consent */
    PICO_E_PIN_NOT_SET,   /* no user PIN: not initialized, or PKA only */
    PICO_E_PIN_REQUIRED,  /* no PIN available and no way to ask */
    PICO_E_NOT_LOGGED_IN, /* security status not satisfied (6982) */
    PICO_E_KEY_LOCKED,    /* key material locked: MKEK closed, PIN missing (6400) */
    PICO_E_NOT_FOUND,     /* key or file not found (6A82) */
    PICO_E_CONDITIONS,    /* conditions of use not satisfied (6985) */
    PICO_E_UNSUPPORTED,   /* algorithm or parameter not supported by the device */
    PICO_E_DEVICE,        /* any other status word */
    PICO_E_URI,           /* malformed pico: URI */
    PICO_E_SECRET_SOURCE, /* PIN source unreadable */
    PICO_E_PKA_REQUIRED,  /* PKA factor missing */
    PICO_E_PKA_FAILED,    /* PKA signature refused */
    PICO_E_TIMEOUT,
    PICO_E_PKCS11_URI, /* malformed pkcs11: URI (a PKA signer) */
    PICO_E_FILE,       /* a file the user named cannot be read (a PEM signer) */
    PICO_E_BUSY,       /* the device is in use by another thread (a pool's try) */
    PICO_E_MAX
} pico_err;

/* Short lowercase reason string for a code (what to do, where possible). */
const char *pico_err_reason(pico_err code);

/*
 * Raises an error onto OpenSSL's queue (through the handler, if one is set):
 * the code, source position and a printf-style detail (which must never
 * contain a secret). Returns code so that `return pico_err_raise(...)` reads
 * well.
 */
#define pico_err_raise(code, ...)                                                                  \
    pico_err_raise_at((code), __FILE__, __LINE__, __func__, __VA_ARGS__)
pico_err pico_err_raise_at(pico_err code, const char *file, int line, const char *func,
                           const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ERR_set_mark(): failures from here to the matching pop or clear are expected. */
void pico_err_mark(void);
/* ERR_pop_to_mark(): the errors raised since the mark go. */
void pico_err_pop_to_mark(void);
/* ERR_clear_last_mark(): the mark goes, the errors raised since stay (a real failure). */
void pico_err_clear_mark(void);

/* The library code of errors raised without a handler (OpenSSL's queue, pico's strings). */
int pico_err_lib(void);

/* The trace line of a raised error ("note" inside a mark, else "ERR"), when tracing. */
void pico_err_trace(pico_err code, int line, const char *func, const char *fmt, va_list ap);

/*
 * A handler routes raised errors onto OpenSSL's queue its own way (the
 * provider: with its core handle, so that its reason strings apply). NULL
 * restores the default.
 */
typedef void (*pico_err_handler)(void *arg, pico_err code, const char *file, int line,
                                 const char *func, const char *fmt, va_list ap);
void pico_err_set_handler(pico_err_handler handler, void *arg);

#endif
