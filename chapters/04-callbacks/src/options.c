/*
 * options.c - command-line values, checked character by character.
 *
 * The library functions are too lenient for a contract that tests rely on:
 * strtod("1e9999") is infinity and atoi("8o80") is 8.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t len = strlen(text);
    unsigned long value = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (unsigned long)(text[i] - '0');
    }
    if (value > 65535)
        return -1;
    *port = (unsigned short)value;
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
