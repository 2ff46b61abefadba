/* SPDX-License-Identifier: Apache-2.0 */
#include "apdu.h"

#include <string.h>

size_t pico_apdu_encode(const pico_apdu *a, uint8_t *out, size_t cap)
{
    size_t n = 0, le = a->le;
    int ext = a->extended || a->lc > PICO_APDU_SHORT_MAX_LC || le > PICO_APDU_SHORT_MAX_LE;

    if (a->lc > 65535 || le > PICO_APDU_LE_MAX || (a->lc > 0 && a->data == NULL))
        return 0;
    if (!ext && le == PICO_APDU_LE_MAX)
        le = PICO_APDU_SHORT_MAX_LE; /* short "as much as you have" is Le 00 = 256 */
    if (cap < 4 + (ext ? 3 : 1) + a->lc + (ext ? 2 : 1))
        return 0;
    out[n++] = a->cla;
    out[n++] = a->ins;
    out[n++] = a->p1;
    out[n++] = a->p2;
    if (a->lc > 0) {
        if (ext) {
            out[n++] = 0;
            out[n++] = (uint8_t)(a->lc >> 8);
            out[n++] = (uint8_t)a->lc;
        } else {
            out[n++] = (uint8_t)a->lc;
        }
        memcpy(out + n, a->data, a->lc);
        n += a->lc;
    }
    if (le > 0) {
        if (ext) {
            /* case 2E has a leading 00; in case 4E the Lc field already carried it */
            if (a->lc == 0)
                out[n++] = 0;
            out[n++] = (uint8_t)(le == PICO_APDU_LE_MAX ? 0 : le >> 8);
            out[n++] = (uint8_t)(le == PICO_APDU_LE_MAX ? 0 : le);
        } else {
            out[n++] = (uint8_t)(le == PICO_APDU_SHORT_MAX_LE ? 0 : le);
        }
    }
    return n;
}
