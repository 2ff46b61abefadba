/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A PKCS#11 client for the curves of RFC 7748 and RFC 8032, where OpenSC 0.23's pkcs11-tool
 * stops (no Ed448 or X448 key generation, no Ed448 public key, no X25519/X448 derive, no
 * CK_EDDSA_PARAMS):
 *   p11-ecx MODULE PIN COMMAND [ARGS]      (PIN "-": no login; slot index $P11_SLOT, 0)
 *   mechs                         the mechanism list: "mechs: 0x.. 0x.."
 *   gen MECH PARAMS_HEX LABEL [ID_HEX]  C_GenerateKeyPair, MECH ec|edwards|montgomery,
 *                                 CKA_EC_PARAMS as given (an OID or a curveName): "gen: 0xRV"
 *   sign LABEL IN OUT [HOW]       CKM_EDDSA over file IN, the signature into OUT; HOW: none (no
 *                                 parameter), pure (CK_EDDSA_PARAMS, phFlag false), ph (phFlag
 *                                 true), ctx (a context), parts (C_SignUpdate in 100-byte
 *                                 parts): "sign: 0xRV"
 *   derive LABEL PEER OUT [der]   CKM_ECDH1_DERIVE, CKD_NULL, the peer's raw public key from
 *                                 file PEER (der: in an OCTET STRING), CKA_VALUE into OUT:
 *                                 "derive: 0xRV"
 *   attrs LABEL                   the key's objects: "CLASS: type 0xT params HEX point HEX
 *                                 sign B verify B derive B" (public, then private)
 *   find PARAMS_HEX               how many public keys C_FindObjects matches with this
 *                                 CKA_EC_PARAMS: "find: N"
 * The exit status is 0 when every call returned CKR_OK.
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN 0x1056UL
#endif

/* CK_EDDSA_PARAMS (PKCS#11 3.0 section 2.3.10): a 2.40 header has none. */
typedef struct {
    CK_BBOOL phFlag;
    CK_ULONG ulContextDataLen;
    CK_BYTE_PTR pContextData;
} eddsa_params;

static CK_FUNCTION_LIST *f;
static CK_SESSION_HANDLE session;
static CK_SLOT_ID slot;

static size_t unhex(const char *h, CK_BYTE *out, size_t cap)
{
    size_t n = 0;
    unsigned b;

    while (n < cap && sscanf(h + 2 * n, "%2x", &b) == 1)
        out[n++] = (CK_BYTE)b;
    return n;
}

static void hex(const CK_BYTE *p, CK_ULONG n)
{
    CK_ULONG i;

    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static size_t slurp(const char *path, CK_BYTE *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    size_t n = fp != NULL ? fread(buf, 1, cap, fp) : 0;

    if (fp != NULL)
        fclose(fp);
    return n;
}

static int spill(const char *path, const CK_BYTE *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    int ok = fp != NULL && fwrite(buf, 1, n, fp) == n;

    if (fp != NULL && fclose(fp) != 0)
        ok = 0;
    return ok;
}

static CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;

    if (f->C_FindObjectsInit(session, t, 2) == CKR_OK) {
        f->C_FindObjects(session, &h, 1, &n);
        f->C_FindObjectsFinal(session);
    }
    return n == 1 ? h : CK_INVALID_HANDLE;
}

static CK_RV gen(const char *mech, const char *params_hex, const char *label, const char *id_hex)
{
    CK_BYTE params[64], id[64];
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_EC_PARAMS, params, 0},
                          {CKA_LABEL, (void *)label, strlen(label)},
                          {CKA_TOKEN, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv[] = {
        {CKA_LABEL, (void *)label, strlen(label)}, {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_ID, id, 0}};
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;

    pub[0].ulValueLen = unhex(params_hex, params, sizeof(params));
    if (id_hex != NULL)
        priv[2].ulValueLen = unhex(id_hex, id, sizeof(id));
    if (strcmp(mech, "edwards") == 0)
        m.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
    else if (strcmp(mech, "montgomery") == 0)
        m.mechanism = CKM_EC_MONTGOMERY_KEY_PAIR_GEN;
    return f->C_GenerateKeyPair(session, &m, pub, 3, priv, id_hex != NULL ? 3 : 2, &hpub, &hpriv);
}

static CK_RV sign(const char *label, const char *in, const char *out, const char *how)
{
    static CK_BYTE msg[4096], sig[256];
    CK_BYTE ctx[] = "context";
    eddsa_params p = {CK_FALSE, 0, NULL};
    CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
    CK_ULONG len = slurp(in, msg, sizeof(msg)), sl = sizeof(sig), off;
    CK_RV rv;

    if (strcmp(how, "none") != 0 && strcmp(how, "parts") != 0) {
        m.pParameter = &p;
        m.ulParameterLen = sizeof(p);
    }
    if (strcmp(how, "ph") == 0)
        p.phFlag = CK_TRUE;
    if (strcmp(how, "ctx") == 0) {
        p.pContextData = ctx;
        p.ulContextDataLen = sizeof(ctx) - 1;
    }
    if ((rv = f->C_SignInit(session, &m, find(CKO_PRIVATE_KEY, label))) != CKR_OK)
        return rv;
    if (strcmp(how, "parts") == 0) {
        for (off = 0; rv == CKR_OK && off < len; off += 100)
            rv = f->C_SignUpdate(session, msg + off, len - off < 100 ? len - off : 100);
        if (rv == CKR_OK)
            rv = f->C_SignFinal(session, sig, &sl);
    } else {
        rv = f->C_Sign(session, msg, len, sig, &sl);
    }
    if (rv == CKR_OK && !spill(out, sig, sl))
        rv = CKR_FUNCTION_FAILED;
    return rv;
}

