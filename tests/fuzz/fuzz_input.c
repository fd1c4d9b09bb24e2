/*
 * fuzz_input.c - a libFuzzer target for input_parse_line(), the parser every
 * chapter's hello shares (src/input.c, byte-identical in every chapter).
 *
 * Not crashing is not enough: a parser can classify a line wrongly without
 * touching a byte it should not. So each input is also classified by a
 * second, deliberately different model of the contract in input.h (it
 * compares digit strings instead of doing arithmetic), and any disagreement
 * aborts with both answers. That is how "99999999999x" was caught being
 * called "too large" instead of "not a natural number".
 *
 * Build and run (from the top of the repository; `make fuzz` does this):
 *
 *   mkdir -p tests/fuzz/build
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ichapters/01-sync/src \
 *       tests/fuzz/fuzz_input.c chapters/01-sync/src/input.c \
 *       -o tests/fuzz/build/fuzz-input
 *   tests/fuzz/build/fuzz-input -max_total_time=60 -max_len=100
 */
#include "fib.h"
#include "input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int only_digits(const char *p, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* The contract of input.h read as string rules: trim, then decide by shape;
 * a number's size is judged by its significant digits compared as text
 * against UINT_MAX (4294967295, ten digits). */
static input_kind_t model(const char *line, size_t len, unsigned *n)
{
    if (len > INPUT_LINE_MAX + 1 ||
        (len == INPUT_LINE_MAX + 1 && line[INPUT_LINE_MAX] != '\r'))
        return INPUT_ERR_TOO_LONG;
    size_t start = 0, stop = len;
    if (stop > 0 && line[stop - 1] == '\r')
        stop--;
    while (start < stop && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (stop > start && (line[stop - 1] == ' ' || line[stop - 1] == '\t'))
        stop--;
    const char *p = line + start;
    size_t k = stop - start;

    if (k == 0)
        return INPUT_EMPTY;
    if (k == 4 && memcmp(p, "exit", 4) == 0)
        return INPUT_EXIT;
    int negative = p[0] == '-';
    if (negative) {
        p++;
        k--;
    }
    if (!only_digits(p, k))
        return INPUT_ERR_NOT_NUMBER;
    while (k > 0 && p[0] == '0') {
        p++;
        k--;
    }
    if (negative)
        return k == 0 ? INPUT_ERR_NOT_NUMBER : INPUT_ERR_NEGATIVE;
    if (k > 10 || (k == 10 && memcmp(p, "4294967295", 10) > 0))
        return INPUT_ERR_TOO_LARGE;
    unsigned long value = 0;
    for (size_t i = 0; i < k; i++)
        value = value * 10 + (unsigned long)(p[i] - '0');
    if (value > FIB_MAX_N)
        return INPUT_ERR_ABOVE_CAP;
    *n = (unsigned)value;
    return INPUT_NUMBER;
}

static const char *kind_name(input_kind_t kind)
{
    static const char *names[] = {
        [INPUT_NUMBER] = "NUMBER", [INPUT_EMPTY] = "EMPTY",
        [INPUT_EXIT] = "EXIT", [INPUT_ERR_NOT_NUMBER] = "ERR_NOT_NUMBER",
        [INPUT_ERR_NEGATIVE] = "ERR_NEGATIVE",
        [INPUT_ERR_TOO_LARGE] = "ERR_TOO_LARGE",
        [INPUT_ERR_ABOVE_CAP] = "ERR_ABOVE_CAP",
        [INPUT_ERR_TOO_LONG] = "ERR_TOO_LONG",
    };
    if ((size_t)kind < sizeof names / sizeof names[0] && names[kind] != NULL)
        return names[kind];
    return "(not an input_kind_t)";
}

static void disagree(const uint8_t *data, size_t size, const char *what,
                     const char *got, const char *want)
{
    fprintf(stderr, "fuzz_input: %s: input_parse_line() says %s, the model "
            "%s, for %zu bytes:", what, got, want, size);
    for (size_t i = 0; i < size && i < 120; i++)
        fprintf(stderr, " %02x", data[i]);
    fputc('\n', stderr);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so AddressSanitizer sees any read past
     * the line (the parser must not need a NUL terminator). */
    char *line = malloc(size ? size : 1);
    if (line == NULL)
        return 0;
    if (size > 0)
        memcpy(line, data, size);

    const unsigned untouched = 0xdeadbeef;
    unsigned got_n = untouched, want_n = untouched;
    input_kind_t got = input_parse_line(line, size, &got_n);
    input_kind_t want = model(line, size, &want_n);
    free(line);

    if (got != want)
        disagree(data, size, "kind", kind_name(got), kind_name(want));
    if (got_n != want_n) {
        char got_text[16], want_text[16];
        snprintf(got_text, sizeof got_text, "%u", got_n);
        snprintf(want_text, sizeof want_text, "%u", want_n);
        disagree(data, size, "n", got_text, want_text);
    }
    int is_error = got != INPUT_NUMBER && got != INPUT_EMPTY && got != INPUT_EXIT;
    if ((input_strerror(got) != NULL) != is_error)
        disagree(data, size, "an error message",
                 input_strerror(got) != NULL ? "one" : "none",
                 is_error ? "one" : "none");
    return 0;
}
