/* placeholder */
#ifndef CR_TOMCAT_H
#define CR_TOMCAT_H
#endif
