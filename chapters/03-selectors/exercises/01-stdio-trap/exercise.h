/* Exercise 01-stdio-trap: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "linebuf.h"

#include <stddef.h>
#include <stdio.h>

/** Called with each complete line, without its newline. */
typedef void line_cb(const char *line, size_t len, void *arg);

/** Reads lines from a descriptor watched by a selector. */
typedef struct line_reader {
    int fd;        /**< the descriptor; the caller's */
    FILE *in;      /**< a stdio stream on a dup of fd, if you use one */
    linebuf_t lb;  /**< a line buffer of our own, if you use one */
} line_reader_t;

/** Start reading @p fd. */
void line_reader_init(line_reader_t *r, int fd);

/**
 * The selector says @p r's descriptor is readable: read, and call @p cb for
 * the lines. Returns 1 to keep watching, 0 at end of input, -1 on error.
 */
int line_reader_on_readable(line_reader_t *r, line_cb *cb, void *arg);

/** Release what line_reader_init() acquired (not the descriptor). */
void line_reader_deinit(line_reader_t *r);

#endif
