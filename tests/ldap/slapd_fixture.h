/* A throwaway OpenLDAP slapd for the ldap realm tests: slapd.conf and three
 * mdb databases in a private directory (dc=acme,dc=example: people and
 * groups; c=US: entries named like certificate subjects; dc=edge,dc=example:
 * referrals, odd group names and a size-limited bind DN), loaded with
 * slapadd from the LDIF files in tests/ldap, listening on loopback with plain LDAP
 * (StartTLS offered) and LDAPS, both with the test PKI's server.pem.
 * Also makes test certificates with awkward subjects, signed by the test
 * PKI's issuing CA, and the realm SPI's identity view of a certificate. */
#ifndef CERTROLE_SLAPD_FIXTURE_H
#define CERTROLE_SLAPD_FIXTURE_H
#include <sys/types.h>
#include "identity.h"

struct lf_slapd {
    pid_t pid;
    int port;           /* ldap:// */
    int tls_port;       /* ldaps:// */
    char *log;          /* slapd -d stats output */
};

/* Before the suite: 0, or 77 when $SLAPD is not usable (after printing
 * "SKIP: ..."). */
int lf_available(void);
/* In an unchecked fixture (once; later calls do nothing): certificates,
 * slapd.conf, databases. */
void lf_prepare(void);
/* After the suite: stops a leftover server, removes the directory. */
void lf_cleanup(void);
/* The private directory; a generated certificate by name ("esc",
 * "inj-star", ...): lf_cert("esc") is the leaf PEM, lf_chain("esc") the
 * leaf + issuing CA. Pointers into a rotating pool. */
const char *lf_dir(void);
const char *lf_cert(const char *name);
const char *lf_chain(const char *name);

/* Starts slapd on fresh ports (fails the test if it does not come up);
 * lf_stop always stops it (also a stopped, SIGSTOPped one). */
void lf_start(struct lf_slapd *s);
/* The same directory without any TLS (tls_port 0; StartTLS refused). */
void lf_start_plain(struct lf_slapd *s);
void lf_stop(struct lf_slapd *s);
/* Freezes / thaws the server: it keeps its sockets but answers nothing. */
void lf_freeze(struct lf_slapd *s, int frozen);
/* Occurrences of needle in the server's log so far. */
int lf_log_count(const struct lf_slapd *s, const char *needle);

/* A loopback socket that accepts connections into its backlog and never
 * answers. Returns the fd (close it when done), port in *port. */
int lf_blackhole(int *port);

/* The identity view of the certificate in a PEM file, filled the way the
 * core fills it (subject/issuer RFC 4514, serial upper hex, SHA-256
 * fingerprint lower hex, CN, first email SAN, DER). */
void lf_identity(const char *pem_path, struct certrole_identity *id);
void lf_identity_free(struct certrole_identity *id);

/* Monotonic seconds. */
double lf_now(void);
#endif
