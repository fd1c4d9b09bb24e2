/**
 * @file line_reader.h
 * @brief Reading a descriptor line by line from a coroutine: chapter 03's
 *        line buffer behind a sub-coroutine that awaits readability.
 *
 * Loop thread only.
 */
#ifndef LINE_READER_H
#define LINE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "coro.h"
#include "linebuf.h"
#include "sock.h"

/** @brief Returned by a line reader at end of input. */
#define LINE_EOF ((void *)(intptr_t)-1)

/**
 * @brief A line reader: chapter 03's line buffer, which persists between
 *        lines, and the frame of the sub-coroutine that reads one line.
 */
typedef struct line_reader {
    coro_t co;         /**< the sub-coroutine's head */
    loop_t *loop;      /**< the loop */
    int fd;            /**< the descriptor (see fd_wait_readable()) */
    int eof;           /**< end of input seen */
    const char *line;  /**< the last line (in @c buf), no newline */
    size_t len;        /**< its full length (may exceed what was kept) */
    io_op_t op;        /**< the wait in progress */
    linebuf_t buf;     /**< bytes read, not yet handed out */
} line_reader_t;

/**
 * @brief Prepare a reader for @p fd.
 * @param r caller storage.
 * @param loop the loop.
 * @param fd the descriptor.
 */
void line_reader_init(line_reader_t *r, loop_t *loop, int fd);

/**
 * @brief The sub-coroutine that reads the next line:
 *        `CORO_AWAIT_CORO(co, line_reader_next(&f->reader))`.
 *
 * Then `co->in` is the line's length, with the line in the reader's
 * @c line (see linebuf_next() for what is kept of a very long line), or
 * ::LINE_EOF at end of input. A read error fails it, and so the awaiting
 * coroutine too (use CORO_AWAIT_CORO_CATCH to handle it).
 *
 * @param r a reader.
 * @return the frame to await.
 */
coro_t *line_reader_next(line_reader_t *r);

#endif
