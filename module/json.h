/* placeholder */
#ifndef CR_JSON_H
#define CR_JSON_H
#endif
