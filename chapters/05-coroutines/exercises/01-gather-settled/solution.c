/* Exercise 01-gather-settled: a reference solution. */
#include "exercise.h"

#include <errno.h>

future_t *settled_start(settled_t *s, loop_t *loop, future_t **children,
                        size_t n, void **results, int *errors,
                        future_callback_t *records)
{
    future_init(&s->future, loop);
    s->children = children;
    s->results = results;
    s->errors = errors;
    s->records = records;
    s->n = n;
    s->left = n;
    if (n == 0) {
        future_set_result(&s->future, results);
        return &s->future;
    }
    /* A child that finished already gets its callback queued on the loop,
     * so every outcome arrives through settled_child_done(). */
    for (size_t i = 0; i < n; i++)
        future_add_done_callback(children[i], &records[i],
                                 settled_child_done, s);
    return &s->future;
}

void settled_child_done(future_t *child, void *arg)
{
    settled_t *s = arg;
    size_t i = 0;

    while (i < s->n && s->children[i] != child)
        i++;
    s->results[i] = NULL;
    s->errors[i] = 0;
    future_result(child, &s->results[i], &s->errors[i]);
    if (--s->left == 0)
        future_set_result(&s->future, s->results);
}
