/* Shared pieces of the conformance runners (check_pkits, check_limbo,
 * check_dn_vectors): a small JSON reader for the test data, the
 * expected-disagreement lists, the agree/disagree tally and table, and
 * helpers to open a context from policy text and verify a chain.
 * Test code only; single-threaded (the suites run without fork so the
 * tally sees every case). */
#ifndef CERTROLE_CONF_UTIL_H
#define CERTROLE_CONF_UTIL_H
#include <stddef.h>
#include <check.h>
#include <openssl/x509.h>
#include "certrole.h"

/* ----- JSON (RFC 8259) --------------------------------------------------- */

enum cj_type { CJ_NULL, CJ_BOOL, CJ_NUM, CJ_STR, CJ_ARR, CJ_OBJ };

/* One JSON value. Strings are UTF-8, NUL-terminated (slen excludes the
 * NUL; a "\u0000" inside makes slen > strlen). Arrays: n items; objects:
 * n items with keys[i] naming items[i], in document order. */
struct cj {
    enum cj_type type;
    int b;              /* CJ_BOOL */
    double num;         /* CJ_NUM */
    char *str;          /* CJ_STR */
    size_t slen;
    size_t n;           /* CJ_ARR, CJ_OBJ */
    struct cj **items;
    char **keys;        /* CJ_OBJ */
};

/* Parses a whole document (trailing blanks only). NULL on error with a
 * message "byte N: ..." in err. */
struct cj *cj_parse(const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses a file. NULL on error (message in err). */
struct cj *cj_parse_file(const char *path, char *err, size_t errlen);
void cj_free(struct cj *v);
/* Member of an object (last one if repeated), or NULL. */
const struct cj *cj_get(const struct cj *obj, const char *key);
/* String value or NULL when v is absent or not a string. */
const char *cj_str(const struct cj *v);
/* Array length (0 when not an array) and element (NULL out of range). */
size_t cj_len(const struct cj *v);
const struct cj *cj_at(const struct cj *v, size_t i);
/* 1 only for JSON true. */
int cj_true(const struct cj *v);

/* ----- data, expectations, tally --------------------------------------- */

/* printf into a malloc'd string; exits 99 (hard error) on no memory.
 * Unlike the Check-based helpers it may be used outside a test (main). */
char *conf_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A private temporary directory (malloc'd path; exits 99 on failure) and
 * its removal. */
char *conf_mkdtemp(const char *tag);
void conf_rmrf(const char *dir);

/* $CERTROLE_CONFORMANCE/rel (rotating pool, copy to keep). When the data
 * directory is not there, prints the SKIP line and exits 77. */
const char *conf_data(const char *rel);
/* Exits 77 with the SKIP line unless the conformance data is present. */
void conf_require_data(void);

/* An expected-disagreement list: lines "id  reason", '#' comments. */
struct conf_expect;
/* Loads tests/conformance/<name> from $CERTROLE_SRCDIR. A missing file is
 * an empty list. NULL only on no memory. */
struct conf_expect *conf_expect_load(const char *name);
/* Reason the id is listed for, or NULL. Marks the entry as used. */
const char *conf_expect_reason(struct conf_expect *e, const char *id);
/* Prints entries never looked up (stale ids) and returns their number. */
int conf_expect_unused(const struct conf_expect *e);
void conf_expect_free(struct conf_expect *e);

/* Counts for one table row. */
struct conf_tally {
    const char *suite;
    int cases, agree, disagree_expected, disagree_new, not_applicable, now_agree;
};

enum conf_outcome { CONF_AGREE, CONF_DISAGREE, CONF_NA };

/* Records one case: prints a line for anything other than a plain
 * agreement. Returns 1 when the case disagrees and is not on the
 * expected list (the caller then fails its Check test, after freeing
 * what it holds), else 0. 'detail' says what we did ("our code: expired"). */
int conf_record(struct conf_tally *t, struct conf_expect *e, const char *id,
                enum conf_outcome o, const char *detail);

/* Runs the suite without forking (so the tallies add up in this
 * process), then prints the table of the given rows. Returns
 * EXIT_SUCCESS / EXIT_FAILURE for main(). */
int conf_run(Suite *s, struct conf_tally *const *rows, size_t nrows);

/* ----- driving the library ---------------------------------------------- */

/* Appends 'key="value"' (policy quoting: \" and \\ escaped) to a
 * malloc'd policy line *line (which may be NULL). */
void conf_policy_add(char **line, const char *key, const char *value);

/* Opens a context from policy text with logging silenced. Returns the
 * open code; *errmsg (malloc'd, may be NULL) on failure. */
certrole_code conf_open(certrole_ctx **ctx, const char *policy, char **errmsg);

/* Verifies leaf + untrusted and returns certrole_result_code (the
 * chain-level outcome when the policy has no realm). *msg (if not NULL)
 * gets a malloc'd copy of the result message. */
certrole_code conf_verify(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
                          char **msg);

/* Reads every certificate of a PEM string / the one of a DER file.
 * NULL on error. */
STACK_OF(X509) *conf_pem_certs(const char *pem);
X509 *conf_der_cert_file(const char *path);
/* Writes certificates as PEM to path (appending when append != 0).
 * 0 ok, -1 error. */
int conf_write_pem(const char *path, X509 *const *certs, size_t n, int append);
#endif
