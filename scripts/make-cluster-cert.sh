#!/usr/bin/env bash
# Makes the cluster certificate of a Shards deployment: silos and clients present it to each other on the silo and
# gateway ports (mutual TLS, pinned by thumbprint, so self-signed is enough; docs/security.md).
#
#   scripts/make-cluster-cert.sh [out-dir]      # out-dir defaults to deploy/tls (git-ignored), what docker-compose mounts
#
# Writes to out-dir (made mode 0755 if missing; refuses to overwrite an existing certificate):
#   cluster.pfx       PKCS#12: an EC P-256 key and its self-signed certificate (CN=shards-cluster, 2 years), encrypted
#                     (AES-256, PBKDF2) with the password below. Mode 0644: docker-compose bind-mounts the folder and
#                     the silo runs as the image's user 1654, which must read it; without the password it is useless.
#   cluster.password  the random password (32 bytes, hex, no newline). Mode 0600.
# Then prints the line for .env (docker-compose) and the `kubectl create secret` line (Kubernetes). The key and the
# certificate in PEM exist only in a temporary folder that is removed on exit.
# Needs openssl (1.1.1 or 3.x).
set -euo pipefail

out="${1:-$(cd "$(dirname "$0")/.." && pwd)/deploy/tls}"
command -v openssl >/dev/null || { echo "make-cluster-cert.sh: openssl is missing (apt-get install openssl)" >&2; exit 1; }
if [[ -e "$out/cluster.pfx" || -e "$out/cluster.password" ]]; then
  echo "make-cluster-cert.sh: $out already holds a cluster certificate; move it away first (to rotate, see docs/security.md)" >&2
  exit 1
fi

mkdir -p "$out"
chmod 0755 "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 730 -subj "/CN=shards-cluster" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth,clientAuth" \
  -keyout "$work/cluster.key" -out "$work/cluster.crt" 2>/dev/null
password="$(openssl rand -hex 32)"
printf '%s' "$password" > "$out/cluster.password"
chmod 0600 "$out/cluster.password"
# The password reaches openssl through a file descriptor, never through argv (visible in ps).
openssl pkcs12 -export -inkey "$work/cluster.key" -in "$work/cluster.crt" -name shards-cluster \
  -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 \
  -passout "file:$out/cluster.password" -out "$out/cluster.pfx"
chmod 0644 "$out/cluster.pfx"

thumbprint="$(openssl x509 -in "$work/cluster.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
cat <<TEXT
Cluster certificate: $out/cluster.pfx (thumbprint $thumbprint, valid 730 days)
Password:            $out/cluster.password (mode 0600)

docker-compose: the compose file mounts deploy/tls/; put the password in .env (git ignores it), replacing the placeholder:
  sed -i '/^SHARDS_TLS_PASSWORD=/d' .env && printf 'SHARDS_TLS_PASSWORD=%s\n' "\$(cat '$out/cluster.password')" >> .env

Kubernetes: the Secret deploy/kubernetes/deployment.yaml mounts and reads:
  kubectl create secret generic shards-cluster-tls --from-file=cluster.pfx='$out/cluster.pfx' --from-file=password='$out/cluster.password'

Clients outside the silos (the shards CLI) need the same certificate: Shards__Tls__Enabled=true,
Shards__Tls__CertificatePath=$out/cluster.pfx, Shards__Tls__CertificatePassword from $out/cluster.password.
TEXT
