/**
 * @file coro.h
 * @brief Stackless coroutines in plain C: a frame on the heap, a resume
 *        point, and a handful of macros (Simon Tatham's and protothreads'
 *        switch trick).
 *
 * Python runs a generator's frame on the heap: the frame outlives the call
 * that suspended it, so the generator can be resumed later with send().
 * C frames live on the stack and die with the call, so here the frame is
 * written out by hand: a struct that starts with a coro_t and holds every
 * local that must survive a suspension. The body is an ordinary function
 * that takes that struct; a `switch` on the saved resume point jumps back
 * to where the body left off.
 *
 * @code
 * typedef struct countdown { coro_t co; int n; } countdown_t;
 *
 * static int countdown_body(coro_t *co)
 * {
 *     countdown_t *f = (countdown_t *)co;
 *     CORO_BEGIN(co);
 *     while (f->n > 0) {
 *         CORO_YIELD(co, &f->n);     // like `yield n`
 *         f->n--;
 *     }
 *     CORO_RETURN(co, "lift-off");   // like `return "lift-off"`
 *     CORO_END(co);
 * }
 * @endcode
 *
 * ## Ground rules (break one and the compiler will not always tell you)
 *
 * 1. **Locals do not survive a suspension.** A variable declared inside the
 *    body is garbage after CORO_YIELD / CORO_AWAIT_CORO (the function
 *    returned in between). Everything that must live across one goes into
 *    the frame struct.
 * 2. **At most one suspension per source line**: the line number is the
 *    resume point.
 * 3. **No suspension inside a `switch` of your own** in the body: its
 *    `case` labels would capture the jump. It compiles without a warning;
 *    on resumption the outer switch finds no case for the saved line and
 *    falls out to CORO_END, so the coroutine returns NULL and silently skips
 *    the rest of its body. Use `if` / `else if`.
 * 4. **Only the body suspends.** A helper function the body calls cannot
 *    suspend on the body's behalf; make the helper a coroutine too and
 *    await it with CORO_AWAIT_CORO (that is what `yield from` / `await`
 *    does in Python).
 * 5. **Leave through CORO_RETURN, CORO_FAIL or CORO_END**, never a bare
 *    `return`.
 * 6. **Errors travel up by themselves.** An error that arrives at a
 *    suspension point (a failed or cancelled Future, a failed
 *    sub-coroutine, ECANCELED when the Task is cancelled) fails the
 *    coroutine right there with the same code, and its caller with it, up
 *    to the Task, which ends with that error (cancelled, for ECANCELED):
 *    Python's exception propagation. Code that must act on an error (undo,
 *    release, retry, or look at which one it was) uses the `_CATCH` form
 *    of that suspension (CORO_YIELD_CATCH, CORO_AWAIT_CORO_CATCH,
 *    AWAIT_CATCH), tests `co->err`, and re-raises with CORO_FAIL(co,
 *    co->err) what it does not handle. Holding something across a plain
 *    await (a Lock, a buffer) leaks it when the await raises: that await
 *    wants the `_CATCH` form.
 *
 * Stackful coroutines (greenlet, swapcontext, minicoro) give each coroutine
 * its own stack and lift rules 1, 3 and 4, at the price of kilobytes per
 * coroutine and a register-saving switch; CHAPTER.md compares the two.
 */
#ifndef CORO_H
#define CORO_H

#include <stddef.h>

/** @brief What coro_resume() reports. */
typedef enum coro_status {
    CORO_YIELDED,  /**< suspended; coro_t::out of the outermost frame is
                        what the innermost frame yielded */
    CORO_RETURNED, /**< finished; coro_t::out and coro_t::err of the
                        outermost frame are its return value and error */
} coro_status_t;

/** @brief What a body returns to coro_resume(); written by the macros. */
enum coro_step {
    CORO_STEP_YIELD = 1, /**< CORO_YIELD: hand coro_t::out to the driver */
    CORO_STEP_CALL,      /**< CORO_AWAIT_CORO: run the frame in coro_t::out */
    CORO_STEP_RETURN,    /**< CORO_RETURN / CORO_FAIL / CORO_END */
};

/** @brief A coroutine frame's head; see struct coro. */
typedef struct coro coro_t;

/**
 * @brief A coroutine body.
 * @param co the frame (the coro_t at the start of the body's frame struct).
 * @return one of ::coro_step; the macros write the return statements.
 */
typedef int coro_fn(coro_t *co);

/**
 * @brief The head of every frame: the resume point and the values passed
 *        in and out. Put it first in the frame struct.
 *
 * Storage: the frame is the caller's (inside a task's allocation, inside
 * the frame of the coroutine that awaits it, or anywhere else). Nothing
 * here allocates.
 */
struct coro {
    coro_fn *fn;     /**< the body */
    int resume;      /**< 0 before the first run, the line to resume at,
                          or -1 once finished */
    int err;         /**< error sent in at the last resumption (0 = none);
                          once finished, the error it returned */
    coro_t *caller;  /**< the frame awaiting this one, NULL if outermost */
    coro_t *top;     /**< outermost frame only: the innermost suspended
                          frame, where the next resumption goes (NULL =
                          the outermost itself) */
    void *in;        /**< value sent in at the last resumption; after a
                          CORO_AWAIT_CORO, the sub-coroutine's result */
    void *out;       /**< what the body yielded, or its return value */
};

/**
 * @brief Prepare a frame to run @p fn from the start.
 * @param co the frame's head.
 * @param fn the body.
 */
void coro_init(coro_t *co, coro_fn *fn);

