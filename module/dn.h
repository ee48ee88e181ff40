/* placeholder */
#ifndef CR_DN_H
#define CR_DN_H
#endif
