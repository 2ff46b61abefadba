/* SPDX-License-Identifier: Apache-2.0 */
#include "apdu.h"

#include <string.h>

int sim_apdu_parse(const uint8_t *f, size_t len, sim_apdu *a)
{
    memset(a, 0, sizeof(*a));
    if (len < 4)
        return -1;
    a->cla = f[0];
    a->ins = f[1];
    a->p1 = f[2];
    a->p2 = f[3];
    if (len == 4) { /* case 1 */
        a->ne = 256;
        return 0;
    }
    if (len == 5) { /* case 2 short */
        a->ne = f[4] ? f[4] : 256;
        return 0;
    }
    if (f[4] != 0) { /* short Lc */
        size_t lc = f[4];
        if (len == 5 + lc) {
            a->data = f + 5;
            a->nc = lc;
            return 0;
        }
        if (len == 6 + lc) {
            a->data = f + 5;
            a->nc = lc;
            a->ne = f[5 + lc] ? f[5 + lc] : 256;
            return 0;
        }
        return -1;
    }
    /* f[4] == 00 and more bytes: extended */
    a->extended = 1;
    if (len == 7) { /* case 2E */
        size_t le = (size_t)f[5] << 8 | f[6];
        a->ne = le ? le : 65536;
        return 0;
    }
    if (len < 8)
        return -1;
    {
        size_t lc = (size_t)f[5] << 8 | f[6];
        if (lc == 0)
            return -1;
        if (len == 7 + lc) {
            a->data = f + 7;
            a->nc = lc;
            return 0;
        }
        if (len == 9 + lc) {
            size_t le = (size_t)f[7 + lc] << 8 | f[8 + lc];
            a->data = f + 7;
            a->nc = lc;
            a->ne = le ? le : 65536;
            return 0;
        }
    }
    return -1;
}
