#!/bin/sh
# Makes TLS files for ruvector-server: a private CA (ca.pem, ca.key) and a server certificate it
# signed (server.pem, server.key), valid for localhost, 127.0.0.1, ::1 and the names given, for
# serving and as a client certificate (a cluster node presents it to its peers).
# For development and a first start; in production use certificates from your own CA.
#
#   deploy/make-dev-certs.sh [DIR] [NAME...]
#
# DIR defaults to deploy/config/tls, beside the example config, whose tlsCert/tlsKey point there
# (paths in a config file are relative to the file's folder). For the systemd unit:
#   sudo deploy/make-dev-certs.sh /etc/ruvector/tls db.example.com
#   sudo chown -R ruvector:ruvector /etc/ruvector/tls
# Keys are written mode 0600 (readable by their owner only: the user the server runs as).
# Clients verify the server with ca.pem, e.g. grpc.ssl_channel_credentials(open("ca.pem","rb").read()).
# Existing files are kept: delete them to make new ones.
set -eu

dir=${1:-"$(dirname "$0")/config/tls"}
[ $# -gt 0 ] && shift
if [ -e "$dir/server.key" ] || [ -e "$dir/server.pem" ]; then
    echo "make-dev-certs: $dir already holds server.pem/server.key; delete them to make new ones" >&2
    exit 1
fi
mkdir -p "$dir"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do san="$san,DNS:$name"; done

if [ ! -e "$dir/ca.pem" ]; then
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 825 \
        -subj "/CN=ruvector development CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
fi
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -subj "/CN=${1:-localhost}" -keyout "$dir/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$san" > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -CAserial "$work/ca.srl" -days 825 -extfile "$work/ext" -out "$dir/server.pem" 2>/dev/null
chmod 600 "$dir/server.key" "$dir/ca.key"
chmod 644 "$dir/server.pem" "$dir/ca.pem"
echo "made $dir/server.pem and $dir/server.key (signed by $dir/ca.pem) for $san"
