/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK password-share reader (common/dkek_shamir.c), over text a user
 * pastes (sc-hsm-tool's printout, prompt answers), and the key domain answer
 * parser (common/schsm.c). What parses is written back as sc-hsm-tool's text
 * and reads back the same; a join never writes past its 8 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkek.h"
#include "schsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const pico_dkek_pw_split *sp)
{
    char text[PICO_DKEK_PW_SHARES_MAX * 128] = "", one[128];
    pico_dkek_pw_split back;
    uint8_t pw[PICO_DKEK_PW_LEN + 1];
    size_t len = 0;

    for (size_t i = 0; i < sp->n; i++) {
        if (pico_dkek_pw_share_text(sp, i, one, sizeof(one)) != PICO_OK)
            abort();
        strcat(text, one);
    }
    if (pico_dkek_pw_parse(text, &back) != PICO_OK || back.n != sp->n ||
        back.prime_len != sp->prime_len || memcmp(back.prime, sp->prime, sp->prime_len) != 0)
        abort();
    for (size_t i = 0; i < sp->n; i++)
        if (back.share[i].id != sp->share[i].id || back.share[i].y_len != sp->share[i].y_len ||
            memcmp(back.share[i].y, sp->share[i].y, sp->share[i].y_len) != 0)
            abort();
    pw[PICO_DKEK_PW_LEN] = 0xA5;
    if (pico_dkek_pw_join(sp, pw, &len) == PICO_OK && len > PICO_DKEK_PW_LEN)
        abort();
    if (pw[PICO_DKEK_PW_LEN] != 0xA5)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    pico_dkek_pw_split sp;
    pico_dkek_info info;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (pico_dkek_pw_parse(text, &sp) == PICO_OK)
        round_trip(&sp);
    if (pico_schsm_dkek_parse(data, size, &info) == PICO_OK &&
        (size < 10 || info.xkek_len != size - 10 || info.total != data[0]))
        abort();
    free(text);
    return 0;
}
