/*
 * uring-gate.c - runs an exercise command only where io_uring works.
 *
 * Every exercise of this chapter submits operations to an io_uring. Where
 * the kernel refuses it (too old, kernel.io_uring_disabled, a container's
 * seccomp profile), every test would skip and the checks of `make test`
 * (the solution passes, the starter fails) would mean nothing. So the
 * Makefile runs exercises/check.py through this gate:
 *
 *     uring-gate COMMAND [ARG...]
 *
 * It attaches a proactor to a loop, as every test does. If that works, it
 * becomes COMMAND (execvp). If not, it says why in one line and exits: 0,
 * a skip (the board, the grades, make test's exercises-check), except for
 * `check.py run EX`, a reader asking to test an answer, which gets 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "proactor.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: uring-gate COMMAND [ARG...]\n");
        return 2;
    }
    loop_t *loop = loop_create(NULL);
    proactor_t *p = loop != NULL ? proactor_get(loop) : NULL;
    int err = errno;

    loop_destroy(loop); /* the tests make their own */
    if (p == NULL) {
        int asked_to_run = 0;

        for (int i = 1; i < argc; i++)
            asked_to_run |= strcmp(argv[i], "run") == 0;
        printf("  SKIP    exercises: they need io_uring, and %s\n",
               loop == NULL ? "no loop could be made"
                            : proactor_strerror(err));
        fflush(stdout);
        return asked_to_run ? 1 : 0;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "uring-gate: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
