/* Exercise 01-idle-timeout: your answer. See EXERCISE.md. */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    /* ---- TODO(exercise) -----------------------------------------------
     * As it stands, a client that sends nothing blocks this call for ever.
     * ------------------------------------------------------------------- */
    (void)idle_ms;
    return echo_serve(fd);
}
