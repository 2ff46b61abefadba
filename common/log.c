/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static int log_initialised;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void pico_log_init(const char *target)
{
    pthread_mutex_lock(&log_lock);
    if (target == NULL)
        target = getenv("PICO_DEBUG");
    if (log_fp != NULL && log_fp != stderr)
        fclose(log_fp);
    log_fp = NULL;
    if (target != NULL && *target != '\0' && strcmp(target, "0") != 0) {
        if (strcmp(target, "stderr") == 0 || strcmp(target, "-") == 0 ||
            strcmp(target, "1") == 0) {
            log_fp = stderr;
        } else {
            log_fp = fopen(target, "ae");
            if (log_fp != NULL)
                setvbuf(log_fp, NULL, _IOLBF, 0);
        }
    }
    log_initialised = 1;
    pthread_mutex_unlock(&log_lock);
}

int pico_log_enabled(void)
{
    if (!log_initialised)
        pico_log_init(NULL);
    return log_fp != NULL;
}

double pico_log_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void pico_log(const char *area, const char *fmt, ...)
{
    va_list ap;

    if (!pico_log_enabled())
        return;
    pthread_mutex_lock(&log_lock);
    if (log_fp != NULL) {
        fprintf(log_fp, "pico[%ld] %s ", (long)getpid(), area);
        va_start(ap, fmt);
        vfprintf(log_fp, fmt, ap);
        va_end(ap);
        fputc('\n', log_fp);
    }
    pthread_mutex_unlock(&log_lock);
}
