#!/bin/sh
# Test backend for tests/check_lighttpd: shows what reached it, and notes
# the target it received and the path lighttpd routed to it in
# backend.log next to the document root.
printf 'target=[%s] routed=[%s]\n' "$REQUEST_URI" "$SCRIPT_NAME" >> "$DOCUMENT_ROOT/../backend.log"
printf 'Content-Type: text/plain\r\n\r\n'
printf 'backend user=[%s] roles=[%s] subject=[%s] hdr_roles=[%s] hdr_cert=[%s] uri=[%s] method=[%s]\n' \
    "$CERTROLE_USER" "$CERTROLE_ROLES" "$CERTROLE_SUBJECT" \
    "$HTTP_X_CERTROLE_ROLES" "$HTTP_CLIENT_CERT" "$REQUEST_URI" "$REQUEST_METHOD"
