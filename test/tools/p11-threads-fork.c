/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A PKCS#11 application for the module's thread and fork tests:
 *   p11-threads-fork MODULE PIN-FILE ID-HEX THREADS ROUNDS os|app-mutex
 * Loads MODULE, initialises it (CKF_OS_LOCKING_OK, or the application's own
 * mutex callbacks, counted), logs in once, then THREADS threads each open a
 * session and sign ROUNDS messages with CKM_ECDSA_SHA256 and the EC key of
 * that CKA_ID; every signature is verified here with OpenSSL against the key's
 * CKA_PUBLIC_KEY_INFO. Then a child of fork() initialises the module again,
 * logs in and signs; then C_Finalize with sessions open and a C_Initialize
 * again. Prints what it verified; exit 0 when every step held.
 */
#include <dlfcn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static CK_FUNCTION_LIST *f;
static CK_SLOT_ID slot;
static CK_BYTE id[64];
static CK_ULONG id_len;
static char pin[64];
static EVP_PKEY *pub;
static int rounds;
static unsigned long app_locks;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static CK_RV mx_create(void **m)
{
    pthread_mutex_t *p = malloc(sizeof(*p));

    if (p == NULL)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(p, NULL);
    *m = p;
    return CKR_OK;
}
static CK_RV mx_destroy(void *m)
{
    pthread_mutex_destroy(m);
    free(m);
    return CKR_OK;
}
static CK_RV mx_lock(void *m)
{
    pthread_mutex_lock(m);
    pthread_mutex_lock(&count_lock);
    app_locks++;
    pthread_mutex_unlock(&count_lock);
    return CKR_OK;
}
static CK_RV mx_unlock(void *m)
{
    pthread_mutex_unlock(m);
    return CKR_OK;
}

static CK_OBJECT_HANDLE find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, id, id_len}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;

    if (f->C_FindObjectsInit(s, t, 2) != CKR_OK)
        return CK_INVALID_HANDLE;
    if (f->C_FindObjects(s, &h, 1, &n) != CKR_OK || n != 1)
        h = CK_INVALID_HANDLE;
    f->C_FindObjectsFinal(s);
    return h;
}

/* r || s as the DER OpenSSL verifies. */
static int verify(const uint8_t *msg, size_t len, const uint8_t *rs, size_t rs_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    uint8_t *der = NULL;
    int der_len, ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (sig != NULL && md != NULL &&
        ECDSA_SIG_set0(sig, BN_bin2bn(rs, (int)rs_len / 2, NULL),
                       BN_bin2bn(rs + rs_len / 2, (int)rs_len / 2, NULL)) == 1 &&
        (der_len = i2d_ECDSA_SIG(sig, &der)) > 0 &&
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok;
}

/* One signature in session s, verified; 1 when it verifies. */
static int sign_one(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int who, int i)
{
    CK_MECHANISM mech = {CKM_ECDSA_SHA256, NULL, 0};
    char msg[64];
    CK_BYTE sig[256];
    CK_ULONG sig_len = sizeof(sig);
    CK_RV rv;

    snprintf(msg, sizeof(msg), "message %d of signer %d", i, who);
    if ((rv = f->C_SignInit(s, &mech, key)) != CKR_OK ||
        (rv = f->C_Sign(s, (CK_BYTE *)msg, strlen(msg), sig, &sig_len)) != CKR_OK) {
        fprintf(stderr, "signer %d: sign failed: 0x%lx\n", who, (unsigned long)rv);
        return 0;
    }
    return verify((const uint8_t *)msg, strlen(msg), sig, sig_len);
}

static void *signer(void *arg)
{
    int who = (int)(intptr_t)arg, i, good = 0;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;

    if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return (void *)(intptr_t)0;
    if ((key = find(s, CKO_PRIVATE_KEY)) != CK_INVALID_HANDLE)
        for (i = 0; i < rounds; i++)
            good += sign_one(s, key, who, i);
    f->C_CloseSession(s);
    return (void *)(intptr_t)good;
}

static int init(int app_mutex)
{
    CK_C_INITIALIZE_ARGS a = {0};
    CK_ULONG n = 1;

    if (app_mutex) {
        a.CreateMutex = mx_create;
        a.DestroyMutex = mx_destroy;
        a.LockMutex = mx_lock;
        a.UnlockMutex = mx_unlock;
    } else {
        a.flags = CKF_OS_LOCKING_OK;
    }
    return f->C_Initialize(&a) == CKR_OK && f->C_GetSlotList(CK_TRUE, &slot, &n) == CKR_OK &&
           n == 1;
}

/* Opens a session, logs in, reads the public key; the session handle out. */
static int login(CK_SESSION_HANDLE *s)
{
    CK_BYTE spki[1024];
    CK_ATTRIBUTE t = {CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)};
    const unsigned char *p = spki;
    CK_OBJECT_HANDLE h;
    CK_RV rv;

    if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, s) != CKR_OK)
        return 0;
    if ((rv = f->C_Login(*s, CKU_USER, (CK_BYTE *)pin, strlen(pin))) != CKR_OK) {
        fprintf(stderr, "C_Login: 0x%lx\n", (unsigned long)rv);
        return 0;
    }
    if ((h = find(*s, CKO_PUBLIC_KEY)) == CK_INVALID_HANDLE ||
        f->C_GetAttributeValue(*s, h, &t, 1) != CKR_OK)
        return 0;
    EVP_PKEY_free(pub);
    pub = d2i_PUBKEY(NULL, &p, (long)t.ulValueLen);
    return pub != NULL;
}

