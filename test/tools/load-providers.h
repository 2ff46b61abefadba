/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test programs load the providers in the order the integration suite
 * runs in: PICO_ORDER=pico-first loads pico before default (as a user writing
 * `-provider pico -provider default` does), anything else default first.
 */
#ifndef PICO_TEST_LOAD_PROVIDERS_H
#define PICO_TEST_LOAD_PROVIDERS_H

#include <openssl/provider.h>
#include <stdlib.h>
#include <string.h>

static inline int load_providers(void)
{
    const char *order = getenv("PICO_ORDER");
    int pico_first = order != NULL && strcmp(order, "pico-first") == 0;

    if (pico_first && OSSL_PROVIDER_load(NULL, "pico") == NULL)
        return 0;
    if (OSSL_PROVIDER_load(NULL, "default") == NULL)
        return 0;
    return pico_first || OSSL_PROVIDER_load(NULL, "pico") != NULL;
}

#endif
