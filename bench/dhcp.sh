#!/usr/bin/env bash
# DHCP benchmark: perfdhcp (Kea's load generator) against our server, Kea (memfile) and dnsmasq, one
# after the other on the same veth pair between two throw-away namespaces, in one run.
#
# For each server: rates of 100, 250, 500, 1000, 2000 ... DORA/s are offered for PERIOD seconds each (every
# exchange a new client, as in a boot storm), until one exchange type drops >= 1 %. The table shows
# the highest rate sustained below 1 % drops, the DORA/s perfdhcp measured there, and ratios to Kea.
# perfdhcp runs single-threaded (-g single): on a small machine its multi-threaded mode takes more
# CPU than the server under test, and then the figures measure the load generator.
#
# Needs root, iproute2, perfdhcp (kea-admin), kea-dhcp4-server and dnsmasq-base:
#   apt-get install -y kea-admin kea-dhcp4-server dnsmasq-base
# Usage: sudo bench/dhcp.sh [--no-build] [PERIOD_SECONDS]   (default 5; --no-build: server/target/netboot.jar as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
no_build_flag "$@"; set -- ${REST[@]+"${REST[@]}"}
PERIOD=${1:-5}
RATES=(100 250 500 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000 11000 12000 14000 16000 20000)
NS_S=nbdhcpb-s; NS_C=nbdhcpb-c; IF_S=nbdb-s; IF_C=nbdb-c
SERVER=10.240.0.1; CLIENT=10.240.0.2      # a /12: room for every client of every step
WORK=$(mktemp -d /tmp/netboot-dhcp-bench.XXXXXX)
PIDS=()

for tool in perfdhcp kea-dhcp4 dnsmasq ip; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y kea-admin kea-dhcp4-server dnsmasq-base iproute2" >&2; exit 1; }
done

cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 0.5
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns del "$NS_S" 2>/dev/null || true; ip netns del "$NS_C" 2>/dev/null || true
ip netns add "$NS_S"; ip netns add "$NS_C"
ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SERVER/12" dev "$IF_S"; ip -n "$NS_C" addr add "$CLIENT/12" dev "$IF_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$IF_S" up; ip -n "$NS_C" link set "$IF_C" up

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
bench_jar "$PWD" "$WORK/build.log"

start_ours() {
  mkdir -p "$WORK/ours"
  cat > "$WORK/ours/netboot.yaml" <<YAML
dataDir: $WORK/ours
networkInterface: $IF_S
tftp: {enabled: false}
http: {enabled: false}
dhcp:
  mode: full
  probeForeignServer: false
  pools:
    - {subnet: 10.240.0.0/12, range: 10.240.1.0-10.255.255.254, leaseSeconds: 3600}
YAML
  ip netns exec "$NS_S" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar server/target/netboot.jar serve \
    -c "$WORK/ours/netboot.yaml" > "$WORK/ours/log" 2>&1 &
  echo $!
}

start_kea() {
  mkdir -p "$WORK/kea"
  cat > "$WORK/kea/kea.json" <<JSON
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["$IF_S"], "dhcp-socket-type": "udp"},
  "lease-database": {"type": "memfile", "persist": true, "name": "$WORK/kea/leases.csv", "lfc-interval": 0},
  "valid-lifetime": 3600,
  "multi-threading": {"enable-multi-threading": true, "thread-pool-size": $(nproc), "packet-queue-size": 64},
  "subnet4": [{"id": 1, "subnet": "10.240.0.0/12", "pools": [{"pool": "10.240.1.0 - 10.255.255.254"}]}],
  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "$WORK/kea/log"}], "severity": "WARN"}]
}}
JSON
  KEA_LOCKFILE_DIR=$WORK/kea KEA_PIDFILE_DIR=$WORK/kea ip netns exec "$NS_S" kea-dhcp4 -c "$WORK/kea/kea.json" > "$WORK/kea/out" 2>&1 &
  echo $!
}

start_dnsmasq() {
  mkdir -p "$WORK/dnsmasq"
  ip netns exec "$NS_S" dnsmasq -d -k -C /dev/null --port=0 --no-resolv --no-hosts --no-ping --dhcp-authoritative \
    --bind-interfaces --interface="$IF_S" --dhcp-range=10.240.1.0,10.255.255.254,255.240.0.0,1h --dhcp-lease-max=4000000 \
    --dhcp-leasefile="$WORK/dnsmasq/leases" --pid-file="$WORK/dnsmasq/pid" > "$WORK/dnsmasq/log" 2>&1 &
  echo $!
}

