/**
 * @file linebuf.h
 * @brief The program's own line buffer: bytes from read() in, whole lines
 *        out.
 *
 * Why not fgets() or getline() on stdin, as in chapters 01-02? Because
 * stdio reads ahead. One read() may bring in two lines; fgets() returns the
 * first and keeps the second in the FILE's buffer, where the selector
 * cannot see it: the kernel has nothing left to read, so select() says
 * "not readable" and the second line waits, unanswered, until more input
 * arrives. That is the stdio-buffer trap. The cure is to read() into a
 * buffer we own and to take out every complete line it holds after each
 * read.
 *
 * Ownership: caller storage (linebuf_init()); nothing is allocated.
 */
#ifndef LINEBUF_H
#define LINEBUF_H

#include <stddef.h>
#include <sys/types.h>

/** @brief Bytes one line buffer holds; longer lines are counted, not kept. */
#define LINEBUF_SIZE 4096

/**
 * @brief A line buffer. Fields are private to linebuf.c.
 */
typedef struct linebuf {
    char data[LINEBUF_SIZE]; /**< buffered bytes, from @c start to @c len */
    size_t start;            /**< first byte not yet handed out */
    size_t len;              /**< end of the buffered bytes */
    size_t skipped;          /**< bytes of the current line already dropped
                                  because it did not fit */
    size_t scanned;          /**< bytes after @c start known to hold no
                                  newline (saves rescanning) */
    int eof;                 /**< read() returned 0 */
} linebuf_t;

/**
 * @brief Make an empty line buffer.
 * @param lb caller storage.
 */
void linebuf_init(linebuf_t *lb);

/**
 * @brief One read() from @p fd into the buffer (EINTR retried).
 *
 * Call it when the selector says @p fd is readable: exactly one read(), so
 * it does not block even on a blocking descriptor.
 *
 * @param lb the buffer.
 * @param fd the descriptor to read.
 * @return bytes read (> 0); 0 at end of file (after which linebuf_next()
 *         also returns a last line that has no newline); -1 with errno set
 *         (EAGAIN on a non-blocking descriptor with nothing to read).
 */
ssize_t linebuf_read(linebuf_t *lb, int fd);

/**
 * @brief Take out the next complete line, if the buffer holds one.
 *
 * Call it in a loop after every linebuf_read() until it returns 0: one
 * read may have brought several lines.
 *
 * @param lb the buffer.
 * @param[out] line its first bytes, without the newline; valid until the
 *        next call on @p lb. At most min(*len, LINEBUF_SIZE) bytes are
 *        there: of a line longer than the buffer only the tail was kept.
 * @param[out] len the line's full length.
 * @return 1 when a line was taken out, 0 when no complete line is there
 *         yet (or none at all is left after end of file).
 */
int linebuf_next(linebuf_t *lb, const char **line, size_t *len);

#endif
