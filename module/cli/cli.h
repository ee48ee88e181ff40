/* placeholder */
#ifndef CR_CLI_H
#define CR_CLI_H
#endif
