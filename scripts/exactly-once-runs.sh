#!/usr/bin/env bash
# The runs of docs/exactly-once.md ("The runs"): one 3-silo cluster on a fresh private PostgreSQL, then
# `shards load -c 200 --keys 1 -t 20s` under each nemesis alone and all together, on the Orleans client path and
# through nginx (installed when missing). Every report goes to .shards/runs/<name>.txt and one line per run to
# .shards/runs/summary.txt; the script stops the cluster, nginx and PostgreSQL it started, also when it fails.
# As root, three partition runs follow on simulated hosts ('cluster up --hosts 3').
#   scripts/exactly-once-runs.sh                     (about 15 minutes; 20 as root)
#   scripts/exactly-once-runs.sh --partitions-only   (root: the partition runs alone, about 5 minutes)
set -euo pipefail
partitions_only=""
case "${1:-}" in
  "") ;;
  --partitions-only) partitions_only=1 ;;
  *) echo "exactly-once-runs: unknown option $1 (the only one is --partitions-only)" >&2; exit 1 ;;
esac
if [ -n "$partitions_only" ] && [ "$(id -u)" -ne 0 ]; then
  echo "exactly-once-runs: --partitions-only needs root (network namespaces for the simulated hosts)" >&2
  exit 1
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=prerequisites.sh
source scripts/prerequisites.sh
ensure_command nginx nginx
ensure_command jq jq
out="$root/.shards/runs"
rm -rf "$out" && mkdir -p "$out"
./shards --help > /dev/null   # build once, before anything starts

cleanup() {
  nginx -p "$root/.shards/nginx" -c nginx.conf -s quit 2> /dev/null || true
  ./shards cluster down > /dev/null 2>&1 || true
  # The script started this server: stop it even if a silo the launcher had to kill left a recent row behind.
  ./shards db stop --force > /dev/null 2>&1 \
    || echo "exactly-once-runs: the private PostgreSQL did not stop; stop it with: ./shards db stop --force" >&2
}
trap cleanup EXIT

# Waits for the launcher's "N silo(s) active" line in $1.
wait_for_cluster() {
  for _ in $(seq 1 120); do grep -q 'silo(s) active after' "$1" && return 0; sleep 1; done
  echo "the cluster did not start: see $1" >&2
  exit 1
}

# One load run with the given options, its report in $out/<name>.txt and a line in the summary.
load_run() {
  local name=$1; shift
  local status=0
  ./shards load "$@" > "$out/$name.txt" 2>&1 || status=$?
  echo "$name: exit $status; $(grep -E '^Writes:' "$out/$name.txt" | head -1); $(grep -E 'violations' "$out/$name.txt" | tr -s ' ' | paste -sd ';' -)" | tee -a "$out/summary.txt"
}
run() { local name=$1; shift; load_run "$name" -c 200 --keys 1 -t 20s "$@"; }

./shards db start > "$out/db.txt"
if [ -z "$partitions_only" ]; then
  Shards__Api__RateLimit__Enabled=false setsid ./shards cluster up --silos 3 > "$out/cluster.txt" 2>&1 &
  # The launcher prints "3 silo(s) active" once its own silos have joined (the membership table may still hold a
  # previous run's rows, so it is not the signal).
  wait_for_cluster "$out/cluster.txt"

  run kill --chaos kill
  run freeze --chaos freeze
  run restart --chaos restart
  run pg-restart --chaos pg-restart
  run pg-stall --chaos pg-stall
  run pg-stall-8s --chaos pg-stall --stall-for 8s
  run reshard --chaos reshard
  run all --chaos kill,freeze,restart,pg-restart,pg-stall,hot,reshard

  # nginx over the silos' HTTP ports as they are now (the runs above moved some of them).
  scripts/nginx-for-cluster.sh > "$out/nginx.txt"
  nginx -p "$root/.shards/nginx" -e logs/error.log -c nginx.conf
  run http-kill --chaos kill --http http://127.0.0.1:8088
  run http-freeze --chaos freeze --http http://127.0.0.1:8088
  run http-pg-stall --chaos pg-stall --http http://127.0.0.1:8088
  run http-pg-restart --chaos pg-restart --http http://127.0.0.1:8088
  run http-all --chaos kill,freeze,pg-restart,pg-stall,hot,reshard --http http://127.0.0.1:8088
fi

# Partitions (docs/partitions.md), as root only: each on a fresh 'cluster up --hosts 3 --probes-only' (no restarts:
# Orleans' probes and the majority lease alone), one random silo's host cut from the other silos for 12 s, through
# nginx over the hosts' addresses; 60 % of the requests on products, most of whose reads come from leased copies
# (docs/read-leases.md), 20 % writes.
if [ "$(id -u)" -ne 0 ]; then
  echo "partition runs: skipped (they need root for the simulated hosts' network namespaces)" | tee -a "$out/summary.txt"
  exit 0
fi
ensure_command nft nftables # the load's network faults
for i in 1 2 3; do
  nginx -p "$root/.shards/nginx" -c nginx.conf -s quit 2> /dev/null || true
  ./shards cluster down > /dev/null 2>&1 || true
  Shards__Api__RateLimit__Enabled=false setsid ./shards cluster up --hosts 3 --probes-only > "$out/cluster-hosts-$i.txt" 2>&1 &
  wait_for_cluster "$out/cluster-hosts-$i.txt"
  scripts/nginx-for-cluster.sh > "$out/nginx-hosts-$i.txt" 2>&1
  sleep 1 # the previous nginx's master may still be going
  nginx -p "$root/.shards/nginx" -e logs/error.log -c nginx.conf
  load_run "http-partition-$i" -c 50 --keys 1 --products 60 --writes 20 -t 30s --chaos partition --fault-for 12s --http http://127.0.0.1:8088
done
