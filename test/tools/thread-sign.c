/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threads making their first signatures at once with one key, as a threaded
 * server does after loading its key: the key is loaded once, with the PIN from
 * the application's passphrase callback (read from PASSFILE), and THREADS
 * threads released together each sign their own message with SHA-256, while
 * THREADS/2 more ask for its public key (read from the device on first need).
 *
 *   thread-sign store URI PASSFILE THREADS OUTPREFIX
 *   thread-sign pem KEYFILE PASSFILE THREADS OUTPREFIX
 *   thread-sign store-each URI PASSFILE THREADS OUTPREFIX
 *
 * "store" loads with OSSL_STORE_open and a UI method (a pico: URI or a key
 * file), "pem" with PEM_read_bio_PrivateKey and a password callback (a "PICO
 * HSM KEY URI" file, as nginx does). "store-each" has every thread load the
 * key itself, all at once (devices looked up, readers listed, key descriptions
 * read by several threads), then sign; a software key loaded through the store
 * first fills OpenSSL's method store, whose first concurrent fetches fail in
 * OpenSSL 3.0 even with the default provider alone (about 1 run in 40).
 *
 * Each signer's message and signature go to OUTPREFIX.I.msg and
 * OUTPREFIX.I.sig, the public key to OUTPREFIX.pub; every signature is checked
 * here too, in a library context with only the default provider. Exits 0 when
 * every thread did its part and every signature verified.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load-providers.h"

#define MAX_THREADS 64

typedef struct {
    int asks_pub;    /* asks for the public key instead of signing */
    const char *uri; /* store-each: the thread loads its own key */
    EVP_PKEY *key;
    pthread_barrier_t *start;
    char msg[64];
    unsigned char sig[1024];
    size_t sig_len;
    int ok;
} job;

static const char *pass_file;

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    FILE *f = fopen(pass_file, "r");
    int n = 0;

    (void)rwflag;
    (void)u;
    if (f == NULL)
        return 0;
    if (fgets(buf, size, f) != NULL) {
        buf[strcspn(buf, "\r\n")] = '\0';
        n = (int)strlen(buf);
    }
    fclose(f);
    return n;
}

static EVP_PKEY *load_store(const char *uri)
{
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(password_cb, 0);
    OSSL_STORE_CTX *store = NULL;
    EVP_PKEY *key = NULL;

    if (ui == NULL || (store = OSSL_STORE_open(uri, ui, NULL, NULL, NULL)) == NULL ||
        OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY) != 1)
        goto end;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info == NULL)
            break;
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
end:
    OSSL_STORE_close(store);
    UI_destroy_method(ui);
    return key;
}

static EVP_PKEY *load_pem(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, password_cb, NULL) : NULL;

    BIO_free(bio);
    return key;
}

/* One load through the file: store and its decoder chain, of a software key. */
static int warm_up(const char *prefix)
{
    char path[4096];
    EVP_PKEY *soft = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *back = NULL;
    FILE *f;
    int ok = 0;

    snprintf(path, sizeof(path), "%s.warm.pem", prefix);
    if (soft == NULL || (f = fopen(path, "w")) == NULL)
        goto end;
    ok = PEM_write_PrivateKey(f, soft, NULL, NULL, 0, NULL, NULL) == 1;
    if (fclose(f) != 0 || !ok || (back = load_store(path)) == NULL)
        ok = 0;
end:
    EVP_PKEY_free(back);
    EVP_PKEY_free(soft);
    return ok;
}

static void *sign_one(void *arg)
{
    job *j = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char point[1024];
    size_t point_len = 0;

    /* All threads leave the barrier together: their first signatures race (one login for
     * all), and so do the first reads of the public key */
    pthread_barrier_wait(j->start);
    if (j->uri != NULL && (j->key = load_store(j->uri)) == NULL)
        fprintf(stderr, "thread-sign: '%s' loaded no key\n", j->msg);
    j->sig_len = sizeof(j->sig);
    if (j->asks_pub)
        j->ok = j->key != NULL &&
                EVP_PKEY_get_octet_string_param(j->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                                sizeof(point), &point_len) == 1;
    else
        j->ok =
            md != NULL && j->key != NULL &&
            EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, j->key, NULL) == 1 &&
            EVP_DigestSign(md, j->sig, &j->sig_len, (unsigned char *)j->msg, strlen(j->msg)) == 1;
    if (!j->ok) {
        fprintf(stderr, "thread-sign: '%s' failed\n", j->msg);
        ERR_print_errors_fp(stderr);
    }
    EVP_MD_CTX_free(md);
    return NULL;
}

static int write_file(const char *prefix, int i, const char *ext, const void *data, size_t len)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s.%d.%s", prefix, i, ext);
    if ((f = fopen(path, "wb")) == NULL)
        return 0;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* The public key, taken by a library context that has only the default provider. */
