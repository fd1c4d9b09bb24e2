/* Exercise 02-edge-triggered: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/** The most bytes one read() call may ask for. */
#define DRAIN_CHUNK 4096

/** Where the bytes read go: the caller's storage. */
typedef struct drain_sink {
    char *data;  /**< caller's storage */
    size_t len;  /**< bytes stored so far; the answer appends after them */
    size_t cap;  /**< room in @c data */
    int eof;     /**< set to 1 once the descriptor reached end of file */
} drain_sink_t;

/**
 * Edge-triggered epoll (EPOLLIN | EPOLLET) said @p fd became readable.
 *
 * After this call returns 0, every byte the descriptor held is in
 * @p sink (appended in order), or @c sink->eof is set: no further event
 * will be reported for bytes that were already there when it was called.
 *
 * @param fd a non-blocking descriptor (pipe or stream socket).
 * @param sink where the bytes go.
 * @return 0 on success; -1 with errno set: ENOBUFS when the sink is full
 *         while bytes may still be waiting (the sink then holds as many as
 *         fit, and @c eof stays 0); any other errno from a failed read().
 *         A signal arriving during a read() is not a failure.
 * @note Each read() asks for at least 1 and at most DRAIN_CHUNK bytes.
 */
int drain_on_readable(int fd, drain_sink_t *sink);

#endif
