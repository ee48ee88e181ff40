# acme_nginx DIR PKI: the Acme scenario against the system nginx with the
# installed module (loaded through /etc/nginx/modules-enabled), on a free
# loopback port. Leaves nginx running with its pid in DIR/nginx.pid.
acme_nginx() {
    d=$1 pki=$2
    printf '"CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US" invoice-readonly user=crm\n' > "$d/users.realm"
    printf 'trust ca-file=%s crl-file=%s crl-check=chain\nrealm required file path=users.realm\nrequire GET /InvoiceService/list invoice-readonly\n' \
        "$pki/ca-file.pem" "$pki/crl.pem" > "$d/acme.policy"
    mkdir -p "$d/www/InvoiceService"
    echo "invoice list" > "$d/www/InvoiceService/list"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$d/nginx.conf" <<EOC
include /etc/nginx/modules-enabled/*.conf;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/body; proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
    certrole_policy acme.policy;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $pki/server-chain.pem;
        ssl_certificate_key $pki/server.key;
        ssl_verify_client optional_no_ca;
        ssl_verify_depth 5;
        certrole on;
        # a static file: "return" would answer before the access phase
        root $d/www;
        add_header X-Certrole "user=\$certrole_user roles=\$certrole_roles" always;
    }
}
EOC
    # nginx's own prefix, so the snippet's modules/... names the system's
    # module directory; certrole_policy is relative to the config's dir.
    /usr/sbin/nginx -t -c "$d/nginx.conf" 2> "$d/t.log" || { cat "$d/t.log" >&2; return 1; }
    echo "check-deb: $(tail -1 "$d/t.log")"
    env -u LD_LIBRARY_PATH /usr/sbin/nginx -c "$d/nginx.conf"
    url=https://127.0.0.1:$port/InvoiceService/list
    with=$(curl -sk -D "$d/head.txt" -o "$d/body.txt" -w '%{http_code}' --cert "$pki/client-chain.pem" --key "$pki/client.key" "$url")
    without=$(curl -sk -o /dev/null -w '%{http_code}' "$url")
    echo "check-deb: Acme client -> $with ($(tr -d '\r' < "$d/head.txt" | grep -i '^x-certrole:')); no certificate -> $without"
    [ "$with" = 200 ] && grep -q 'user=crm roles=invoice-readonly' "$d/head.txt" || { cat "$d/error.log" >&2; return 1; }
    case $without in 401|403) ;; *) echo "check-deb: expected 401/403 without a certificate" >&2; return 1 ;; esac
}