static EVP_PKEY *default_public(EVP_PKEY *key, OSSL_LIB_CTX *libctx, const char *prefix)
{
    char path[4096];
    BIO *mem = BIO_new(BIO_s_mem());
    EVP_PKEY *pub = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s.pub", prefix);
    if (mem == NULL || PEM_write_bio_PUBKEY(mem, key) != 1 || (f = fopen(path, "w")) == NULL)
        goto end;
    if (PEM_write_PUBKEY(f, key) != 1) {
        fclose(f);
        goto end;
    }
    fclose(f);
    pub = PEM_read_bio_PUBKEY_ex(mem, NULL, NULL, NULL, libctx, NULL);
end:
    BIO_free(mem);
    return pub;
}

int main(int argc, char **argv)
{
    static job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t start;
    OSSL_LIB_CTX *vctx = NULL;
    OSSL_PROVIDER *vdef = NULL;
    EVP_PKEY *key = NULL, *any = NULL, *pub = NULL;
    int n, total, i, started = 0, each, rc = 1;

    if (argc != 6 ||
        (strcmp(argv[1], "store") != 0 && strcmp(argv[1], "pem") != 0 &&
         strcmp(argv[1], "store-each") != 0) ||
        (n = atoi(argv[4])) < 1 || (total = n + n / 2) > MAX_THREADS) {
        fprintf(stderr, "usage: %s store|pem|store-each URI|KEYFILE PASSFILE THREADS OUTPREFIX\n",
                argv[0]);
        return 2;
    }
    pass_file = argv[3];
    each = strcmp(argv[1], "store-each") == 0;
    if (!load_providers())
        goto end;
    if (strcmp(argv[1], "store") == 0)
        key = load_store(argv[2]);
    else if (strcmp(argv[1], "pem") == 0)
        key = load_pem(argv[2]);
    if (each && !warm_up(argv[5])) {
        fprintf(stderr, "thread-sign: no software key through the store\n");
        goto end;
    }
    if (key == NULL && !each) {
        fprintf(stderr, "thread-sign: no private key in %s\n", argv[2]);
        goto end;
    }
    if (pthread_barrier_init(&start, NULL, (unsigned)total) != 0)
        goto end;
    for (i = 0; i < total; i++) {
        jobs[i].asks_pub = i >= n;
        jobs[i].uri = each ? argv[2] : NULL;
        jobs[i].key = key;
        jobs[i].start = &start;
        snprintf(jobs[i].msg, sizeof(jobs[i].msg), "thread-sign %d of %d", i, n);
        if (pthread_create(&tid[i], NULL, sign_one, &jobs[i]) != 0)
            break;
    }
    started = i;
    /* A thread that could not start would leave the others waiting at the barrier */
    if (started < total) {
        fprintf(stderr, "thread-sign: %d of %d threads started\n", started, total);
        _exit(1);
    }
    for (i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start);
    /* the public key to check with: the one loaded, or one a thread loaded */
    for (any = key, i = 0; any == NULL && i < total; i++)
        any = jobs[i].key;
    /* The check does not trust pico: the default provider alone verifies */
    if ((vctx = OSSL_LIB_CTX_new()) == NULL ||
        (vdef = OSSL_PROVIDER_load(vctx, "default")) == NULL || any == NULL ||
        (pub = default_public(any, vctx, argv[5])) == NULL)
        goto end;
    rc = 0;
    for (i = n; i < total; i++) {
        if (!jobs[i].ok) {
            fprintf(stderr, "thread-sign: public-key thread %d got none\n", i - n);
            rc = 1;
        }
    }
    for (i = 0; i < n; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = jobs[i].ok && md != NULL &&
                 EVP_DigestVerifyInit_ex(md, NULL, "SHA256", vctx, NULL, pub, NULL) == 1 &&
                 EVP_DigestVerify(md, jobs[i].sig, jobs[i].sig_len, (unsigned char *)jobs[i].msg,
                                  strlen(jobs[i].msg)) == 1;
        EVP_MD_CTX_free(md);
        if (!ok) {
            fprintf(stderr, "thread-sign: the signature of '%s' does not verify\n", jobs[i].msg);
            rc = 1;
        }
        if (jobs[i].ok && (!write_file(argv[5], i, "msg", jobs[i].msg, strlen(jobs[i].msg)) ||
                           !write_file(argv[5], i, "sig", jobs[i].sig, jobs[i].sig_len)))
            rc = 1;
    }
    if (rc == 0)
        printf("thread-sign: %d threads signed, every signature verifies; %d read the public "
               "key\n",
               n, total - n);
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    for (i = 0; each && i < started; i++)
        EVP_PKEY_free(jobs[i].key);
    OSSL_PROVIDER_unload(vdef);
    OSSL_LIB_CTX_free(vctx);
    return rc;
}
