/* Exercise 04-kv-server: the entry point the tests call. Everything behind
 * it is yours to design. */
#ifndef EXERCISE_H
#define EXERCISE_H

/** @brief Longest request line in bytes, not counting its line end. */
#define KV_LINE_MAX 256

/** @brief Longest key in bytes. */
#define KV_KEY_MAX 32

/** @brief Most keys the store holds at once. */
#define KV_KEYS_MAX 64

/**
 * @brief Serve a key-value store over a line protocol, one client at a time.
 *
 * Accepts connections on @p listen_fd and serves each to its end before
 * accepting the next, until @p clients connections have been served; then
 * returns. The store lives as long as the call: what one client sets, the
 * next one gets.
 *
 * Every request is one line ending in "\n" (a "\r" just before it is
 * ignored) and gets exactly one reply line, ending in "\n" alone, in order:
 *
 * | request              | reply                                         |
 * |----------------------|-----------------------------------------------|
 * | `SET <key> <value>`  | `OK`, or `ERROR <why>` if the store is full   |
 * | `GET <key>`          | `VALUE <value>`, or `MISSING`                 |
 * | `DEL <key>`          | `OK`, or `MISSING`                            |
 * | `QUIT`               | `BYE`, then the connection is closed          |
 * | anything else        | `ERROR <why>`; the connection goes on         |
 *
 * A key is 1 to KV_KEY_MAX bytes without a space (a longer one is an
 * error, never cut short); a value is everything after the space that
 * follows the key, spaces included. GET and DEL take a key and nothing
 * more. A line longer than KV_LINE_MAX bytes gets one `ERROR <why>` reply
 * and is otherwise skipped; the connection goes on. A client may send many
 * requests in one piece or one request in many pieces. A client that hangs
 * up, even in the middle of a line, ends its connection, never the server.
 *
 * @param listen_fd a listening, blocking TCP socket; the caller keeps
 *        ownership.
 * @param clients how many connections to serve before returning.
 * @return 0 after serving @p clients connections; -1 with errno set if
 *         accept() fails for a reason other than an interruption.
 */
int kv_serve(int listen_fd, unsigned clients);

#endif
