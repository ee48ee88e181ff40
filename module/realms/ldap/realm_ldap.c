/* placeholder: not yet written */
__attribute__((visibility("default"))) const int certrole_realm_v1 = 0;
