/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device pool: the devices holding the same key share its private-key
 * operations (round-robin, a busy one skipped) and stand in for one another
 * (a member that is gone is marked down, the operation goes to the next).
 */
#include "device.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "transport.h"

#define POOL_MAX 16
/* A down member is tried again after this long: a device back in its reader rejoins */
#define POOL_BACKOFF_MS 500
/* The readers are looked at again this often (one pcscd call when nothing changed): a
 * device plugged in since that holds the key joins */
#define POOL_RESCAN_MS 2000
/* Readers a rescan remembers (their card probed once, until it changes) */
#define POOL_SEEN_MAX 32

typedef struct pool_member {
    pico_key *key;
    atomic_int logged;     /* the login callback served this member */
    atomic_llong down_til; /* 0: up; else the monotonic ms before which it is skipped */
} pool_member;

struct pico_pool {
    pool_member m[POOL_MAX];
    atomic_size_t n; /* members only join: m[i] is set before n counts it */
    atomic_uint next;
    atomic_int refs; /* the provider's key objects share one (copies of a loaded key) */
    /* pico_pool_new's: what names the key (its path, no secret) and where, for a rescan */
    int can_grow;
    pico_uri uri;
    const pico_config *cfg;
    EVP_PKEY *anchor_pub; /* the anchor key's, borrowed (pico_device_key_public) */
    atomic_llong next_scan;
    pthread_mutex_t grow_lock;
    /* under grow_lock: the readers a rescan probed, with their card events then
     * (pico_pcsc_reader_events): probed again only once their card changed */
    struct {
        char *reader;
        unsigned long events;
    } seen[POOL_SEEN_MAX];
    size_t nseen;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pico_pool *pico_pool_of_keys(pico_key *const *keys, size_t n)
{
    pico_pool *p = calloc(1, sizeof(*p));
    size_t i;

    if (p == NULL || n == 0 || n > POOL_MAX) {
        free(p);
        return NULL;
    }
    for (i = 0; i < n; i++)
        p->m[i].key = keys[i];
    atomic_init(&p->n, n);
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->grow_lock, NULL);
    return p;
}

pico_pool *pico_pool_up_ref(pico_pool *pool)
{
    atomic_fetch_add(&pool->refs, 1);
    return pool;
}

void pico_pool_free(pico_pool *pool)
{
    if (pool == NULL || atomic_fetch_sub(&pool->refs, 1) != 1)
        return;
    pico_uri_free(&pool->uri);
    while (pool->nseen > 0)
        free(pool->seen[--pool->nseen].reader);
    pthread_mutex_destroy(&pool->grow_lock);
    free(pool);
}

size_t pico_pool_size(const pico_pool *pool)
{
    return atomic_load(&((pico_pool *)pool)->n);
}

pico_key *pico_pool_key(const pico_pool *pool, size_t i)
{
    return i < pico_pool_size(pool) ? pool->m[i].key : NULL;
}

int pico_pool_member_down(pico_pool *pool, size_t i)
{
    return i < pico_pool_size(pool) && atomic_load(&pool->m[i].down_til) != 0;
}

struct pool_find {
    const pico_uri *uri;
    pico_key *keys[POOL_MAX];
    size_t n;
    EVP_PKEY *anchor_pub;
    pico_err err;
};

/* A member holds a key the URI names whose public key equals the anchor's. */
static int pool_find_cb(void *arg, pico_device *dev)
{
    struct pool_find *f = arg;
    pico_key *k = NULL;
    EVP_PKEY *pub = NULL;
    pico_err err;

    pico_err_mark();
    err = pico_device_find_key(dev, f->uri, &k);
    if (err == PICO_OK && f->n == 1 && f->anchor_pub == NULL)
        err = pico_device_key_public(f->keys[0], &f->anchor_pub);
    if (err == PICO_OK && f->n > 0)
        err = pico_device_key_public(k, &pub);
    pico_err_pop_to_mark();
    if (err != PICO_OK) {
        if (err != PICO_E_NOT_FOUND && f->err == PICO_OK)
            f->err = err;
        return 0;
    }
    if (f->n == 0 || EVP_PKEY_eq(f->anchor_pub, pub) == 1) {
        f->keys[f->n++] = k;
        if (f->n > 1)
            pico_log("POOL", "'%s' holds the same key: pool of %zu", pico_device_reader(dev), f->n);
    }
    return f->n == POOL_MAX;
}

/* What names the key, without its login factors: a rescan keeps no secret. */
static int uri_path(const pico_uri *src, pico_uri *dst)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->id, src->id, src->id_len);
    dst->id_len = src->id_len;
    dst->type = src->type;
    dst->pin_last_try = -1;
    return src->object == NULL || (dst->object = strdup(src->object)) != NULL;
}

