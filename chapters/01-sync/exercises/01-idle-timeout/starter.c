/* Exercise 01-idle-timeout: your answer. See EXERCISE.md. */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    /* ---- TODO(exercise): your code here --------------------------------
     * Make recv() give up after idle_ms without data, then report that as
     * ETIMEDOUT. As it stands, an idle client blocks this call forever.
     * ------------------------------------------------------------------- */
    (void)idle_ms;
    return echo_serve(fd);
}
