/**
 * @file input.h
 * @brief Reading and parsing the lines typed into `hello`.
 *
 * The parser is separate from the reader on purpose: later chapters read
 * their input in other ways (with `read()` on a non-blocking descriptor,
 * from an event loop, from a coroutine) and copy input_parse_line()
 * unchanged.
 */
#ifndef INPUT_H
#define INPUT_H

#include <stddef.h>
#include <stdio.h>

/** @brief Longest accepted input line in bytes, not counting its line end
 *         (the newline, or a carriage return and a newline). */
#define INPUT_LINE_MAX 80

/** @brief What one input line turned out to be. */
typedef enum input_kind {
    INPUT_NUMBER,         /**< a natural number n <= FIB_MAX_N */
    INPUT_EMPTY,          /**< only blanks: ignore it */
    INPUT_EXIT,           /**< the word `exit`: end the program */
    INPUT_ERR_NOT_NUMBER, /**< anything else that is not a natural number,
                               including a signed zero such as `-0` */
    INPUT_ERR_NEGATIVE,   /**< a minus sign followed by digits, not all 0 */
    INPUT_ERR_TOO_LARGE,  /**< digits that do not fit in an `unsigned` */
    INPUT_ERR_ABOVE_CAP,  /**< fits, but above FIB_MAX_N */
    INPUT_ERR_TOO_LONG    /**< more than INPUT_LINE_MAX bytes before the
                               line end */
} input_kind_t;

/**
 * @brief Classify one line and extract its number.
 *
 * Blanks (space, tab) around the text and one trailing carriage return are
 * allowed. Only the digits 0-9 make a number: no sign, no `0x`, no
 * exponent, no digit separators.
 *
 * @param line the line's bytes, without its newline; need not be
 *        NUL-terminated and may contain NUL bytes.
 * @param len the line's full length. INPUT_LINE_MAX bytes of text are
 *        allowed, plus one trailing carriage return (so @p len may be
 *        INPUT_LINE_MAX + 1 when that last byte is a CR). A longer line
 *        is INPUT_ERR_TOO_LONG; beyond INPUT_LINE_MAX + 1 only the length
 *        is looked at.
 * @param[out] n set only when the result is INPUT_NUMBER.
 * @return the kind of line.
 */
input_kind_t input_parse_line(const char *line, size_t len, unsigned *n);

/**
 * @brief Explain an error kind in one line.
 * @param kind what input_parse_line() returned.
 * @return a static string without the `error: ` prefix; NULL for
 *         INPUT_NUMBER, INPUT_EMPTY and INPUT_EXIT.
 */
const char *input_strerror(input_kind_t kind);

/**
 * @brief Read one line from a stdio stream, however long it is.
 *
 * At most INPUT_LINE_MAX + 1 bytes are stored in @p buf; the rest of a longer
 * line is read and thrown away, so the next call starts on the next line.
 * The newline itself is not stored. A last line without a newline counts as
 * a line.
 *
 * @param in the stream to read; blocking.
 * @param buf room for INPUT_LINE_MAX + 1 bytes; not NUL-terminated.
 * @param[out] len the line's full length, which may exceed what was stored.
 * @return 1 for a line, 0 at end of input, -1 on a read error (errno set).
 */
int input_read_line(FILE *in, char buf[INPUT_LINE_MAX + 1], size_t *len);

#endif
