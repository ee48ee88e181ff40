/* A deadline for the steps libldap cannot bound by itself. With GnuTLS,
 * libldap 2.5 spins in gnutls_handshake() when an ldaps:// server accepts
 * TCP and then says nothing, whatever LDAP_OPT_NETWORK_TIMEOUT says. The
 * watchdog is a thread that, unless disarmed in time, shuts the socket
 * down (shutdown(2), never close: the fd stays libldap's), which ends the
 * handshake with an error. Used only while a new connection is made. */
#ifndef CR_LDAP_WATCHDOG_H
#define CR_LDAP_WATCHDOG_H

struct cr_ldap_watchdog;

/* Starts the timer (ms from now). NULL if no thread could be started. */
struct cr_ldap_watchdog *cr_ldap_watchdog_arm(int ms);
/* The socket to shut down (known once TCP is connected); restart_ms > 0
 * also moves the deadline to restart_ms from now (the next step's own
 * budget). If the watchdog has already fired, shuts the socket at once. */
void cr_ldap_watchdog_set_fd(struct cr_ldap_watchdog *w, int fd, int restart_ms);
/* Stops and frees the watchdog; returns 1 when it had fired. */
int cr_ldap_watchdog_disarm(struct cr_ldap_watchdog *w);
#endif
