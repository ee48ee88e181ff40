/* Default texts per code (errors.c); specific messages come from diagnose.c. */
#ifndef CR_ERRORS_H
#define CR_ERRORS_H
#include "certrole.h"
/* The generic one-line hint for a code; static, never NULL. */
const char *cr_default_hint(certrole_code code);
#endif
