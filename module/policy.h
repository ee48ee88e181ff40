/* placeholder */
#ifndef CR_POLICY_H
#define CR_POLICY_H
#endif
