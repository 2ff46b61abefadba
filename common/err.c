/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>

#include "log.h"

static pico_err_handler err_handler;
static void *err_handler_arg;
static __thread int err_marks; /* pico_err_mark depth of this thread: failures expected */
static pthread_once_t err_lib_once = PTHREAD_ONCE_INIT;
static int err_lib;

static const char *const reasons[PICO_E_MAX] = {
    [PICO_OK] = "ok",
    [PICO_E_INTERNAL] = "internal error",
    [PICO_E_NOMEM] = "out of memory",
    [PICO_E_ARGS] = "invalid argument",
    [PICO_E_NO_READER] = "no pc/sc reader: is pcscd running and a reader attached?",
    [PICO_E_NO_DEVICE] = "device not found in any reader",
    [PICO_E_REMOVED] = "device removed: reconnect it and retry",
    [PICO_E_RESET] = "device was reset: log in again",
    [PICO_E_COMM] = "communication with the device failed",
    [PICO_E_BAD_RESPONSE] = "malformed or truncated answer from the device",
    [PICO_E_PIN_INCORRECT] = "pin incorrect",
    [PICO_E_PIN_BLOCKED] = "pin blocked: unblock it with the so-pin",
    [PICO_E_PIN_LAST_TRY] = "one pin try left: refusing to spend it unless pin-last-try=yes",
    [PICO_E_PIN_NOT_SET] = "no user pin set",
    [PICO_E_PIN_REQUIRED] = "pin required: give pin-source, pin-value or a passphrase callback",
    [PICO_E_NOT_LOGGED_IN] = "not logged in: security status not satisfied",
    [PICO_E_KEY_LOCKED] = "key material locked: the pin has not been verified",
    [PICO_E_NOT_FOUND] = "key or object not found on the device",
    [PICO_E_CONDITIONS] = "conditions of use not satisfied",
    [PICO_E_UNSUPPORTED] = "operation not supported by the device",
    [PICO_E_DEVICE] = "device error",
    [PICO_E_URI] = "malformed pico: uri",
    [PICO_E_SECRET_SOURCE] = "cannot read the pin source",
    [PICO_E_PKA_REQUIRED] = "public key authentication required: give pka-key",
    [PICO_E_PKA_FAILED] = "public key authentication refused by the device",
    [PICO_E_TIMEOUT] = "device did not answer in time",
    [PICO_E_PKCS11_URI] = "malformed pkcs11: uri",
    [PICO_E_FILE] = "cannot read the file",
    [PICO_E_BUSY] = "device busy",
};

const char *pico_err_reason(pico_err code)
{
    if ((unsigned)code < PICO_E_MAX && reasons[code] != NULL)
        return reasons[code];
    return "unknown error";
}

void pico_err_mark(void)
{
    ERR_set_mark();
    err_marks++;
}

void pico_err_pop_to_mark(void)
{
    ERR_pop_to_mark();
    if (err_marks > 0)
        err_marks--;
}

void pico_err_clear_mark(void)
{
    ERR_clear_last_mark();
    if (err_marks > 0)
        err_marks--;
    if (pico_log_enabled())
        pico_log("ERR", "the failure noted above stands");
}

/* pico's library on OpenSSL's queue, with the reason strings of this file */
static void err_lib_load(void)
{
    static ERR_STRING_DATA strings[PICO_E_MAX + 1];
    int i, n = 0;

    err_lib = ERR_get_next_error_library();
    strings[n].error = ERR_PACK(err_lib, 0, 0);
    strings[n++].string = "pico";
    for (i = 1; i < PICO_E_MAX && n < PICO_E_MAX; i++) {
        strings[n].error = ERR_PACK(err_lib, 0, i);
        strings[n++].string = pico_err_reason((pico_err)i);
    }
    ERR_load_strings(err_lib, strings);
}

int pico_err_lib(void)
{
    pthread_once(&err_lib_once, err_lib_load);
    return err_lib;
}

void pico_err_trace(pico_err code, int line, const char *func, const char *fmt, va_list ap)
{
    char detail[256] = "";

    if (!pico_log_enabled())
        return;
    if (fmt != NULL)
        vsnprintf(detail, sizeof(detail), fmt, ap);
    /* a failure the caller expects (an empty reader while looking) is no error in a trace */
    pico_log(err_marks > 0 ? "note" : "ERR", "%s: %s (%s:%d)", pico_err_reason(code), detail, func,
             line);
}

void pico_err_set_handler(pico_err_handler handler, void *arg)
{
    err_handler = handler;
    err_handler_arg = arg;
}

pico_err pico_err_raise_at(pico_err code, const char *file, int line, const char *func,
                           const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pico_err_trace(code, line, func, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    if (err_handler != NULL) {
        err_handler(err_handler_arg, code, file, line, func, fmt, ap);
    } else {
        ERR_new();
        ERR_set_debug(file, line, func);
        ERR_vset_error(pico_err_lib(), (int)code, fmt, ap);
    }
    va_end(ap);
    return code;
}
