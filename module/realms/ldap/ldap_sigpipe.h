/* libldap writes to its sockets with write(2): a server that has closed
 * the connection (or a socket the watchdog shut down) would raise SIGPIPE
 * and kill the host process, which a library must never do. Around every
 * stretch of libldap calls the calling thread blocks SIGPIPE, and
 * discards the one it caused before unblocking (the signal a write(2)
 * raises goes to the writing thread). */
#ifndef CR_LDAP_SIGPIPE_H
#define CR_LDAP_SIGPIPE_H
#include <signal.h>

struct cr_ldap_sigpipe {
    sigset_t old;
    int was_pending;        /* a SIGPIPE pending before: not ours to eat */
    int active;
};

void cr_ldap_sigpipe_block(struct cr_ldap_sigpipe *s);
void cr_ldap_sigpipe_restore(struct cr_ldap_sigpipe *s);
#endif
