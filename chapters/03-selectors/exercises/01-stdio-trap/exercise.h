/* Exercise 01-stdio-trap: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/**
 * The framing: each message is a 2-byte length, most significant byte
 * first (network byte order), then that many bytes of payload, 0 to
 * MSG_MAX of them. Payloads may hold any byte, '\0' and '\n' included.
 */
#define MSG_MAX 1000

/**
 * Called with each complete message: its payload, valid only during the
 * call, and its length (0 for an empty message).
 */
typedef void msg_cb(const char *data, size_t len, void *arg);

/** A message reader; its fields are yours to define in answer.c. */
typedef struct msg_reader msg_reader_t;

/**
 * Start reading messages from @p fd.
 * @param fd a pipe or stream socket, blocking or not, that a selector
 *        watches; it stays the caller's (never closed here).
 * @return the reader, or NULL with errno ENOMEM.
 */
msg_reader_t *msg_reader_create(int fd);

/**
 * The selector reported the descriptor readable: make exactly one read()
 * call on it (so that a blocking descriptor cannot block; only a read()
 * that a signal interrupted, EINTR, is made again), then call
 * @p cb, in order, for every message whose last byte has now arrived.
 * Bytes of a message not yet complete are kept for the next call.
 *
 * @return 1: keep watching (also when read() failed with EAGAIN);
 *         0: end of input, reached between two messages;
 *         -1 with errno set: EPROTO when input ended inside a message,
 *         EMSGSIZE when a length over MSG_MAX arrived, or read()'s errno.
 */
int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg);

/** Free the reader (not its descriptor). NULL is allowed. */
void msg_reader_destroy(msg_reader_t *r);

#endif
