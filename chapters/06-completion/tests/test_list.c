/*
 * test_list.c - list.h, the chapter's one intrusive list: adding,
 * unlinking, moving one link and splicing whole lists keep every link's
 * neighbours right, in order, both ways round.
 */
#include "list.h"

#include <criterion/criterion.h>

typedef struct item {
    int id;
    list_t link;
} item_t;

/* The ids of @p l front to back, checked against the walk back to front
 * (a broken prev pointer shows there); returns how many. */
static int ids_of(const list_t *l, int *out, int max)
{
    int n = 0;

    for (const list_t *p = l->next; p != l; p = p->next) {
        cr_assert_lt(n, max, "the list does not end");
        cr_assert_eq(p->next->prev, p, "a next link's prev is wrong");
        out[n++] = LIST_ENTRY(p, const item_t, link)->id;
    }
    int k = n;
    for (const list_t *p = l->prev; p != l; p = p->prev) {
        cr_assert_gt(k, 0);
        cr_assert_eq(LIST_ENTRY(p, const item_t, link)->id, out[--k],
                     "walked backwards, the order differs");
    }
    cr_assert_eq(k, 0);
    return n;
}

static void expect(const list_t *l, const int *want, int n)
{
    int got[16];

    cr_assert_eq(ids_of(l, got, 16), n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "position %d: %d, want %d", i, got[i],
                     want[i]);
    cr_assert_eq(list_empty(l), n == 0);
}

Test(list, move_tail_takes_a_link_from_one_list_to_the_end_of_another)
{
    item_t it[4];
    list_t a, b;

    list_init(&a);
    list_init(&b);
    for (int i = 0; i < 4; i++) {
        it[i].id = i;
        list_add_tail(i < 3 ? &a : &b, &it[i].link);
    }
    list_move_tail(&b, &it[1].link);         /* from the middle */
    expect(&a, (int[]){0, 2}, 2);
    expect(&b, (int[]){3, 1}, 2);
    list_move_tail(&b, &it[0].link);         /* the last one out of a's */
    list_move_tail(&b, &it[2].link);
    expect(&a, NULL, 0);
    expect(&b, (int[]){3, 1, 0, 2}, 4);
    list_move_tail(&b, &it[3].link);         /* within the same list */
    expect(&b, (int[]){1, 0, 2, 3}, 4);
    cr_assert(list_linked(&it[3].link));
}

Test(list, splice_tail_moves_a_whole_list_in_order_and_empties_it)
{
    item_t it[5];
    list_t a, b;

    list_init(&a);
    list_init(&b);
    for (int i = 0; i < 5; i++) {
        it[i].id = i;
        list_add_tail(i < 2 ? &a : &b, &it[i].link);
    }
    list_splice_tail(&a, &b);
    expect(&a, (int[]){0, 1, 2, 3, 4}, 5);
    expect(&b, NULL, 0);
    list_splice_tail(&a, &b);                /* an empty one: no change */
    expect(&a, (int[]){0, 1, 2, 3, 4}, 5);
    list_splice_tail(&b, &a);                /* into an empty one */
    expect(&b, (int[]){0, 1, 2, 3, 4}, 5);
    expect(&a, NULL, 0);
    list_unlink(&it[4].link);                /* the moved links still work */
    list_unlink(&it[0].link);
    expect(&b, (int[]){1, 2, 3}, 3);
    cr_assert_not(list_linked(&it[0].link));
}
