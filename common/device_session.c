/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device taken for a sequence of exchanges (lock, fork check, PC/SC transaction,
 * SELECT), and the private-key operations: one APDU each, with the login again when the
 * device lost it.
 */
#include "device.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "device_int.h"
#include "log.h"
#include "schsm.h"
#include "transport.h"

/*
 * Takes the device for a sequence of exchanges: its lock, a fork check, the
 * PC/SC transaction, and the SELECT the connection needs. After fork() the
 * child opens its own PC/SC context but does not SELECT again: the card still
 * has the application selected and its login is shared by every client, and a
 * SELECT would log out the parent and its other children (4.6).
 */
pico_err pico_dev_enter(pico_device *d)
{
    pico_err err;

    pthread_mutex_lock(&d->lock);
    if (d->pid != getpid()) {
        pico_log("DEVICE", "fork detected: new pc/sc context for '%s'", d->reader);
        d->pid = getpid();
        if ((err = d->card->t->ops->reconnect(d->card->t)) != PICO_OK)
            goto fail;
    }
    err = d->card->t->ops->begin(d->card->t);
    d->txn = err == PICO_OK || err == PICO_E_RESET;
    if (err == PICO_E_RESET || err == PICO_E_REMOVED) {
        /* 4.6: a reset (or a new card in the reader) leaves no application selected and
         * no login. Reported in the log only: the caller's operation goes on after the
         * SELECT, and logs in again with what it holds. */
        pico_log("DEVICE", "'%s' was %s: selecting again", d->reader,
                 err == PICO_E_RESET ? "reset" : "removed");
        d->selected = 0;
        d->logged_in = 0;
        if (err == PICO_E_REMOVED)
            goto fail;
        err = PICO_OK;
    }
    if (err != PICO_OK)
        goto fail;
    if (!d->selected) {
        if ((err = pico_schsm_select(d->card, &d->info)) != PICO_OK) {
            d->card->t->ops->end(d->card->t);
            d->txn = 0;
            goto fail;
        }
        d->selected = 1;
        d->logged_in = 0;
    }
    return PICO_OK;
fail:
    if (err == PICO_E_REMOVED) {
        d->selected = 0;
        d->logged_in = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return err;
}

void pico_dev_leave(pico_device *d)
{
    if (d->txn) {
        pico_err_mark();
        d->card->t->ops->end(d->card->t);
        pico_err_pop_to_mark();
        d->txn = 0;
    }
    pthread_mutex_unlock(&d->lock);
}

/*
 * For a command of one APDU on a selected device: no PC/SC transaction (pcscd
 * keeps one APDU whole; Begin and End would cost two more round trips to it).
 * A reset or another application's SELECT since the last exchange shows in
 * the answer, and key_op recovers inside a transaction then.
 */
static pico_err dev_enter_one(pico_device *d, int try_only)
{
    pico_err err;

    /* try_only (a pool): a device another thread of this process is using is skipped,
     * not waited for; PICO_E_BUSY, unraised */
    if (!try_only)
        pthread_mutex_lock(&d->lock);
    else if (pthread_mutex_trylock(&d->lock) != 0)
        return PICO_E_BUSY;
    if (d->pid == getpid() && d->selected) {
        d->txn = 0;
    } else {
        pthread_mutex_unlock(&d->lock);
        if ((err = pico_dev_enter(d)) != PICO_OK)
            return err;
    }
    /* and one another process is using, the same (busy.h); outside a pool the mark only
     * tells the others, the operation queues in pcscd as it always did */
    d->busy_mark = pico_busy_take(d->busy_name);
    if (d->busy_mark == PICO_BUSY_HELD && try_only) {
        pico_dev_leave(d);
        return PICO_E_BUSY;
    }
    return PICO_OK;
}

/* Inside dev_enter_one: opens the transaction (and selects again after a reset). */
static pico_err dev_upgrade(pico_device *d)
{
    pico_err err;

    if (d->txn)
        return PICO_OK;
    err = d->card->t->ops->begin(d->card->t);
    d->txn = err == PICO_OK || err == PICO_E_RESET;
    if (err == PICO_E_RESET) {
        d->selected = 0;
        d->logged_in = 0;
    } else if (err != PICO_OK) {
        return err;
    }
    if (!d->selected) {
        if ((err = pico_schsm_select(d->card, &d->info)) != PICO_OK)
            return err;
        d->selected = 1;
        d->logged_in = 0;
    }
    return PICO_OK;
}

typedef pico_err (*key_op_fn)(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                              size_t in_len, uint8_t *out, size_t *out_len);

/*
 * One key operation: one APDU while the device keeps its login. When the card
 * answers 6982/6400 although this process logged in (a reset, or another
 * client's SELECT, 4.6), log in again with the held PIN, if the user allowed
 * holding it, and repeat the operation once.
 */
static pico_err key_op(pico_key *k, int try_only, const char *op, key_op_fn fn, uint8_t alg,
                       const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    pico_device *d = k->dev;
    size_t cap = *out_len;
    pico_err err;

    if ((err = dev_enter_one(d, try_only)) != PICO_OK)
        return err;
    if (!d->logged_in && d->can_relogin && dev_upgrade(d) == PICO_OK) {
        pico_err_mark();
        pico_dev_relogin_locked(d);
        pico_err_pop_to_mark();
    }
    pico_err_mark();
    d->card->last_sw = 0;
    err = fn(d->card, k->keyref, alg, in, in_len, out, out_len);
    pico_err_pop_to_mark();
    if (!d->txn &&
        (err == PICO_E_RESET || err == PICO_E_REMOVED || err == PICO_E_NO_READER ||
         (err != PICO_OK && (d->card->last_sw == 0x6D00 || d->card->last_sw == 0x6E00)))) {
        /* Not the session this process had: the card was reset or came back, or pcscd
         * restarted (its handle is gone), or the card answers as one with nothing
         * selected (6D00: a device back in its reader before pcscd noticed it was
         * gone). Connect and select again in a transaction, then as if the device had
         * refused: the login is gone, made again as after another client's SELECT. */
        int had_login = d->logged_in;
        d->selected = 0;
        d->logged_in = 0;
        pico_err_mark();
        err = dev_upgrade(d);
        pico_err_pop_to_mark();
        if (err != PICO_OK) {
            err = pico_err_raise(err, "%s with key %u on %s", op, k->keyref, d->desc);
            goto end;
        }
        d->logged_in = had_login; /* handled below */
        err = PICO_E_NOT_LOGGED_IN;
    }
    if (err == PICO_E_KEY_LOCKED && d->logged_in && d->login_had_pin) {
        /* 6400 while the PIN this process verified holds: the MKEK is open, so the
         * device refused this input (field-notes.md: RSA input >= n), not the login */
        err = pico_err_raise(PICO_E_DEVICE, "%s with key %u: the device refused the input (6400)",
                             op, k->keyref);
    } else if ((err == PICO_E_NOT_LOGGED_IN || err == PICO_E_KEY_LOCKED) && d->logged_in) {
        pico_err refusal = err;
        d->logged_in = 0;
        if ((err = dev_upgrade(d)) != PICO_OK)
            goto end;
        /* 6400 with no PIN held: a login again cannot open the MKEK either (4.5) */
        if (!d->can_relogin || (refusal == PICO_E_KEY_LOCKED && d->held_len == 0)) {
            err = pico_dev_explain_refusal(d, op, refusal);
            goto end;
        }
        pico_log("DEVICE", "%s refused (sw=%04X): logging in again", op, d->card->last_sw);
        if ((err = pico_dev_relogin_locked(d)) != PICO_OK)
            goto end;
        *out_len = cap;
        err = fn(d->card, k->keyref, alg, in, in_len, out, out_len);
    } else if (err == PICO_E_NOT_LOGGED_IN || err == PICO_E_KEY_LOCKED) {
        err = pico_err_raise(err, "%s with key %u: log in first", op, k->keyref);
    } else if (err != PICO_OK && d->card->last_sw != 0) {
        /* the device answered: its status word says why */
        char name[48];
        snprintf(name, sizeof(name), "%s key=%u alg=0x%02X", op, k->keyref, alg);
        err = pico_schsm_sw_error(d->card->last_sw, name);
        if (err == PICO_OK)
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "%s", name);
    } else if (err != PICO_OK) {
        /* no answer: removed, reset (the login is gone), pcscd gone, timeout */
        if (err == PICO_E_RESET || err == PICO_E_REMOVED) {
            d->selected = 0;
            d->logged_in = 0;
        }
        err = pico_err_raise(err, "%s with key %u on %s", op, k->keyref, d->desc);
    }
end:
    pico_busy_give(d->busy_mark);
    d->busy_mark = PICO_BUSY_NONE;
    pico_dev_leave(d);
    return err;
}