# perfdhcp at one rate; prints "achieved_rate max_drop_percent".
run_rate() {
  local rate=$1 out
  out=$(ip netns exec "$NS_C" perfdhcp -4 -g single -l "$CLIENT" -r "$rate" -p "$PERIOD" -R 100000000 "$SERVER" 2>&1 || true)
  echo "$out" > "$WORK/perfdhcp.$2.$rate"
  local achieved drops
  achieved=$(echo "$out" | awk '/^Rate:/ {print $2; exit}')
  drops=$(echo "$out" | awk '/drops ratio:/ {gsub("%",""); if ($3+0 > m) m = $3+0} END {print m+0}')
  echo "${achieved:-0} ${drops:-100}"
}

# Sweeps the rates against one server; prints "best_offered best_achieved drops_there next_offered next_drops".
sweep() {
  local name=$1 best_r=0 best_a=0 best_d=0 fail_r=- fail_d=-
  # Warm-up (the JVM compiles its hot paths; the others lose nothing by it).
  ip netns exec "$NS_C" perfdhcp -4 -g single -l "$CLIENT" -r 1000 -p 3 -R 100000000 "$SERVER" >/dev/null 2>&1 || true
  for rate in "${RATES[@]}"; do
    read -r achieved drops < <(run_rate "$rate" "$name")
    echo "  $name: offered $rate/s -> $achieved DORA/s, worst drop ratio $drops %" | tee -a "$WORK/raw" >&2
    if awk -v d="$drops" 'BEGIN {exit !(d < 1)}'; then
      best_r=$rate; best_a=$achieved; best_d=$drops
    else
      fail_r=$rate; fail_d=$drops; break
    fi
  done
  echo "$best_r $best_a $best_d $fail_r $fail_d"
}

declare -A RESULT
for server in ours kea dnsmasq; do
  echo "== $server" >&2
  pid=$("start_$server")
  PIDS+=("$pid")
  sleep $([ "$server" = ours ] && echo 5 || echo 2)
  RESULT[$server]=$(sweep "$server")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  sleep 1
done

read -r kea_r kea_a _ _ _ <<<"${RESULT[kea]}"
report() {
  echo "# DHCP benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "- machine: $(nproc) CPUs, kernel $(uname -r), load average at start $LOAD"
  echo "- network: veth pair between two network namespaces, $SERVER ↔ $CLIENT (/12)"
  echo "- load: $(perfdhcp -v 2>&1 | head -1 | sed 's/^/perfdhcp /') single-threaded, ${PERIOD}s per step, a new client (MAC) per exchange, relayed form (giaddr = client address)"
  echo "- ours: leases written behind in batches (H2); Kea: memfile with persist (appends each lease before answering), multi-threading on; dnsmasq: lease file"
  echo
  echo "DORA exchanges per second at the highest offered rate with < 1 % drops"
  echo
  echo "| server | highest rate < 1 % drops | DORA/s measured there | drops there | next step (drops) | vs Kea |"
  echo "|---|---:|---:|---:|---:|---:|"
  for server in ours kea dnsmasq; do
    read -r r a d fr fd <<<"${RESULT[$server]}"
    ratio=$(awk -v a="$a" -v k="$kea_a" 'BEGIN { if (k > 0) printf "%.2f", a / k; else print "-" }')
    label=$server; [ "$server" = ours ] && label="netboot (ours)"; [ "$server" = kea ] && label="Kea $(kea-dhcp4 -v 2>/dev/null) memfile"
    [ "$server" = dnsmasq ] && label="dnsmasq $(dnsmasq -v | awk 'NR==1 {print $3}')"
    echo "| $label | $r | $a | $d % | $fr ($fd %) | $ratio |"
  done
  echo
  echo "## Raw steps"
  echo
  sed 's/^  /- /' "$WORK/raw"
}
mkdir -p bench/results
results="bench/results/dhcp-$(date -u +%Y-%m-%d-%H%M%S).md"
report | tee "$results"
echo "saved to $results" >&2
