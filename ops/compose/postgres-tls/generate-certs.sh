#!/bin/sh
# docker-compose.tls.yml's one-shot `pg-certs`: a private CA and a server
# certificate for the compose host name `postgres`, written once into the
# `pgcerts` volume (a restart keeps them; delete the volume to make new ones).
# Clients verify against ca.crt (sslmode=verify-full); the CA key never leaves
# this volume's first run: it is deleted once the server certificate is signed.
set -eu
cd /certs
if [ -s server.crt ] && [ -s server.key ] && [ -s ca.crt ]; then
  echo "[pg-certs] certificates already present"
  exit 0
fi
days="${PG_CERT_DAYS:-825}"
openssl req -new -x509 -nodes -days "$days" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -subj "/CN=supergraph-compose-postgres-ca" -keyout ca.key -out ca.crt
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -subj "/CN=postgres" -keyout server.key -out server.csr
printf 'subjectAltName=DNS:postgres,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
  -extfile server.ext -out server.crt
rm -f ca.key ca.srl server.csr server.ext
# PostgreSQL (uid 999 in the official image) insists on owning a 0600 key; the services (uid 1000) read only ca.crt.
chown 999:999 server.key server.crt
chmod 0600 server.key
chmod 0644 server.crt ca.crt
chmod 0755 /certs
echo "[pg-certs] made a CA and a certificate for host postgres, valid ${days} days"
