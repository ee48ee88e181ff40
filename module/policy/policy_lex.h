/* The policy tokenizer: words, double quotes, escapes, continuations.
 * Rules (certrole-policy(5)): blanks separate words; double quotes group,
 * and inside them \" and \\ are escapes while any other backslash stays
 * (so RFC 4514 escapes such as "CN=Smith\, John" survive); a backslash
 * before the end of a line joins the next line. */
#ifndef CR_POLICY_LEX_H
#define CR_POLICY_LEX_H
#include <stddef.h>
#include "policy.h"

struct cr_lexer {
    const char *s, *end;   /* current position, end of text */
    int line, col;         /* 1-based position of s */
};

int cr_lex_is_blank(char c);
/* Length of a backslash-newline at lx->s (outside quotes), or 0. */
size_t cr_lex_continuation(const struct cr_lexer *lx);
/* Reads the word at lx->s into arg (text, key and value split at the first
 * '=', positions). Returns 0; -1 on an unterminated quote (*eline, *ecol =
 * the opening quote); -2 on no memory. On error arg holds nothing to free
 * beyond what cr_parg's fields point to (possibly NULL). */
int cr_lex_word(struct cr_lexer *lx, struct cr_parg *arg, int *eline, int *ecol);
#endif