/**
 * @brief Run @p co until it suspends or finishes: Python's `gen.send()`
 *        (and `gen.throw()` when @p err is not 0).
 *
 * The value goes to the innermost suspended frame, as `yield from` passes
 * send() through to the sub-generator. When a sub-coroutine finishes, its
 * caller resumes at once with the return value in coro_t::in and the error
 * in coro_t::err, without coming back out here (and a caller suspended in
 * a plain, non-catching form fails in turn with that error: ground rule
 * 6). What the innermost frame yields comes out in @p co->out.
 *
 * @param co the outermost frame, initialised and not finished.
 * @param in the value the pending CORO_YIELD evaluates to (ignored on the
 *        first run, like the None of the first send()).
 * @param err an error to deliver at the suspension point, or 0.
 * @return CORO_YIELDED or CORO_RETURNED.
 */
coro_status_t coro_resume(coro_t *co, void *in, int err);

/**
 * @brief Whether a frame has finished.
 * @param co a frame.
 * @return 1 once it returned, else 0.
 */
int coro_finished(const coro_t *co);

/**
 * @brief Start the body: the `switch` that jumps to the resume point.
 *        First statement of the body. Opens a block that CORO_END closes.
 */
#define CORO_BEGIN(co) switch ((co)->resume) { case 0:

/* [coro-macros] */
/**
 * @brief The shared part of every suspension macro (internal): store what
 *        to hand out, the resume point, and return @p step to the driver.
 *
 * Every suspension point comes in two forms. The plain one raises: if an
 * error arrives there (thrown in, or the awaited sub-coroutine failed), the
 * coroutine fails with that same error at once, and so do the frames that
 * await it, up to the Task. The _CATCH one hands the error to the body in
 * `co->err`: it is Python's `try: ... except`, for code that cleans up,
 * retries or inspects the error.
 */
/** @brief The suspension itself, shared by every form: hand @p value out,
 *         remember this line, return @p step; resumption jumps back here. */
#define CORO_SUSPEND_(co, value, step)                                      \
        (co)->out = (value);                                                \
        (co)->resume = __LINE__;                                            \
        return (step);                                                      \
    case __LINE__:;

/** @brief Re-raise the error that arrived at a suspension point. */
#define CORO_RAISE_(co)                                                     \
        do {                                                                \
            if ((co)->err)                                                  \
                CORO_FAIL(co, (co)->err);                                   \
        } while (0)

/**
 * @brief Suspend, handing @p value out (`x = yield value`). When resumed,
 *        the value sent in is in `co->in`; an error thrown in fails this
 *        coroutine with that error (like an exception raised at `yield`).
 */
#define CORO_YIELD(co, value)                                               \
    do {                                                                    \
        CORO_SUSPEND_(co, value, CORO_STEP_YIELD);                          \
        CORO_RAISE_(co);                                                    \
    } while (0)

/**
 * @brief CORO_YIELD that catches: an error thrown in is left in `co->err`
 *        for the body to handle (0 when none came).
 */
#define CORO_YIELD_CATCH(co, value)                                         \
    do {                                                                    \
        CORO_SUSPEND_(co, value, CORO_STEP_YIELD);                          \
    } while (0)

/**
 * @brief Run the sub-coroutine @p sub (an initialised frame, usually a
 *        member of this frame) to its end: Python's `yield from sub` /
 *        `await sub`. What it yields goes straight out to whoever resumes
 *        the outermost frame; when it returns, its value is in `co->in`.
 *        If it failed, this coroutine fails with the same error.
 */
#define CORO_AWAIT_CORO(co, sub)                                            \
    do {                                                                    \
        CORO_SUSPEND_(co, sub, CORO_STEP_CALL);                             \
        CORO_RAISE_(co);                                                    \
    } while (0)

/**
 * @brief CORO_AWAIT_CORO that catches: the sub-coroutine's error is left
 *        in `co->err` (0 if it returned a value, then in `co->in`).
 */
#define CORO_AWAIT_CORO_CATCH(co, sub)                                      \
    do {                                                                    \
        CORO_SUSPEND_(co, sub, CORO_STEP_CALL);                             \
    } while (0)
/* [coro-macros] */

/** @brief Finish with a value and no error (`return value`). */
#define CORO_RETURN(co, value)                                              \
    do {                                                                    \
        (co)->out = (value);                                                \
        (co)->err = 0;                                                      \
        (co)->resume = -1;                                                  \
        return CORO_STEP_RETURN;                                            \
    } while (0)

/** @brief Finish with an error, an errno-style code (`raise`). */
#define CORO_FAIL(co, error)                                                \
    do {                                                                    \
        (co)->out = NULL;                                                   \
        (co)->err = (error);                                                \
        (co)->resume = -1;                                                  \
        return CORO_STEP_RETURN;                                            \
    } while (0)

/** @brief End of the body: falling off it returns NULL, like Python. */
#define CORO_END(co)                                                        \
    }                                                                       \
    (co)->out = NULL;                                                       \
    (co)->err = 0;                                                          \
    (co)->resume = -1;                                                      \
    return CORO_STEP_RETURN

/**
 * @brief Suspend a step function written without CORO_BEGIN (a wrapper
 *        that runs around another body and keeps its own state), handing
 *        @p value out as CORO_YIELD would: `return coro_suspend(co, f);`.
 *
 * The frame is marked suspended, not finished, so its driver resumes it
 * (a Task awaits @p value when it is a Future). No resume point is
 * stored: on resumption the function is called from its top and must
 * tell from its own state where it was.
 *
 * @param co the frame, not finished.
 * @param value what the driver gets in coro_t::out.
 * @return ::CORO_STEP_YIELD, for the step function to return.
 */
static inline int coro_suspend(coro_t *co, void *value)
{
    co->out = value;
    co->resume = 1; /* not 0 (never run) nor -1 (finished): suspended */
    return CORO_STEP_YIELD;
}

#endif
