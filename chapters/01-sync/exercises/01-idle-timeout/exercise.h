/* Exercise 01-idle-timeout: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

/**
 * Echo like echo_serve(), but give up on a client that sends nothing for
 * @p idle_ms milliseconds (idle_ms > 0): return -1 with errno set to
 * ETIMEDOUT.
 * A client that keeps talking, however long in total, is served to the end
 * (return 0, as echo_serve() does). Other errors are returned as echo_serve()
 * returns them.
 */
int echo_serve_with_timeout(int fd, int idle_ms);

#endif
