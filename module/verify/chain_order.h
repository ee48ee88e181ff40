/* Finding the peer's certificate among the certificates of a file. */
#ifndef CR_CHAIN_ORDER_H
#define CR_CHAIN_ORDER_H
#include <openssl/x509.h>
#include "certrole.h"

/* Finds the one certificate of certs that issued none of the others
 * (a repeated copy of a certificate counts once) and moves it to index 0.
 * Returns CERTROLE_OK with *pos its 1-based place in the list as given;
 * CERTROLE_E_CHAIN_ORDER when no single such certificate exists (two or
 * more, or a cycle, or certificates that name one another as issuers so
 * often that sorting them out would cost more than a bounded number of
 * signature checks), with *msg / *hint (malloc'd) naming them; 'what'
 * names the input in that message ("the PEM input"). NO_CERTIFICATE on
 * an empty list, NO_MEMORY. Reads the certificates only. */
certrole_code cr_chain_find_leaf(STACK_OF(X509) *certs, const char *what, int *pos,
                                 char **msg, char **hint);
#endif
