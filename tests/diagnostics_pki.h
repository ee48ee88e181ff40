/* Extra certificates for check_diagnostics (diagnostics_pki.c). */
#ifndef CERTROLE_TESTS_DIAGNOSTICS_PKI_H
#define CERTROLE_TESTS_DIAGNOSTICS_PKI_H

/* Makes them in a fresh scratch directory, before the suite runs (exits
 * on failure); diag_pki_remove deletes it afterwards. */
void diag_pki_make(void);
void diag_pki_remove(void);
/* Path of one of them (a small rotating pool, like tu_pki). */
const char *diag_pki(const char *name);
/* The contents of up to three files (full paths; b and c may be NULL),
 * concatenated, malloc'd. Inside a test only. */
char *diag_cat(const char *a, const char *b, const char *c);
#endif
