/*
 * orphans.c - chapter 05: why task_create() alone loses work and errors.
 *
 * The main coroutine starts two jobs: one fails after 0.1 s, one needs
 * 0.3 s. Started with task_create(), they belong to nobody: the main
 * coroutine cannot tell that one failed, returns at 0.2 s as if all were
 * well, and run() then cancels the slow one, whose work is lost; the
 * program exits 0. With --group they are children of a task group: the
 * failure cancels the other child at once, the group fails with it, and
 * so does the program. With --timeout the main coroutine waits for the
 * group inside a timeout scope of 0.05 s, which expires first: both
 * children are cancelled and the scope reports ETIMEDOUT, its own expiry
 * told apart from a cancellation. CHAPTER.md shows the three runs.
 */
#include "proactor.h" /* chapter 06 */
#include "run.h"
#include "sleep.h"
#include "taskgroup.h"
#include "timeout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* [orphans-job] */
typedef struct job {
    coro_t co;
    double seconds;   /* how long its work takes */
    int fails;        /* it ends with EPIPE instead */
    sleeper_t work;
} job_t;

static int job_body(coro_t *co)
{
    job_t *f = (job_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->work, f->seconds));
    if (co->err == ECANCELED) {
        printf("%s: cancelled before its work was done\n",
               f->fails ? "failing" : "slow");
        CORO_FAIL(co, co->err);
    }
    if (f->fails)
        CORO_FAIL(co, EPIPE);
    printf("slow: done\n");
    CORO_END(co);
}
/* [orphans-job] */

typedef struct main_frame {
    coro_t co;
    int grouped;          /* --group or --timeout */
    double timeout_s;     /* --timeout: 0.05, else 0 (none) */
    int in_scope;         /* the timeout scope was entered */
    task_group_t group;
    timeout_scope_t scope;
    sleeper_t own_work;
} main_frame_t;

/* Start a job, loose or in the group, and fill its frame. */
static int start_job(main_frame_t *f, const char *name, double seconds,
                     int fails)
{
    job_t *j;
    task_t *t;

    if (f->grouped)
        t = task_group_create_task(&f->group, job_body, sizeof *j,
                                   (void **)&j);
    else
        t = task_create(running_loop(), job_body, sizeof *j, (void **)&j);
    if (t == NULL)
        return -1;
    task_set_name(t, name);
    j->seconds = seconds;
    j->fails = fails;
    if (!f->grouped)
        task_release(t);  /* ours goes; the loop keeps one while it runs */
    return 0;
}

/* [orphans-main] */
static int main_body(coro_t *co)
{
    main_frame_t *f = (main_frame_t *)co;

    CORO_BEGIN(co);
    if (f->grouped)
        task_group_init(&f->group, running_loop());
    if (start_job(f, "failing", 0.1, 1) != 0 ||
        start_job(f, "slow", 0.3, 0) != 0) {
        if (!f->grouped)
            CORO_FAIL(co, errno);
        task_group_abort(&f->group, errno);
    }
    if (!f->grouped) {                  /* loose: do our own work, return */
        AWAIT(co, sleep_start(&f->own_work, 0.2));
        printf("main: my work is done, returning success\n");
        CORO_RETURN(co, NULL);
    }
    if (f->timeout_s > 0) {             /* the wait, with a deadline */
        if (timeout_enter(&f->scope, f->timeout_s) == 0)
            f->in_scope = 1;
        else
            task_group_abort(&f->group, errno);
    }
    AWAIT_CATCH(co, task_group_wait(&f->group));  /* grouped: wait */
    if (f->in_scope)
        co->err = timeout_exit(&f->scope, co->err); /* ETIMEDOUT if ours */
    printf("main: the group ended: %s (%zu failed)\n",
           co->err ? strerror(co->err) : "no error",
           task_group_failures(&f->group));
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}
/* [orphans-main] */

static int setup(void *frame, executor_t *executor, void *arg)
{
    main_frame_t *f = frame;

    (void)executor;
    f->timeout_s = *(double *)arg;
    f->grouped = f->timeout_s >= 0;
    if (f->timeout_s < 0)
        f->timeout_s = 0;
    return 0;
}

int main(int argc, char **argv)
{
    double timeout_s = -1;   /* -1: loose; 0: a group; > 0: and a scope */
    int err = 0;

    if (argc == 2 && strcmp(argv[1], "--group") == 0)
        timeout_s = 0;
    else if (argc == 2 && strcmp(argv[1], "--timeout") == 0)
        timeout_s = 0.05;
    else if (argc != 1) {
        fprintf(stderr, "usage: orphans [--group | --timeout]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (run(main_body, sizeof(main_frame_t), setup, &timeout_s, NULL, NULL,
            &err) != FUTURE_OK) {
        fprintf(stderr, "orphans: %s\n",
                proactor_strerror(err)); /* chapter 06 */
        return 1;
    }
    return 0;
}
