/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <stdio.h>

#include "log.h"

static pico_err_handler err_handler;
static __thread int err_quiet;
static void *err_handler_arg;

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
    [PICO_E_PIN_NOT_SET] = "device not initialized: no pin set",
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
};

const char *pico_err_reason(pico_err code)
{
    if ((unsigned)code < PICO_E_MAX && reasons[code] != NULL)
        return reasons[code];
    return "unknown error";
}

void pico_err_quiet_push(void)
{
    err_quiet++;
}

void pico_err_quiet_pop(void)
{
    if (err_quiet > 0)
        err_quiet--;
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

    if (pico_log_enabled()) {
        char detail[256] = "";
        if (fmt != NULL) {
            va_start(ap, fmt);
            vsnprintf(detail, sizeof(detail), fmt, ap);
            va_end(ap);
        }
        /* a failure the caller expects (an empty reader while looking) is no error in a trace */
        pico_log(err_quiet ? "note" : "ERR", "%s: %s (%s:%d)", pico_err_reason(code), detail, func,
                 line);
    }
    if (err_handler != NULL && err_quiet == 0) {
        va_start(ap, fmt);
        err_handler(err_handler_arg, code, file, line, func, fmt, ap);
        va_end(ap);
    }
    return code;
}
