/**
 * @file errlog.h
 * @brief Log lines on stderr that can never stop the program: a line that
 *        cannot be written at once is dropped, and counted.
 *
 * A server's log is for whoever reads it. When nobody does (stderr a pipe
 * whose reader is stuck or gone), the pipe fills, and a plain
 * `fprintf(stderr, ...)` then blocks the only thread: the server stops
 * serving, and cannot even stop. errlog_printf() writes a line only when
 * the descriptor can take it now; otherwise the line is lost, and the next
 * line that does get through says how many were.
 */
#ifndef ERRLOG_H
#define ERRLOG_H

/** @brief Longest line written, in bytes, newline included; longer lines
 *         are cut (the drop count, when there is one, comes on top). */
#define ERRLOG_LINE_MAX 256

/** @brief A log on one descriptor. Caller storage, initialised with
 *         ERRLOG_INIT(); it owns nothing, and the descriptor stays the
 *         caller's. Not thread-safe: one thread logs through it. */
typedef struct errlog {
    int fd;                /**< where the lines go, usually STDERR_FILENO */
    unsigned long dropped; /**< lines lost since the last one written */
} errlog_t;

/** @brief Initialiser for an errlog_t writing to descriptor @p fd. */
#define ERRLOG_INIT(fd) {(fd), 0}

/**
 * @brief Format one line and write it if @p log's descriptor can take it
 *        now, without waiting; otherwise drop it and count it.
 *
 * The line is written with one write() call and a newline is added. If
 * lines were dropped before, a line `[N log lines dropped: stderr could
 * not take them]` goes out first, in the same write().
 *
 * @param log the log; its descriptor is never made non-blocking, because
 *        that flag would be shared with every other process writing to
 *        the same terminal or pipe. A pipe whose reader has gone is seen
 *        by poll() and not written to; a socket in that state raises
 *        SIGPIPE on write(), so a program logging to one ignores SIGPIPE
 *        (the echo server does).
 * @param fmt printf() format, without the newline.
 * @return 1 if the line was written, 0 if it was dropped.
 */
int errlog_printf(errlog_t *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
