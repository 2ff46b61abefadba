/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PKCS#11 3.0 additions this module needs on top of p11-kit's pkcs11.h
 * (Debian 12's p11-kit ships the 2.40 header): the interface discovery of
 * 3.0 section 5.2 and its function list, whose 2.40 part has the 2.40 layout.
 * Written from the OASIS specification, guarded so that a 3.0 header wins.
 */
#ifndef PICO_P11_30_H
#define PICO_P11_30_H

#include <p11-kit/pkcs11.h>

#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL

typedef struct CK_INTERFACE {
    CK_CHAR *pInterfaceName;
    CK_VOID_PTR pFunctionList;
    CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;
#endif

/* The 3.0 key types and mechanisms of the curves of RFC 7748 and RFC 8032 (3.0 sections
 * 2.3.5-2.3.7, 2.3.10); p11-kit's 2.40 header has only some of them. */
#ifndef CKK_EC_EDWARDS
#define CKK_EC_EDWARDS 0x00000040UL
#endif
#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY 0x00000041UL
#endif
#ifndef CKM_EC_EDWARDS_KEY_PAIR_GEN
#define CKM_EC_EDWARDS_KEY_PAIR_GEN 0x00001055UL
#endif
#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN 0x00001056UL
#endif
#ifndef CKM_EDDSA
#define CKM_EDDSA 0x00001057UL
#endif

/* CK_EDDSA_PARAMS (3.0 section 2.3.10), under a name of its own: a 3.0 header has the same. */
typedef struct pico_eddsa_params {
    CK_BBOOL phFlag;
    CK_ULONG ulContextDataLen;
    CK_BYTE_PTR pContextData;
} pico_eddsa_params;

/* The 3.0 list: the 2.40 entries, then these in this order (3.0 section 5.2). */
typedef CK_RV (*pico_p11_fn)(void);
typedef struct pico_function_list_3_0 {
    CK_VERSION version;
    /* the 2.40 part, entry for entry */
#define PICO_P11_ENTRY(name) CK_##name name;
    PICO_P11_ENTRY(C_Initialize)
    PICO_P11_ENTRY(C_Finalize)
    PICO_P11_ENTRY(C_GetInfo)
    PICO_P11_ENTRY(C_GetFunctionList)
    PICO_P11_ENTRY(C_GetSlotList)
    PICO_P11_ENTRY(C_GetSlotInfo)
    PICO_P11_ENTRY(C_GetTokenInfo)
    PICO_P11_ENTRY(C_GetMechanismList)
    PICO_P11_ENTRY(C_GetMechanismInfo)
    PICO_P11_ENTRY(C_InitToken)
    PICO_P11_ENTRY(C_InitPIN)
    PICO_P11_ENTRY(C_SetPIN)
    PICO_P11_ENTRY(C_OpenSession)
    PICO_P11_ENTRY(C_CloseSession)
    PICO_P11_ENTRY(C_CloseAllSessions)
    PICO_P11_ENTRY(C_GetSessionInfo)
    PICO_P11_ENTRY(C_GetOperationState)
    PICO_P11_ENTRY(C_SetOperationState)
    PICO_P11_ENTRY(C_Login)
    PICO_P11_ENTRY(C_Logout)
    PICO_P11_ENTRY(C_CreateObject)
    PICO_P11_ENTRY(C_CopyObject)
    PICO_P11_ENTRY(C_DestroyObject)
    PICO_P11_ENTRY(C_GetObjectSize)
    PICO_P11_ENTRY(C_GetAttributeValue)
    PICO_P11_ENTRY(C_SetAttributeValue)
    PICO_P11_ENTRY(C_FindObjectsInit)
    PICO_P11_ENTRY(C_FindObjects)
    PICO_P11_ENTRY(C_FindObjectsFinal)
    PICO_P11_ENTRY(C_EncryptInit)
    PICO_P11_ENTRY(C_Encrypt)
    PICO_P11_ENTRY(C_EncryptUpdate)
    PICO_P11_ENTRY(C_EncryptFinal)
    PICO_P11_ENTRY(C_DecryptInit)
    PICO_P11_ENTRY(C_Decrypt)
    PICO_P11_ENTRY(C_DecryptUpdate)
    PICO_P11_ENTRY(C_DecryptFinal)
    PICO_P11_ENTRY(C_DigestInit)
    PICO_P11_ENTRY(C_Digest)
    PICO_P11_ENTRY(C_DigestUpdate)
    PICO_P11_ENTRY(C_DigestKey)
    PICO_P11_ENTRY(C_DigestFinal)
    PICO_P11_ENTRY(C_SignInit)
    PICO_P11_ENTRY(C_Sign)
    PICO_P11_ENTRY(C_SignUpdate)
    PICO_P11_ENTRY(C_SignFinal)
    PICO_P11_ENTRY(C_SignRecoverInit)
    PICO_P11_ENTRY(C_SignRecover)
    PICO_P11_ENTRY(C_VerifyInit)
    PICO_P11_ENTRY(C_Verify)
    PICO_P11_ENTRY(C_VerifyUpdate)
    PICO_P11_ENTRY(C_VerifyFinal)
    PICO_P11_ENTRY(C_VerifyRecoverInit)
    PICO_P11_ENTRY(C_VerifyRecover)
    PICO_P11_ENTRY(C_DigestEncryptUpdate)
    PICO_P11_ENTRY(C_DecryptDigestUpdate)
    PICO_P11_ENTRY(C_SignEncryptUpdate)
    PICO_P11_ENTRY(C_DecryptVerifyUpdate)
    PICO_P11_ENTRY(C_GenerateKey)
    PICO_P11_ENTRY(C_GenerateKeyPair)
    PICO_P11_ENTRY(C_WrapKey)
    PICO_P11_ENTRY(C_UnwrapKey)
    PICO_P11_ENTRY(C_DeriveKey)
    PICO_P11_ENTRY(C_SeedRandom)
    PICO_P11_ENTRY(C_GenerateRandom)
    PICO_P11_ENTRY(C_GetFunctionStatus)
    PICO_P11_ENTRY(C_CancelFunction)
    PICO_P11_ENTRY(C_WaitForSlotEvent)
#undef PICO_P11_ENTRY
    /* 3.0: C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel, then the 20
     * message-based functions. This module supports none of the latter; the slots hold
     * functions that answer CKR_FUNCTION_NOT_SUPPORTED, typed by the caller's header. */
    CK_RV (*C_GetInterfaceList)(CK_INTERFACE_PTR, CK_ULONG_PTR);
    CK_RV (*C_GetInterface)(CK_UTF8CHAR_PTR, CK_VERSION_PTR, CK_INTERFACE_PTR_PTR, CK_FLAGS);
    CK_RV(*C_LoginUser)
    (CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR_PTR, CK_ULONG, CK_UTF8CHAR_PTR, CK_ULONG);
    CK_RV (*C_SessionCancel)(CK_SESSION_HANDLE, CK_FLAGS);
    pico_p11_fn message_fns[20];
} pico_function_list_3_0;

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR iface,
                     CK_FLAGS flags);
CK_RV C_LoginUser(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                  CK_ULONG pin_len, CK_UTF8CHAR_PTR username, CK_ULONG username_len);
CK_RV C_SessionCancel(CK_SESSION_HANDLE session, CK_FLAGS flags);

#endif