pico_err pico_pool_new(const pico_uri *uri, const pico_config *cfg, pico_pool **pool)
{
    struct pool_find f;
    pico_pool *p;
    pico_err err;

    memset(&f, 0, sizeof(f));
    f.uri = uri;
    *pool = NULL;
    err = pico_device_foreach(uri, cfg, pool_find_cb, &f);
    if (err == PICO_OK && f.n == 0)
        err = f.err != PICO_OK ? pico_err_raise(f.err, "looking for the key") : PICO_E_NOT_FOUND;
    if (err != PICO_OK)
        return err;
    if ((p = pico_pool_of_keys(f.keys, f.n)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "pool");
    /* a device plugged in later that holds the key joins (pool_grow) */
    p->can_grow = uri_path(uri, &p->uri);
    p->cfg = cfg;
    p->anchor_pub = f.anchor_pub;
    atomic_store(&p->next_scan, now_ms() + POOL_RESCAN_MS);
    *pool = p;
    return PICO_OK;
}

/* A rescan's look at a device: one that is no member and holds the anchor's key joins. */
static int pool_grow_cb(void *arg, pico_device *dev)
{
    pico_pool *p = arg;
    size_t i, n = pico_pool_size(p);
    pico_key *k = NULL;
    EVP_PKEY *pub = NULL;
    pico_err err;

    for (i = 0; i < n; i++)
        if (p->m[i].key->dev == dev)
            return 0;
    if (n == POOL_MAX || strcmp(pico_device_reader(dev), p->uri.reader) != 0)
        return 0;
    err = pico_device_find_key(dev, &p->uri, &k);
    if (err == PICO_OK && p->anchor_pub == NULL)
        err = pico_device_key_public(p->m[0].key, &p->anchor_pub);
    if (err == PICO_OK)
        err = pico_device_key_public(k, &pub);
    if (err != PICO_OK || EVP_PKEY_eq(p->anchor_pub, pub) != 1)
        return 0;
    p->m[n].key = k;
    atomic_store(&p->m[n].logged, 0);
    atomic_store(&p->m[n].down_til, 0);
    atomic_store(&p->n, n + 1); /* after the member is whole: pool_pass reads n first */
    pico_log("POOL", "'%s' holds the same key and joins: pool of %zu", pico_device_reader(dev),
             n + 1);
    return 1;
}

/* Whether reader's card is new since the last rescan (remembered now when it is). */
static int card_is_new(pico_pool *p, const char *reader, unsigned long events)
{
    size_t i, n = pico_pool_size(p);
    char *copy;

    if ((events & 1) == 0) /* no card */
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(pico_device_reader(p->m[i].key->dev), reader) == 0)
            return 0;
    for (i = 0; i < p->nseen && strcmp(p->seen[i].reader, reader) != 0; i++)
        continue;
    if (i < p->nseen) {
        if (p->seen[i].events == events)
            return 0;
        p->seen[i].events = events;
        return 1;
    }
    if (p->nseen == POOL_SEEN_MAX || (copy = strdup(reader)) == NULL)
        return 0;
    p->seen[p->nseen].reader = copy;
    p->seen[p->nseen++].events = events;
    return 1;
}

/* Probes the readers whose card is new (the others are known: members, or probed). */
static void pool_probe_new(pico_pool *p)
{
    char **readers = NULL;
    unsigned long *events = NULL;
    size_t n = 0, i;

    if (pico_pcsc_list_readers(&readers, &n) != PICO_OK || n == 0 ||
        (events = calloc(n, sizeof(*events))) == NULL ||
        pico_pcsc_reader_events(readers, n, events) != PICO_OK)
        goto end;
    for (i = 0; i < n; i++) {
        if (!card_is_new(p, readers[i], events[i]))
            continue;
        p->uri.reader = readers[i];
        pico_device_foreach(&p->uri, p->cfg, pool_grow_cb, p);
        p->uri.reader = NULL;
    }
end:
    free(events);
    pico_pcsc_free_readers(readers, n);
}

/*
 * Every POOL_RESCAN_MS, one operation (the one that moves the time on) looks at the
 * readers again: one pcscd call for the list and one for their card events; a card
 * new since the last look (a device plugged in, a card inserted) is probed once, the
 * others not at all (no APDU to a card that is not a Pico, or one without the key).
 * Another thread scanning is not waited for.
 */
static void pool_grow(pico_pool *p)
{
    long long now = now_ms(), due = atomic_load(&p->next_scan);

    if (!p->can_grow || now < due ||
        !atomic_compare_exchange_strong(&p->next_scan, &due, now + POOL_RESCAN_MS))
        return;
    if (pthread_mutex_trylock(&p->grow_lock) != 0)
        return;
    pico_err_mark();
    pool_probe_new(p);
    pico_err_pop_to_mark();
    pthread_mutex_unlock(&p->grow_lock);
}