static int child(int app_mutex)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_RV rv;

    /* the child is not initialised: it initialises again (2.40 6.7.7) */
    if ((rv = f->C_GetInfo(&(CK_INFO){0})) != CKR_CRYPTOKI_NOT_INITIALIZED) {
        fprintf(stderr, "child: C_GetInfo before C_Initialize: 0x%lx\n", (unsigned long)rv);
        return 1;
    }
    if (!init(app_mutex) || !login(&s) || (key = find(s, CKO_PRIVATE_KEY)) == CK_INVALID_HANDLE)
        return 1;
    if (!sign_one(s, key, 1000, 0))
        return 1;
    f->C_Finalize(NULL);
    return 0;
}

static int threads(int n)
{
    pthread_t t[64];
    int i, good = 0;
    void *r;

    for (i = 0; i < n; i++)
        pthread_create(&t[i], NULL, signer, (void *)(intptr_t)i);
    for (i = 0; i < n; i++) {
        pthread_join(t[i], &r);
        good += (int)(intptr_t)r;
    }
    return good;
}

static int run(int n, int app_mutex)
{
    CK_SESSION_HANDLE s;
    int good, status;
    pid_t pid;

    if (!init(app_mutex) || !login(&s))
        return 1;
    good = threads(n);
    printf("threads: %d of %d signatures verified\n", good, n * rounds);
    if (app_mutex)
        printf("application mutex: %s\n", app_locks > 0 ? "used" : "unused");
    fflush(stdout);
    if ((pid = fork()) == 0)
        _exit(child(app_mutex));
    waitpid(pid, &status, 0);
    printf("fork: child %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "signed" : "failed");
    printf("parent after fork: %s\n",
           sign_one(s, find(s, CKO_PRIVATE_KEY), 2000, 0) ? "signed" : "failed");
    /* C_Finalize with a session open, then the module initialises again */
    printf("finalize with a session open: %s\n",
           f->C_Finalize(NULL) == CKR_OK && init(app_mutex) && f->C_Finalize(NULL) == CKR_OK
               ? "ok"
               : "failed");
    return 0;
}

int main(int argc, char **argv)
{
    CK_C_GetFunctionList get;
    FILE *pf;
    void *lib;
    size_t i;

    if (argc != 7 || (lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
        (get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL ||
        get(&f) != CKR_OK || (pf = fopen(argv[2], "r")) == NULL) {
        fprintf(stderr,
                "usage: p11-threads-fork MODULE PIN-FILE ID-HEX THREADS ROUNDS os|app-mutex\n");
        return 2;
    }
    if (fgets(pin, sizeof(pin), pf) == NULL)
        return 2;
    fclose(pf);
    pin[strcspn(pin, "\r\n")] = '\0';
    for (i = 0; argv[3][2 * i] != '\0' && argv[3][2 * i + 1] != '\0' && i < sizeof(id); i++)
        sscanf(argv[3] + 2 * i, "%2hhx", &id[i]);
    id_len = i;
    rounds = atoi(argv[5]);
    return run(atoi(argv[4]) > 64 ? 64 : atoi(argv[4]), strcmp(argv[6], "app-mutex") == 0);
}
