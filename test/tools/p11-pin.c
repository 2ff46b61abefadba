/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PIN functions of a PKCS#11 module called one by one, for the tests of
 * what pkcs11-tool cannot ask (a C_SetPIN without a login first, a read-only
 * session beside an SO login):
 *   p11-pin MODULE STEP...
 * Each step runs in the order given, on the last session opened, and prints
 * "STEP-NAME: 0xRV" (state: the session state):
 *   ro, rw            C_OpenSession of slot 0, read-only or read/write (said when it fails)
 *   user:PIN, so:PIN  C_Login
 *   logout            C_Logout
 *   set:OLD:NEW       C_SetPIN
 *   init:NEW          C_InitPIN
 *   state             C_GetSessionInfo's state ("state: N")
 *   sign              CKM_ECDSA_SHA256 with the first private key
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <string.h>

static CK_FUNCTION_LIST *f;
static CK_SESSION_HANDLE session;

static CK_RV set_pin(char *arg)
{
    char *colon = strchr(arg, ':');

    if (colon == NULL)
        return CKR_ARGUMENTS_BAD;
    *colon = '\0';
    return f->C_SetPIN(session, (CK_UTF8CHAR *)arg, strlen(arg), (CK_UTF8CHAR *)colon + 1,
                       strlen(colon + 1));
}

static CK_RV sign(void)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_BYTE sig[256];
    CK_ULONG n = 0, len = sizeof(sig);
    CK_RV rv;

    if ((rv = f->C_FindObjectsInit(session, &t, 1)) != CKR_OK)
        return rv;
    f->C_FindObjects(session, &key, 1, &n);
    f->C_FindObjectsFinal(session);
    if (n != 1)
        return CKR_KEY_HANDLE_INVALID;
    if ((rv = f->C_SignInit(session, &m, key)) == CKR_OK)
        rv = f->C_Sign(session, (CK_BYTE *)"data", 4, sig, &len);
    return rv;
}

static void step(char *s)
{
    char *arg = strchr(s, ':');
    CK_SESSION_INFO info;
    CK_RV rv;

    if (arg != NULL)
        *arg++ = '\0';
    if (strcmp(s, "ro") == 0 || strcmp(s, "rw") == 0) {
        rv = f->C_OpenSession(0, CKF_SERIAL_SESSION | (s[1] == 'w' ? CKF_RW_SESSION : 0), NULL,
                              NULL, &session);
        if (rv == CKR_OK)
            return; /* said only when it fails */
    } else if ((strcmp(s, "user") == 0 || strcmp(s, "so") == 0) && arg != NULL)
        rv = f->C_Login(session, s[0] == 'u' ? CKU_USER : CKU_SO, (CK_UTF8CHAR *)arg, strlen(arg));
    else if (strcmp(s, "logout") == 0)
        rv = f->C_Logout(session);
    else if (strcmp(s, "set") == 0 && arg != NULL)
        rv = set_pin(arg);
    else if (strcmp(s, "init") == 0 && arg != NULL)
        rv = f->C_InitPIN(session, (CK_UTF8CHAR *)arg, strlen(arg));
    else if (strcmp(s, "sign") == 0)
        rv = sign();
    else if (strcmp(s, "state") == 0) {
        if ((rv = f->C_GetSessionInfo(session, &info)) == CKR_OK) {
            printf("state: %lu\n", (unsigned long)info.state);
            return;
        }
    } else
        rv = CKR_ARGUMENTS_BAD;
    printf("%s: 0x%lx\n", s, (unsigned long)rv);
}

int main(int argc, char **argv)
{
    CK_C_GetFunctionList get;
    CK_ULONG n = 0;
    void *lib;
    int i;

    if (argc < 2 || (lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
        (get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL ||
        get(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK ||
        f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK) {
        fprintf(stderr, "usage: p11-pin MODULE STEP...\n");
        return 2;
    }
    for (i = 2; i < argc; i++)
        step(argv[i]);
    fflush(stdout);
    f->C_Finalize(NULL);
    return 0;
}
