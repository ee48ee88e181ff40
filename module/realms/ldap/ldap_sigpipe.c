/* SIGPIPE containment for libldap calls (ldap_sigpipe.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include "ldap_sigpipe.h"

void cr_ldap_sigpipe_block(struct cr_ldap_sigpipe *s)
{
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    s->active = pthread_sigmask(SIG_BLOCK, &pipe_only, &s->old) == 0;
    s->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

void cr_ldap_sigpipe_restore(struct cr_ldap_sigpipe *s)
{
    if (!s->active)
        return;
    if (!s->was_pending && !sigismember(&s->old, SIGPIPE)) {
        sigset_t pipe_only;
        struct timespec zero = { 0, 0 };
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        while (sigtimedwait(&pipe_only, NULL, &zero) == SIGPIPE)
            ;                       /* ours: drop it */
    }
    pthread_sigmask(SIG_SETMASK, &s->old, NULL);
    s->active = 0;
}
