/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the unit tests of held secrets: the VmFlags of the mapping that holds
 * an address, from /proc/self/smaps ("dd": left out of core dumps). Include
 * after cmocka.h.
 */
#ifndef PICO_TEST_SMAPS_H
#define PICO_TEST_SMAPS_H

#include <stdio.h>
#include <string.h>

/* The VmFlags of the mapping that holds addr ("" if not found). */
static inline void vmflags_of(const void *addr, char *flags, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    unsigned long lo, hi, a = (unsigned long)addr;

    flags[0] = '\0';
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = a >= lo && a < hi;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, cap, "%s", line + 8);
            break;
        }
    }
    fclose(f);
}

#endif
