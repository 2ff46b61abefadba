/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's entry: C_Initialize / C_Finalize (locking, fork), C_GetInfo,
 * the function lists (2.40 and 3.0) and their interfaces, the module lock
 * every entry point takes, and the mapping of the device layer's errors onto
 * CK_RV. The functions this module does not offer answer
 * CKR_FUNCTION_NOT_SUPPORTED (unsupported.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "module.h"

p11_module p11;

/* The module lock: a pthread mutex, or the application's when it gave mutex callbacks
 * without CKF_OS_LOCKING_OK (2.40 section 5.4: then the module must use those). */
static pthread_mutex_t os_lock = PTHREAD_MUTEX_INITIALIZER;
static CK_C_INITIALIZE_ARGS app_locks;
static void *app_mutex;

static void lock(void)
{
    if (app_mutex != NULL)
        app_locks.LockMutex(app_mutex);
    else
        pthread_mutex_lock(&os_lock);
}

static void unlock(void)
{
    if (app_mutex != NULL)
        app_locks.UnlockMutex(app_mutex);
    else
        pthread_mutex_unlock(&os_lock);
}

/* The state a child of fork() inherits is its parent's: it initialises again (5.4). */
static int initialized_here(void)
{
    return p11.initialized && p11.pid == getpid();
}

CK_RV p11_enter(void)
{
    lock();
    if (!initialized_here()) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    return CKR_OK;
}

void p11_leave(void)
{
    unlock();
}

CK_RV p11_rv(pico_err err)
{
    switch (err) {
    case PICO_OK:
        return CKR_OK;
    case PICO_E_NOMEM:
        return CKR_HOST_MEMORY;
    case PICO_E_ARGS:
        return CKR_ARGUMENTS_BAD;
    case PICO_E_PIN_INCORRECT:
        return CKR_PIN_INCORRECT;
    case PICO_E_PIN_BLOCKED:
        return CKR_PIN_LOCKED;
    case PICO_E_PIN_LAST_TRY: /* not tried: the configuration keeps the last try */
        return CKR_ACTION_PROHIBITED;
    case PICO_E_PIN_NOT_SET:
        return CKR_USER_PIN_NOT_INITIALIZED;
    case PICO_E_NOT_LOGGED_IN:
    case PICO_E_KEY_LOCKED:
        return CKR_USER_NOT_LOGGED_IN;
    case PICO_E_NO_DEVICE:
    case PICO_E_REMOVED:
        return CKR_DEVICE_REMOVED;
    case PICO_E_NO_READER:
    case PICO_E_COMM:
    case PICO_E_BAD_RESPONSE:
    case PICO_E_DEVICE:
    case PICO_E_TIMEOUT:
    case PICO_E_RESET:
        return CKR_DEVICE_ERROR;
    case PICO_E_UNSUPPORTED:
        return CKR_MECHANISM_INVALID;
    default:
        return CKR_FUNCTION_FAILED;
    }
}

/* Raised errors go to the debug log; during C_Login also to stderr, where the user reads
 * which factor is missing or refused (the messages never hold a secret). */
static void on_error(void *arg, pico_err code, const char *file, int line, const char *func,
                     const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    pico_log("PKCS11", "error %s: %s (%s:%d)", pico_err_reason(code), msg, file, line);
    if (p11.in_login)
        fprintf(stderr, "pico-pkcs11: %s: %s\n", pico_err_reason(code), msg);
}

static CK_RV take_locks(const CK_C_INITIALIZE_ARGS *a)
{
    int given = a->CreateMutex != NULL;

    if (given != (a->DestroyMutex != NULL) || given != (a->LockMutex != NULL) ||
        given != (a->UnlockMutex != NULL))
        return CKR_ARGUMENTS_BAD;
    if (!given || (a->flags & CKF_OS_LOCKING_OK))
        return CKR_OK; /* ours are the OS's */
    app_locks = *a;
    return a->CreateMutex(&app_mutex) == CKR_OK ? CKR_OK : CKR_CANT_LOCK;
}

CK_RV C_Initialize(CK_VOID_PTR init_args)
{
    const CK_C_INITIALIZE_ARGS *a = init_args;
    const char *reserved = a != NULL ? a->pReserved : NULL;
    CK_RV rv;

    if (p11.initialized && p11.pid != getpid()) {
        /* a child of fork(): the parent's lock may have been held by another of its threads */
        pthread_mutex_init(&os_lock, NULL);
        app_mutex = NULL;
        p11.initialized = 0;
        memset(p11.sessions, 0, sizeof(p11.sessions));
        p11_so_release_all(); /* the parent's held SO-PINs: cleansed, not this process's */
        memset(p11.slots, 0, sizeof(p11.slots));
        p11.nslots = 0;
        p11_config_free();
        pico_device_cleanup(); /* the parent's user count came along */
    }
    if (p11.initialized)
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    if (a != NULL && (rv = take_locks(a)) != CKR_OK)
        return rv;
    lock();
    pico_log_init(NULL);
    if ((rv = p11_config_load(reserved)) != CKR_OK)
        goto end;
    pico_err_set_handler(on_error, NULL);
    pico_device_init();
    p11.pid = getpid();
    p11.initialized = 1;
    pico_log("PKCS11", "initialized (pid %ld)", (long)p11.pid);
end:
    unlock();
    return rv;
}

CK_RV C_Finalize(CK_VOID_PTR reserved)
{
    void *m;
    size_t i;

    if (reserved != NULL)
        return CKR_ARGUMENTS_BAD;
    lock();
    if (!initialized_here()) {
        unlock();
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    /* sessions still open are closed, as 5.4 says C_Finalize does */
    for (i = 0; i < P11_MAX_SESSIONS; i++) {
        p11_op_clear(&p11.sessions[i].sign);
        p11_op_clear(&p11.sessions[i].decrypt);
    }
    memset(p11.sessions, 0, sizeof(p11.sessions));
    p11_so_release_all();
    memset(p11.slots, 0, sizeof(p11.slots));
    p11.nslots = 0;
    p11.initialized = 0;
    pico_device_cleanup();
    pico_err_set_handler(NULL, NULL);
    p11_config_free();
    m = app_mutex;
    app_mutex = NULL;
    if (m != NULL) {
        app_locks.UnlockMutex(m);
        app_locks.DestroyMutex(m);
    } else {
        pthread_mutex_unlock(&os_lock);
    }
    return CKR_OK;
}

/* Space-padded, not NUL-terminated: the PKCS#11 way of writing a fixed-size string. */
void p11_pad(CK_UTF8CHAR *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    memset(dst, ' ', cap);
    memcpy(dst, src, n < cap ? n : cap);
}

CK_RV C_GetInfo(CK_INFO_PTR info)
{
    CK_RV rv;

    if ((rv = p11_enter()) != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = 3;
    info->cryptokiVersion.minor = 0;
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "pico-hsm-provider");
    p11_pad(info->libraryDescription, sizeof(info->libraryDescription), "Pico HSM PKCS#11 module");
    info->libraryVersion.major = 0;
    info->libraryVersion.minor = 1;
end:
    p11_leave();
    return rv;
}
