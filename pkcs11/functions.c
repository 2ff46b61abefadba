/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The function lists and the 3.0 interfaces (3.0 section 5.2): "PKCS 11"
 * version 3.0 (the default) and version 2.40, the same functions behind
 * both. The functions this module does not offer are here too: each answers
 * CKR_FUNCTION_NOT_SUPPORTED.
 */
#include <string.h>

#include "module.h"

#define NOT_SUPPORTED(name, args)                                                                  \
    CK_RV name args                                                                                \
    {                                                                                              \
        return CKR_FUNCTION_NOT_SUPPORTED;                                                         \
    }

NOT_SUPPORTED(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d))
NOT_SUPPORTED(C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
NOT_SUPPORTED(C_SetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                                    CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e))
NOT_SUPPORTED(C_CreateObject,
              (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d))
NOT_SUPPORTED(C_CopyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,
                             CK_ULONG d, CK_OBJECT_HANDLE_PTR e))
NOT_SUPPORTED(C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
NOT_SUPPORTED(C_GetObjectSize, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c))
NOT_SUPPORTED(C_SetAttributeValue,
              (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d))
NOT_SUPPORTED(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_Encrypt,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_EncryptUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
NOT_SUPPORTED(C_DecryptUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
NOT_SUPPORTED(C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b))
NOT_SUPPORTED(C_Digest,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
NOT_SUPPORTED(C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
NOT_SUPPORTED(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_SignRecover,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_VerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_Verify, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e))
NOT_SUPPORTED(C_VerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_VerifyRecover,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DigestEncryptUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptDigestUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_SignEncryptUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptVerifyUpdate,
              (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_GenerateKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c,
                              CK_ULONG d, CK_OBJECT_HANDLE_PTR e))
NOT_SUPPORTED(C_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
                          CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f))
NOT_SUPPORTED(C_UnwrapKey,
              (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d,
               CK_ULONG e, CK_ATTRIBUTE_PTR f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h))
NOT_SUPPORTED(C_SeedRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_GenerateRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_GetFunctionStatus, (CK_SESSION_HANDLE a))
NOT_SUPPORTED(C_CancelFunction, (CK_SESSION_HANDLE a))
NOT_SUPPORTED(C_LoginUser, (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, CK_ULONG d,
                            CK_UTF8CHAR_PTR e, CK_ULONG f))
NOT_SUPPORTED(C_SessionCancel, (CK_SESSION_HANDLE a, CK_FLAGS b))

/* The message-based functions of 3.0 (encrypt, decrypt, sign, verify messages): none. */
static CK_RV message_not_supported(void)
{
    return CKR_FUNCTION_NOT_SUPPORTED;
}

#define ENTRIES_2_40                                                                               \
    C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList, C_GetSlotInfo,          \
        C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN,  \
        C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,  \
        C_SetOperationState, C_Login, C_Logout, C_CreateObject, C_CopyObject, C_DestroyObject,     \
        C_GetObjectSize, C_GetAttributeValue, C_SetAttributeValue, C_FindObjectsInit,              \
        C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt, C_EncryptUpdate,              \
        C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal, C_DigestInit,   \
        C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate,    \
        C_SignFinal, C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate,     \
        C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate,                \
        C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey,          \
        C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom,    \
        C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent

static CK_FUNCTION_LIST list_2_40 = {{2, 40}, ENTRIES_2_40};

#define M20                                                                                        \
    message_not_supported, message_not_supported, message_not_supported, message_not_supported,    \
        message_not_supported, message_not_supported, message_not_supported,                       \
        message_not_supported, message_not_supported, message_not_supported,                       \
        message_not_supported, message_not_supported, message_not_supported,                       \
        message_not_supported, message_not_supported, message_not_supported,                       \
        message_not_supported, message_not_supported, message_not_supported, message_not_supported

static pico_function_list_3_0 list_3_0 = {
    {3, 0}, ENTRIES_2_40, C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel, {M20}};

static CK_CHAR interface_name[] = "PKCS 11";
static CK_INTERFACE interfaces[] = {
    {interface_name, &list_3_0, 0},
    {interface_name, &list_2_40, 0},
};
#define N_INTERFACES (sizeof(interfaces) / sizeof(interfaces[0]))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    if (list == NULL)
        return CKR_ARGUMENTS_BAD;
    *list = &list_2_40;
    return CKR_OK;
}

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count)
{
    CK_RV rv = CKR_OK;

    if (count == NULL)
        return CKR_ARGUMENTS_BAD;
    if (list != NULL && *count < N_INTERFACES)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (list != NULL)
        memcpy(list, interfaces, sizeof(interfaces));
    *count = N_INTERFACES;
    return rv;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
                     CK_FLAGS flags)
{
    size_t i;

    if (out == NULL)
        return CKR_ARGUMENTS_BAD;
    for (i = 0; i < N_INTERFACES; i++) {
        const CK_VERSION *v = interfaces[i].pFunctionList;

        if (name != NULL && strcmp((const char *)name, (const char *)interface_name) != 0)
            continue;
        if (version != NULL && (v->major != version->major || v->minor != version->minor))
            continue;
        if ((interfaces[i].flags & flags) != flags)
            continue;
        *out = &interfaces[i];
        return CKR_OK;
    }
    return CKR_ARGUMENTS_BAD;
}
