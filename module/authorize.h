/* placeholder */
#ifndef CR_AUTHORIZE_H
#define CR_AUTHORIZE_H
#endif
