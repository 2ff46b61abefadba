/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A long-running PKCS#11 application driven line by line, for the module's tests (hot plug,
 * a login lost to another client):
 *   p11-slot-events MODULE
 * Initialises MODULE, then reads commands from stdin, one a line, and
 * answers each on stdout:
 *   slots    the slots with a token: "slots: N"
 *   poll     C_WaitForSlotEvent(CKF_DONT_BLOCK): "event: SLOT" or "event: none"
 *   wait     C_WaitForSlotEvent blocking: "event: SLOT"
 *   token    C_GetTokenInfo of slot 0: "token: LABEL" or "token: 0xRV"
 *   login [PIN]  C_Login in a session of slot 0 (no PIN: the protected path): "login: 0xRV"
 *   sign     CKM_ECDSA_SHA256 with the first private key: "sign: 0xRV"
 *   derive HEX   CKM_ECDH1_DERIVE with it and the peer point HEX: "derive: 0xRV"
 *   interfaces   the 3.0 interfaces: "interfaces: N default MAJOR.MINOR 2.40 MAJOR.MINOR"
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <string.h>

static CK_FUNCTION_LIST *f;
static CK_SESSION_HANDLE session;
static void *lib;

/* PKCS#11 3.0's interface discovery (section 5.2), declared here: a 2.40 header has none. */
typedef struct {
    CK_CHAR *name;
    void *list;
    CK_FLAGS flags;
} iface;
typedef CK_RV (*get_list_fn)(iface *list, CK_ULONG *count);
typedef CK_RV (*get_fn)(CK_UTF8CHAR *name, CK_VERSION *version, iface **out, CK_FLAGS flags);

static void interfaces(void)
{
    get_list_fn get_list = (get_list_fn)dlsym(lib, "C_GetInterfaceList");
    get_fn get = (get_fn)dlsym(lib, "C_GetInterface");
    CK_VERSION v240 = {2, 40};
    iface list[8], *dflt = NULL, *old = NULL;
    CK_ULONG n = 8;

    if (get_list == NULL || get == NULL || get_list(list, &n) != CKR_OK ||
        get((CK_UTF8CHAR *)"PKCS 11", NULL, &dflt, 0) != CKR_OK ||
        get((CK_UTF8CHAR *)"PKCS 11", &v240, &old, 0) != CKR_OK) {
        printf("interfaces: none\n");
        return;
    }
    printf("interfaces: %lu default %u.%u 2.40 %u.%u\n", (unsigned long)n,
           ((CK_VERSION *)dflt->list)->major, ((CK_VERSION *)dflt->list)->minor,
           ((CK_VERSION *)old->list)->major, ((CK_VERSION *)old->list)->minor);
}

static CK_OBJECT_HANDLE first_key(void)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;

    if (f->C_FindObjectsInit(session, &t, 1) == CKR_OK) {
        f->C_FindObjects(session, &h, 1, &n);
        f->C_FindObjectsFinal(session);
    }
    return n == 1 ? h : CK_INVALID_HANDLE;
}

/* The key operations of a logged-in session; the answer's return value in hex. */
static CK_RV key_command(const char *cmd, const char *arg)
{
    CK_BYTE buf[256], point[160];
    CK_ULONG len = sizeof(buf), n = 0;
    CK_MECHANISM sign = {CKM_ECDSA_SHA256, NULL, 0};
    CK_ECDH1_DERIVE_PARAMS ecdh = {CKD_NULL, 0, NULL, 0, point};
    CK_MECHANISM derive = {CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh)};
    CK_OBJECT_HANDLE key = first_key(), secret;
    CK_RV rv;

    if (strcmp(cmd, "sign") == 0) {
        if ((rv = f->C_SignInit(session, &sign, key)) == CKR_OK)
            rv = f->C_Sign(session, (CK_BYTE *)"data", 4, buf, &len);
        return rv;
    }
    while (arg != NULL && n < sizeof(point) && sscanf(arg + 2 * n, "%2hhx", &point[n]) == 1)
        n++;
    ecdh.ulPublicDataLen = n;
    return f->C_DeriveKey(session, &derive, key, NULL, 0, &secret);
}

static void answer(const char *cmd)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_TOKEN_INFO ti;
    CK_RV rv;

    if (strcmp(cmd, "slots") == 0) {
        rv = f->C_GetSlotList(CK_TRUE, slots, &n);
        printf("slots: %lu\n", rv == CKR_OK ? (unsigned long)n : 99UL);
    } else if (strcmp(cmd, "poll") == 0 || strcmp(cmd, "wait") == 0) {
        rv = f->C_WaitForSlotEvent(strcmp(cmd, "poll") == 0 ? CKF_DONT_BLOCK : 0, slots, NULL);
        if (rv == CKR_OK)
            printf("event: %lu\n", (unsigned long)slots[0]);
        else
            printf("event: %s\n", rv == CKR_NO_EVENT ? "none" : "error");
    } else if (strncmp(cmd, "login", 5) == 0) {
        if (session == 0)
            f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &session);
        rv = f->C_Login(session, CKU_USER, cmd[5] == ' ' ? (CK_BYTE *)cmd + 6 : NULL,
                        cmd[5] == ' ' ? strlen(cmd + 6) : 0);
        printf("login: 0x%lx\n", (unsigned long)rv);
    } else if (strcmp(cmd, "sign") == 0 || strncmp(cmd, "derive ", 7) == 0) {
        rv = key_command(cmd[0] == 's' ? "sign" : "derive", cmd[0] == 's' ? NULL : cmd + 7);
        printf("%s: 0x%lx\n", cmd[0] == 's' ? "sign" : "derive", (unsigned long)rv);
    } else if (strcmp(cmd, "interfaces") == 0) {
        interfaces();
    } else if (strcmp(cmd, "token") == 0) {
        if ((rv = f->C_GetTokenInfo(0, &ti)) == CKR_OK)
            printf("token: %.16s\n", (const char *)ti.label);
        else
            printf("token: 0x%lx\n", (unsigned long)rv);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    CK_C_GetFunctionList get;
    char line[512];

    if (argc != 2 || (lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
        (get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL ||
        get(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK) {
        fprintf(stderr, "usage: p11-slot-events MODULE\n");
        return 2;
    }
    while (fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        answer(line);
    }
    f->C_Finalize(NULL);
    return 0;
}