/*
 * Another member serves: this one is gone for now (removed, pcscd or its reader
 * gone), or cannot log in without a PIN it no longer has (back after a removal,
 * the application's PIN gone) or lost its login. A PIN the device refused is
 * the user's error: it fails the operation.
 */
static int failover_err(pico_err err)
{
    return err == PICO_E_REMOVED || err == PICO_E_COMM || err == PICO_E_NO_READER ||
           err == PICO_E_NO_DEVICE || err == PICO_E_PIN_REQUIRED || err == PICO_E_NOT_LOGGED_IN;
}

/* Usable now: up, or down and its back-off over (then tried again). */
static int member_ready(pool_member *m, long long now)
{
    long long til = atomic_load(&m->down_til);

    return til == 0 || now >= til;
}

/*
 * One attempt on member m: login the first time, then the operation (a try when
 * try_only). Failures that let another member serve are popped (PICO_E_BUSY, a
 * failover error: m is marked down); any other stays raised.
 */
static pico_err member_op(pool_member *m, int try_only, pico_pool_login_fn login, void *arg,
                          pico_mech mech, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len)
{
    size_t cap = *out_len;
    pico_err err = PICO_OK;

    /* a first login would queue behind another process's operation on the device */
    if (try_only && !atomic_load(&m->logged) && login != NULL && pico_device_busy(m->key->dev))
        return PICO_E_BUSY;
    pico_err_mark();
    if (!atomic_load(&m->logged) && login != NULL && (err = login(arg, m->key)) == PICO_OK)
        atomic_store(&m->logged, 1);
    if (err == PICO_OK) {
        *out_len = cap;
        err = try_only ? pico_device_key_op_try(m->key, mech, in, in_len, out, out_len)
                       : pico_device_key_op(m->key, mech, in, in_len, out, out_len);
    }
    if (err == PICO_OK || err == PICO_E_BUSY) {
        pico_err_pop_to_mark();
        if (err == PICO_OK && atomic_exchange(&m->down_til, 0) != 0)
            pico_log("POOL", "'%s' is back", pico_device_reader(m->key->dev));
    } else if (failover_err(err)) {
        pico_err_pop_to_mark();
        pico_log("POOL", "'%s' is down (%s): the operation goes to another member",
                 pico_device_reader(m->key->dev), pico_err_reason(err));
        atomic_store(&m->logged, 0); /* its login went with it */
        atomic_store(&m->down_til, now_ms() + POOL_BACKOFF_MS);
    } else {
        pico_err_clear_mark();
    }
    *out_len = err == PICO_OK ? *out_len : cap;
    return err;
}

/*
 * A pass over the members from start: try_only skips busy ones; a down one
 * is skipped until its back-off is over (every one when all are down: the last
 * pass, force). Returns the first result that is not "try another"; *last the
 * last failover error.
 */
static pico_err pool_pass(pico_pool *p, unsigned start, int try_only, int force,
                          pico_pool_login_fn login, void *arg, pico_mech mech, const uint8_t *in,
                          size_t in_len, uint8_t *out, size_t *out_len, pico_err *last)
{
    long long now = now_ms();
    size_t i, n = pico_pool_size(p);
    pico_err err;

    for (i = 0; i < n; i++) {
        pool_member *m = &p->m[(start + i) % n];

        if (!force && !member_ready(m, now))
            continue;
        err = member_op(m, try_only, login, arg, mech, in, in_len, out, out_len);
        if (failover_err(err))
            *last = err;
        else if (err != PICO_E_BUSY)
            return err;
    }
    return PICO_E_BUSY;
}

pico_err pico_pool_key_op(pico_pool *p, pico_pool_login_fn login, void *arg, pico_mech mech,
                          const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    unsigned start;
    pico_err err, last = PICO_OK;

    pool_grow(p);
    start = atomic_fetch_add(&p->next, 1);

    /* a free member first; every one busy: wait for one; every one down: try them all */
    err = pool_pass(p, start, 1, 0, login, arg, mech, in, in_len, out, out_len, &last);
    if (err == PICO_E_BUSY)
        err = pool_pass(p, start, 0, 0, login, arg, mech, in, in_len, out, out_len, &last);
    if (err == PICO_E_BUSY)
        err = pool_pass(p, start, 0, 1, login, arg, mech, in, in_len, out, out_len, &last);
    if (err == PICO_E_BUSY)
        err = pico_err_raise(last != PICO_OK ? last : PICO_E_NO_DEVICE,
                             "no device of the pool (%zu) could serve the operation",
                             pico_pool_size(p));
    return err;
}
