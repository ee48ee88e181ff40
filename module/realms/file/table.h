/* placeholder */
#ifndef CR_TABLE_H
#define CR_TABLE_H
#endif
