/* Policy tokenizer (see policy_lex.h). */
#define _GNU_SOURCE
#include "policy_lex.h"
#include <stdlib.h>
#include <string.h>

int cr_lex_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

size_t cr_lex_continuation(const struct cr_lexer *lx)
{
    const char *s = lx->s;
    if (s < lx->end && *s == '\\') {
        if (s + 1 < lx->end && s[1] == '\n')
            return 2;
        if (s + 2 < lx->end && s[1] == '\r' && s[2] == '\n')
            return 3;
    }
    return 0;
}

struct token_buf { char *s; size_t len, cap; int failed; };

static void tb_put(struct token_buf *t, char c)
{
    if (t->failed)
        return;
    if (t->len + 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char *n = realloc(t->s, cap);
        if (!n) {
            t->failed = 1;
            return;
        }
        t->s = n;
        t->cap = cap;
    }
    t->s[t->len++] = c;
    t->s[t->len] = '\0';
}

/* Notes the first '=' of the word (quoted or not) as the key/value split. */
static void mark_eq(struct cr_lexer *lx, struct cr_parg *arg, long *eq, size_t at)
{
    if (*eq < 0) {
        *eq = (long)at;
        arg->vcol = lx->col + 1;
    }
}

int cr_lex_word(struct cr_lexer *lx, struct cr_parg *arg, int *eline, int *ecol)
{
    struct token_buf tb = { 0 };
    long eq = -1;
    arg->line = lx->line;
    arg->col = lx->col;
    arg->vcol = lx->col;
    while (lx->s < lx->end) {
        char c = *lx->s;
        if (cr_lex_is_blank(c) || c == '\n' || cr_lex_continuation(lx))
            break;
        if (c == '"') {
            int ql = lx->line, qc = lx->col;
            lx->s++; lx->col++;
            for (;;) {
                if (lx->s >= lx->end || *lx->s == '\n') {
                    free(tb.s);
                    *eline = ql;
                    *ecol = qc;
                    return -1;
                }
                c = *lx->s;
                if (c == '"') {
                    lx->s++; lx->col++;
                    break;
                }
                if (c == '\\' && lx->s + 1 < lx->end &&
                    (lx->s[1] == '"' || lx->s[1] == '\\')) {
                    tb_put(&tb, lx->s[1]);
                    lx->s += 2; lx->col += 2;
                    continue;
                }
                if (c == '=')
                    mark_eq(lx, arg, &eq, tb.len);
                tb_put(&tb, c);
                lx->s++; lx->col++;
            }
            continue;
        }
        if (c == '=')
            mark_eq(lx, arg, &eq, tb.len);
        tb_put(&tb, c);
        lx->s++; lx->col++;
    }
    if (!tb.s && !tb.failed)
        tb_put(&tb, '\0');   /* "" is a valid (empty) word */
    if (tb.failed) {
        free(tb.s);
        return -2;
    }
    arg->text = tb.s;
    if (eq > 0) {
        arg->key = strndup(tb.s, (size_t)eq);
        arg->value = strdup(tb.s + eq + 1);
        if (!arg->key || !arg->value)
            return -2;
    } else {
        arg->key = NULL;
        arg->value = arg->text;
    }
    return 0;
}
