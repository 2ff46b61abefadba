/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hot plug through a PKCS#11 module, for the module's tests:
 *   p11-slot-events MODULE
 * Initialises MODULE, then reads commands from stdin, one a line, and
 * answers each on stdout:
 *   slots    the slots with a token: "slots: N"
 *   poll     C_WaitForSlotEvent(CKF_DONT_BLOCK): "event: SLOT" or "event: none"
 *   wait     C_WaitForSlotEvent blocking: "event: SLOT"
 *   token    C_GetTokenInfo of slot 0: "token: LABEL" or "token: 0xRV"
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <string.h>

static CK_FUNCTION_LIST *f;

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
    char line[64];
    void *lib;

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
