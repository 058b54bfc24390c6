# Test certificates for the Redis and fleet tests, made with the openssl CLI at test time.
# Sourced (not run) by scripts/test.d/{redis,fleet-security,fleet-deadline}.sh, after
# scripts/common.sh.
#   test_ca DIR NAME               a self-signed CA: DIR/NAME.pem, DIR/NAME.key
#   test_cert DIR NAME CA EXT      a P-256 certificate signed by DIR/CA, with the extension
#                                  line EXT (e.g. subjectAltName=IP:127.0.0.1): DIR/NAME.pem, .key
#   test_self_signed DIR NAME      a self-signed server certificate for CN=localhost

test_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=test $2" -days 1 \
    -keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}

test_cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null
  printf '%s\nbasicConstraints=CA:FALSE\n' "$4" >"$1/$2.ext"
  openssl x509 -req -in "$1/$2.csr" -CA "$1/$3.pem" -CAkey "$1/$3.key" -CAcreateserial -days 1 \
    -extfile "$1/$2.ext" -out "$1/$2.pem" 2>/dev/null
}

test_self_signed() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
    -keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}
