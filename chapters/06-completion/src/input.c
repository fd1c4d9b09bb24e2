/*
 * input.c - classify the lines typed into `hello`.
 *
 * Untrusted input gets a strict grammar: blanks, digits, blanks. Anything the
 * grammar does not allow is an error the user is told about; nothing is
 * guessed (atoi("12abc") would quietly say 12, and atoi("99999999999")
 * is undefined behaviour).
 */
#include "input.h"

#include "fib.h"

#include <limits.h>
#include <string.h>

/* Turn a numeric macro into a string literal, so that messages can quote the
 * limits without formatting at run time. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define FIB_MAX_N_STR STR(FIB_MAX_N)
#define INPUT_LINE_MAX_STR STR(INPUT_LINE_MAX)

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [parse-digits] */
/* Accumulate decimal digits into an unsigned, refusing to overflow. The
 * grammar is checked first, over the whole text: "99999999999x" is not a
 * number at all, and only a text of digits can be too large. The overflow
 * check happens before the multiplication, because unsigned overflow would
 * wrap silently and a wrapped value could even pass the cap. */
static input_kind_t parse_digits(const char *p, const char *end, unsigned *n)
{
    for (const char *q = p; q < end; q++)
        if (!is_digit(*q))
            return INPUT_ERR_NOT_NUMBER;

    unsigned value = 0;
    for (; p < end; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT_MAX - digit) / 10)
            return INPUT_ERR_TOO_LARGE;
        value = value * 10 + digit;
    }
    if (value > FIB_MAX_N)
        return INPUT_ERR_ABOVE_CAP;
    *n = value;
    return INPUT_NUMBER;
}
/* [parse-digits] */

input_kind_t input_parse_line(const char *line, size_t len, unsigned *n)
{
    /* The limit counts the text, not its line end: the carriage return of
     * a "\r\n" ending may come on top of INPUT_LINE_MAX bytes. */
    if (len > INPUT_LINE_MAX + 1 ||
        (len == INPUT_LINE_MAX + 1 && line[len - 1] != '\r'))
        return INPUT_ERR_TOO_LONG;

    const char *p = line;
    const char *end = line + len;
    if (end > p && end[-1] == '\r')
        end--;
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;

    if (p == end)
        return INPUT_EMPTY;
    if (end - p == 4 && memcmp(p, "exit", 4) == 0)
        return INPUT_EXIT;
    if (*p == '-' && end - p > 1 && is_digit(p[1])) {
        unsigned value = 1;
        input_kind_t kind = parse_digits(p + 1, end, &value);
        /* "-12" is negative; "-12x" is simply not a number, and neither is
         * "-0": zero is not negative, but no sign is allowed. */
        if (kind == INPUT_ERR_NOT_NUMBER || (kind == INPUT_NUMBER && value == 0))
            return INPUT_ERR_NOT_NUMBER;
        return INPUT_ERR_NEGATIVE;
    }
    return parse_digits(p, end, n);
}

const char *input_strerror(input_kind_t kind)
{
    switch (kind) {
    case INPUT_ERR_NOT_NUMBER:
        return "not a natural number (type digits 0-9, or exit)";
    case INPUT_ERR_NEGATIVE:
        return "negative numbers are not natural numbers";
    case INPUT_ERR_TOO_LARGE:
        return "number too large for an unsigned int";
    case INPUT_ERR_ABOVE_CAP:
        return "n is above the cap of " FIB_MAX_N_STR " (see --help)";
    case INPUT_ERR_TOO_LONG:
        return "line longer than " INPUT_LINE_MAX_STR
               " bytes (not counting its line end)";
    case INPUT_NUMBER:
    case INPUT_EMPTY:
    case INPUT_EXIT:
        break;
    }
    return NULL;
}

int input_read_line(FILE *in, char buf[INPUT_LINE_MAX + 1], size_t *len)
{
    size_t count = 0;
    int c;

    while ((c = getc(in)) != EOF && c != '\n') {
        if (count <= INPUT_LINE_MAX)
            buf[count] = (char)c;
        count++;
    }
    *len = count;
    if (c == EOF) {
        if (ferror(in))
            return -1;
        if (count == 0)
            return 0;
    }
    return 1;
}
