/* placeholder */
#ifndef CR_DIAGNOSE_H
#define CR_DIAGNOSE_H
#endif
