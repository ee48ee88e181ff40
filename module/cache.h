/* placeholder */
#ifndef CR_CACHE_H
#define CR_CACHE_H
#endif
