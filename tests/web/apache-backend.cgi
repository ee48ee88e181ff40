#!/bin/sh
# Test backend for tests/check_apache: shows what reached it, both the
# variables mod_certrole sets and the headers it exports (or strips).
printf 'Content-Type: text/plain\r\n\r\n'
printf 'backend remote_user=[%s] auth_type=[%s] user=[%s] roles=[%s] code=[%s] subject=[%s]\n' \
    "$REMOTE_USER" "$AUTH_TYPE" "$CERTROLE_USER" "$CERTROLE_ROLES" "$CERTROLE_CODE" "$CERTROLE_SUBJECT"
printf 'hdr user=[%s] roles=[%s] cert=[%s] chain=[%s] other=[%s]\n' \
    "$HTTP_X_CERTROLE_USER" "$HTTP_X_CERTROLE_ROLES" "$HTTP_CLIENT_CERT" \
    "$HTTP_CLIENT_CERT_CHAIN" "$HTTP_X_CERTROLE_OTHER"
printf 'uri=[%s] path_info=[%s] method=[%s]\n' "$REQUEST_URI" "$PATH_INFO" "$REQUEST_METHOD"
