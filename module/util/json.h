/* A tiny JSON writer on top of cr_strbuf: strings escaped per RFC 8259
 * (quotes, backslash, control characters), invalid UTF-8 replaced by
 * U+FFFD so the output is always valid JSON. */
#ifndef CR_JSON_H
#define CR_JSON_H
#include <stddef.h>
#include "strbuf.h"

/* Appends s as a quoted JSON string; NULL appends null. */
void cr_json_string(cr_strbuf *b, const char *s);
/* Same for n bytes (may contain NUL, emitted as \u0000). */
void cr_json_stringn(cr_strbuf *b, const char *s, size_t n);
/* Appends "key": (with a leading comma unless *first; clears *first). */
void cr_json_key(cr_strbuf *b, int *first, const char *key);
#endif
