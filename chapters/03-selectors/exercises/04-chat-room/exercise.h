/*
 * Exercise 04-chat-room: the entry points the tests call. Everything
 * behind them (the struct, the buffers, the loop) is yours to write, on
 * the chapter's selector (selector.h).
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/** Longest member name, in bytes, without the terminating NUL. */
#define CHAT_NAME_MAX 32

/** Longest line a client may send, in bytes, without its newline. */
#define CHAT_LINE_MAX 1024

/** Most bytes the chat may hold for one client, waiting to be sent. */
#define CHAT_OUTPUT_MAX (64 * 1024)

/** A chat room; its fields are yours to define in answer.c. */
typedef struct chat chat_t;

/**
 * Make an empty chat room.
 * @return the room, or NULL with errno set.
 */
chat_t *chat_create(void);

/**
 * Close every member's socket and free the room. Output not yet sent is
 * dropped. NULL is allowed.
 */
void chat_destroy(chat_t *chat);

/**
 * A new member joins.
 *
 * Every member already in the room is sent the line `* NAME joined`
 * (NAME being @p name); the new member is not sent it.
 *
 * @param chat the room.
 * @param fd a connected stream socket (TCP or AF_UNIX), blocking or not,
 *        for one client. On success the room owns it: it makes it
 *        non-blocking, and closes it when the member leaves or at
 *        chat_destroy(). On failure it stays the caller's.
 * @param name 1 to CHAT_NAME_MAX bytes, no newline; copied. Names are
 *        labels for the lines; keeping them unique is the caller's job.
 * @return 0; -1 with errno set: EINVAL for a bad name, ENOMEM, or what the
 *         selector reports.
 */
int chat_join(chat_t *chat, int fd, const char *name);

/**
 * Wait at most @p timeout_ms milliseconds for activity (-1: without limit,
 * 0: only look), and handle everything that is ready. Never blocks on one
 * client: a client that does not read, or sends half a line, holds up
 * nobody.
 *
 * What members are sent, each line ending in '\n':
 * - `NAME: TEXT` for every line TEXT (the bytes before a '\n') that
 *   member NAME sends, to every member except NAME, in the order NAME
 *   sent them;
 * - `* NAME left` when NAME's connection ends (end of stream, or an
 *   error reading from or sending to it); bytes after NAME's last newline
 *   are then dropped;
 * - `* NAME dropped: too slow` when NAME falls too far behind: sending
 *   NAME a line would make the bytes the room holds for it exceed
 *   CHAT_OUTPUT_MAX. NAME's socket is closed at once and its unsent
 *   output thrown away;
 * - `* NAME dropped: line too long` when NAME sends more than
 *   CHAT_LINE_MAX bytes without a newline; NAME's socket is closed.
 * A member whose connection ends or who is dropped is no longer a member,
 * and the other lines are sent to each member in the order the room made
 * them: the same order for every member. A notice is made when its member
 * goes, so one dropped while a line is being sent to everyone is announced
 * after that line.
 *
 * A client that has gone away never kills the process (no SIGPIPE).
 *
 * @return 0 (also when a client failed: that is handled as above); -1 with
 *         errno set when waiting itself failed.
 */
int chat_step(chat_t *chat, int timeout_ms);

/**
 * How far behind a member is.
 * @return the bytes the room holds for member @p name, not yet accepted by
 *         the kernel (0 to CHAT_OUTPUT_MAX); -1 when no member has that
 *         name.
 */
long chat_backlog(const chat_t *chat, const char *name);

#endif
