/* placeholder */
#ifndef CR_FILE_PARSE_H
#define CR_FILE_PARSE_H
#endif
