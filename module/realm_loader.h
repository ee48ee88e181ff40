/* placeholder */
#ifndef CR_REALM_LOADER_H
#define CR_REALM_LOADER_H
#endif
