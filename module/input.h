/* placeholder */
#ifndef CR_INPUT_H
#define CR_INPUT_H
#endif
