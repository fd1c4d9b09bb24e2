/*
 * options.c - command-line values, checked character by character, and the
 * start-up guard for descriptors 0-2.
 *
 * The library functions are too lenient for a contract that tests rely on:
 * strtod("1e9999") is infinity and atoi("8o80") is 8.
 */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int options_parse_interval(const char *text, double *interval_s)
{
    double value = 0.0;
    double scale = 1.0;
    int digits = 0;
    int seen_point = 0;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '.' && !seen_point) {
            seen_point = 1;
        } else if (*p >= '0' && *p <= '9') {
            digits++;
            if (seen_point) {
                scale /= 10.0;
                value += (*p - '0') * scale;
            } else {
                value = value * 10.0 + (*p - '0');
            }
            if (value > OPTIONS_INTERVAL_MAX_S)
                return -1;
        } else {
            return -1;
        }
    }
    if (digits == 0 || value < OPTIONS_INTERVAL_MIN_S)
        return -1;
    *interval_s = value;
    return 0;
}

int options_parse_port(const char *text, unsigned short *port)
{
    unsigned long value = 0;

    if (*text == '\0')
        return -1;
    /* Leading zeros are allowed, however many: the value decides, checked
     * digit by digit so that it cannot overflow. */
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 65535)
            return -1;
    }
    *port = (unsigned short)value;
    return 0;
}

int options_open_std_fds(void)
{
    /* open() returns the lowest free descriptor: while 0, 1 or 2 is free,
     * /dev/null fills it. Read-write, so it serves as input and output. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd == -1)
            return -1;
        if (null_fd > 2) { /* cannot happen while fd is free; be safe */
            close(null_fd);
            errno = EBADF;
            return -1;
        }
    }
    return 0;
}

void options_usage_error(const char *program, const char *fmt,
                         const char *arg)
{
    fprintf(stderr, "%s: ", program);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help'.\n", program);
    exit(2);
}
