#!/usr/bin/env bash
# Regenerates the TEST-ONLY CA and server certificate in this folder (valid 100 years), for the
# names --tls-self-signed puts in its certificate (SelfSignedTLS.names) and the loopback addresses.
# Never use these keys for anything but local tests: the private keys are public.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=twitter-upload-mock test CA" -keyout ca-key.pem -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout server-key.pem -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 36500 -out server.pem \
  -extfile <(printf 'subjectAltName=DNS:localhost,DNS:upload.twitter.com,DNS:upload.x.com,DNS:api.x.com,DNS:api.twitter.com,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n')
rm -f server.csr ca.srl
openssl verify -CAfile ca.pem server.pem