int pico_device_busy(pico_device *d)
{
    int mark = pico_busy_take(d->busy_name);

    pico_busy_give(mark);
    return mark == PICO_BUSY_HELD;
}

/* The row of key's type when it has the capability cap and a raw public key, else NULL. */
static const pico_key_type_info *raw_type(const pico_key *key, unsigned cap)
{
    const pico_key_type_info *t = pico_key_type_info_of(key->type);

    return t != NULL && t->raw_len > 0 && (t->caps & cap) ? t : NULL;
}

/* X25519/X448 (7.2): DECIPHER 80 with the peer's raw u-coordinate; the answer is 04 || the
 * RFC 7748 shared secret, the 04 stripped (pico_schsm_derive_raw). */
static pico_err xdh(pico_key *key, int try_only, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len)
{
    const pico_key_type_info *t = raw_type(key, PICO_CAP_DERIVE);

    if (t == NULL)
        return pico_err_raise(PICO_E_ARGS, "key %u: not an X25519/X448 key", key->keyref);
    if (in_len != t->raw_len)
        return pico_err_raise(PICO_E_ARGS, "%s peer key of %zu bytes, not %zu", t->name, in_len,
                              t->raw_len);
    if (*out_len < t->raw_len)
        return pico_err_raise(PICO_E_ARGS, "%s secret: %zu bytes of room for %zu", t->name,
                              *out_len, t->raw_len);
    return key_op(key, try_only, "DECIPHER", pico_schsm_derive_raw, PICO_ALG_ECDH, in, in_len, out,
                  out_len);
}