static CK_RV derive(const char *label, const char *peer, const char *out, int der)
{
    CK_BYTE pt[130], value[128];
    CK_ULONG n = slurp(peer, pt + 2, sizeof(pt) - 2);
    CK_ECDH1_DERIVE_PARAMS ecdh = {CKD_NULL, 0, NULL, n, pt + 2};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh)};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
    CK_OBJECT_HANDLE secret;
    CK_RV rv;

    if (der) {
        pt[0] = 0x04;
        pt[1] = (CK_BYTE)n;
        ecdh.pPublicData = pt;
        ecdh.ulPublicDataLen = n + 2;
    }
    rv = f->C_DeriveKey(session, &m, find(CKO_PRIVATE_KEY, label), t, 2, &secret);
    if (rv == CKR_OK)
        rv = f->C_GetAttributeValue(session, secret, &v, 1);
    if (rv == CKR_OK && !spill(out, value, v.ulValueLen))
        rv = CKR_FUNCTION_FAILED;
    return rv;
}

static void attrs_of(const char *name, CK_OBJECT_HANDLE h)
{
    CK_KEY_TYPE kt = 0;
    CK_BYTE params[64], point[160];
    CK_BBOOL s = 0, v = 0, d = 0;
    CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_EC_PARAMS, params, sizeof(params)},
                        {CKA_EC_POINT, point, sizeof(point)},
                        {CKA_SIGN, &s, 1},
                        {CKA_VERIFY, &v, 1},
                        {CKA_DERIVE, &d, 1}};

    if (h == CK_INVALID_HANDLE) {
        printf("%s: none\n", name);
        return;
    }
    f->C_GetAttributeValue(session, h, t, 6); /* some are not the object's class: left out */
    printf("%s: type 0x%lx params ", name, (unsigned long)kt);
    if (t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION)
        hex(params, t[1].ulValueLen);
    printf(" point ");
    if (t[2].ulValueLen != CK_UNAVAILABLE_INFORMATION)
        hex(point, t[2].ulValueLen);
    printf(" sign %d verify %d derive %d\n", t[3].ulValueLen == 1 ? s : -1,
           t[4].ulValueLen == 1 ? v : -1, t[5].ulValueLen == 1 ? d : -1);
}

static int count(const char *params_hex)
{
    CK_BYTE params[64];
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_EC_PARAMS, params, 0}};
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0;

    t[1].ulValueLen = unhex(params_hex, params, sizeof(params));
    if (f->C_FindObjectsInit(session, t, 2) == CKR_OK) {
        f->C_FindObjects(session, h, 16, &n);
        f->C_FindObjectsFinal(session);
    }
    return (int)n;
}

static CK_RV mechs(void)
{
    CK_MECHANISM_TYPE list[64];
    CK_ULONG n = 64, i;
    CK_RV rv = f->C_GetMechanismList(slot, list, &n);

    printf("mechs:");
    for (i = 0; rv == CKR_OK && i < n; i++)
        printf(" 0x%lx", (unsigned long)list[i]);
    printf("\n");
    return rv;
}

static CK_RV command(int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "mechs") == 0)
        return mechs();
    if (strcmp(cmd, "gen") == 0 && (argc == 4 || argc == 5))
        return gen(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (strcmp(cmd, "sign") == 0 && argc >= 4)
        return sign(argv[1], argv[2], argv[3], argc > 4 ? argv[4] : "none");
    if (strcmp(cmd, "derive") == 0 && argc >= 4)
        return derive(argv[1], argv[2], argv[3], argc > 4 && strcmp(argv[4], "der") == 0);
    if (strcmp(cmd, "attrs") == 0 && argc == 2) {
        attrs_of("public", find(CKO_PUBLIC_KEY, argv[1]));
        attrs_of("private", find(CKO_PRIVATE_KEY, argv[1]));
        return CKR_OK;
    }
    if (strcmp(cmd, "find") == 0 && argc == 2) {
        printf("find: %d\n", count(argv[1]));
        return CKR_OK;
    }
    return CKR_ARGUMENTS_BAD;
}

int main(int argc, char **argv)
{
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16, i = getenv("P11_SLOT") != NULL ? strtoul(getenv("P11_SLOT"), NULL, 10) : 0;
    void *lib;
    CK_RV rv;

    if (argc < 4 || (lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
        (get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList")) == NULL ||
        get(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK) {
        fprintf(stderr, "usage: p11-ecx MODULE PIN COMMAND [ARGS] (see the source)\n");
        return 2;
    }
    if ((rv = f->C_GetSlotList(CK_TRUE, slots, &n)) == CKR_OK && i >= n)
        rv = CKR_SLOT_ID_INVALID;
    if (rv == CKR_OK) {
        slot = slots[i];
        rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
    }
    if (rv == CKR_OK && strcmp(argv[2], "-") != 0)
        rv = f->C_Login(session, CKU_USER, (CK_UTF8CHAR *)argv[2], strlen(argv[2]));
    if (rv == CKR_OK)
        rv = command(argc - 3, argv + 3);
    printf("%s: 0x%lx\n", argv[3], (unsigned long)rv);
    f->C_Finalize(NULL);
    return rv == CKR_OK ? 0 : 1;
}
