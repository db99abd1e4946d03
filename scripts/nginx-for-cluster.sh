#!/usr/bin/env bash
# Writes an nginx configuration that balances over the HTTP ports of the running local cluster's silos.
#   scripts/nginx-for-cluster.sh [--cluster-id ID] [--listen 127.0.0.1:8088] [--out .shards/nginx/nginx.conf]
# The servers come from 'shards members --json' (the membership table, joined with the silo processes on this
# machine): each active silo's HTTP port on its silo address's IP, which is 127.0.0.1 for 'shards cluster up' and
# each simulated host's own address for 'shards cluster up --hosts N' (its API listens there only). The template
# is deploy/nginx.conf. Then run:
#   nginx -p "$PWD/.shards/nginx" -e logs/error.log -c nginx.conf       (stop: nginx -p ... -s quit)
# SHARDS may name the CLI to use (default: the build in .shards/bin, else ./shards).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cluster_id="shards"
listen="127.0.0.1:8088"
out="$root/.shards/nginx/nginx.conf"
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster-id) cluster_id="$2"; shift 2 ;;
    --listen) listen="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "nginx-for-cluster: unknown option $1" >&2; exit 1 ;;
  esac
done

command -v jq >/dev/null 2>&1 || { echo "nginx-for-cluster: jq is missing (apt-get install jq)" >&2; exit 1; }
if [ -z "${SHARDS:-}" ]; then
  if [ -f "$root/.shards/bin/shards.dll" ]; then SHARDS="dotnet $root/.shards/bin/shards.dll"; else SHARDS="$root/shards"; fi
fi

cd "$root"
members=$($SHARDS members --json --cluster-id "$cluster_id")
# ip:port of each active silo's HTTP API: the silo endpoint's address (ip:port) with the HTTP port.
servers_of=$(echo "$members" | jq -r '.members[] | select(.status == "active" and .httpPort != null) | "\(.address | sub(":[0-9]+$"; "")):\(.httpPort)"')
if [ -z "$servers_of" ]; then
  echo "nginx-for-cluster: no active silo of cluster '$cluster_id' with an HTTP port runs on this machine (start one: shards cluster up)" >&2
  exit 3
fi

servers=$(for server in $servers_of; do printf '        server %s max_fails=1 fail_timeout=5s;\\n' "$server"; done)
mkdir -p "$(dirname "$out")"
awk -v servers="$servers" -v listen="$listen" '
  /# servers: begin/ { print; printf "%s", servers; skip = 1; next }
  /# servers: end/   { skip = 0 }
  skip               { next }
  /^        listen / { sub(/listen [^ ;]+/, "listen " listen); print; next }   # the address; the parameters after it kept
  { print }
' "$root/deploy/nginx.conf" > "$out"
mkdir -p "$(dirname "$out")/logs" "$(dirname "$out")/tmp"
echo "nginx-for-cluster: $out balances over $(echo "$servers_of" | wc -w) silo(s) ($(echo $servers_of | tr ' ' ',')) on $listen" >&2
