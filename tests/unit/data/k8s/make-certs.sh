#!/bin/sh
# make-certs.sh DIR: a throw-away CA, a server certificate for 127.0.0.1 and a client
# certificate (CN bise-admin, O system:masters) for the k8s client tests. EC keys: fast.
set -eu
d=$1
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=bise-test-ca 2>/dev/null
key server.key
openssl req -new -key server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
	-days 2 -extfile server.ext 2>/dev/null
key client.key
openssl req -new -key client.key -out client.csr -subj "/O=system:masters/CN=bise-admin" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt \
	-days 2 -extfile client.ext 2>/dev/null
# A second CA whose client certificate the server must refuse.
key other-ca.key
openssl req -x509 -new -key other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca 2>/dev/null
key rogue.key
openssl req -new -key rogue.key -out rogue.csr -subj /CN=bise-admin 2>/dev/null
openssl x509 -req -in rogue.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial \
	-out rogue.crt -days 2 -extfile client.ext 2>/dev/null
for f in ca.crt other-ca.crt client.crt client.key rogue.crt rogue.key; do
	base64 -w0 "$f" > "$f.b64"
done
