/* Changed files applied by a background thread (option refresh). */
#ifndef CR_REFRESH_H
#define CR_REFRESH_H
#include "certrole.h"

/* At open: the thread's lock and condition, and the fork handler. */
int cr_refresh_init(certrole_ctx *ctx);

/* On the verification path when the configuration asks for refresh:
 * starts this process's thread unless it runs. Cheap when it does. */
void cr_refresh_start(certrole_ctx *ctx);

/* At close: stops and joins the thread this process started. */
void cr_refresh_stop(certrole_ctx *ctx);
#endif