/* Ed25519/Ed448 (7.1): SIGN 70 with the whole message (PureEdDSA on EdDSA builds); the
 * answer is raw R || S. */
static pico_err eddsa(pico_key *key, int try_only, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t *out_len)
{
    const pico_key_type_info *t = raw_type(key, PICO_CAP_SIGN);
    size_t cap = *out_len;
    pico_err err;

    if (t == NULL)
        return pico_err_raise(PICO_E_ARGS, "key %u: not an Ed25519/Ed448 key", key->keyref);
    if (in_len > PICO_EDDSA_MAX_MESSAGE)
        return pico_err_raise(PICO_E_ARGS,
                              "%s: a message of %zu bytes; the device signs at most %d bytes "
                              "(one command, no hashing on the host for PureEdDSA)",
                              t->name, in_len, PICO_EDDSA_MAX_MESSAGE);
    if (cap < 2 * t->raw_len)
        return pico_err_raise(PICO_E_ARGS, "%s signature: %zu bytes of room for %zu", t->name, cap,
                              2 * t->raw_len);
    if ((err = key_op(key, try_only, "SIGN", pico_schsm_sign, PICO_ALG_ECDSA, in, in_len, out,
                      out_len)) != PICO_OK)
        return err;
    if (*out_len != 2 * t->raw_len)
        return pico_err_raise(PICO_E_BAD_RESPONSE, "SIGN key=%u: %zu bytes, not an %s signature",
                              key->keyref, *out_len, t->name);
    return PICO_OK;
}

static pico_err mech_op(pico_key *key, int try_only, pico_mech mech, const uint8_t *in,
                        size_t in_len, uint8_t *out, size_t *out_len)
{
    switch (mech) {
    case PICO_MECH_ECDSA:
        return key_op(key, try_only, "SIGN", pico_schsm_sign, PICO_ALG_ECDSA, in, in_len, out,
                      out_len);
    case PICO_MECH_RSA_RAW:
        return key_op(key, try_only, "SIGN", pico_schsm_sign, PICO_ALG_RSA_RAW, in, in_len, out,
                      out_len);
    case PICO_MECH_RSA_PSS:
        return key_op(key, try_only, "SIGN", pico_schsm_sign, PICO_ALG_RSA_PSS, in, in_len, out,
                      out_len);
    case PICO_MECH_RSA_DECRYPT_RAW:
        return key_op(key, try_only, "DECIPHER", pico_schsm_decipher, PICO_ALG_RSA_DECRYPT_RAW, in,
                      in_len, out, out_len);
    case PICO_MECH_ECDH:
        return key_op(key, try_only, "DECIPHER", pico_schsm_decipher, PICO_ALG_ECDH, in, in_len,
                      out, out_len);
    case PICO_MECH_XDH:
        return xdh(key, try_only, in, in_len, out, out_len);
    case PICO_MECH_EDDSA:
        return eddsa(key, try_only, in, in_len, out, out_len);
    }
    return pico_err_raise(PICO_E_INTERNAL, "mechanism %d", (int)mech);
}

pico_err pico_device_key_op(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len,
                            uint8_t *out, size_t *out_len)
{
    return mech_op(key, 0, mech, in, in_len, out, out_len);
}

pico_err pico_device_key_op_try(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len,
                                uint8_t *out, size_t *out_len)
{
    return mech_op(key, 1, mech, in, in_len, out, out_len);
}

pico_err pico_device_select_info(pico_device *d, pico_select_info *info)
{
    pico_err err;

    /* pico_dev_enter selects when the device was not (or was forgotten): the answer is fresh */
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    *info = d->info;
    pico_dev_leave(d);
    return PICO_OK;
}
