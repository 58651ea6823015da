#!/usr/bin/env bash
# AoE target benchmark: netboot against vblade, same 1 GiB file, same veth pair, same load generator.
#
#   sudo bench/aoe.sh [SECONDS_PER_RUN]      (default 5)
#
# Two network namespaces joined by a veth pair: the target (ours, then vblade) in one, the neutral
# load generator bench/aoe-loadgen.c in the other. For MTU 1500 and 9000 and windows 1, 16 and 64 it
# measures sequential read and write MB/s and 4 KiB random read IOPS, and prints a markdown table
# with ratios. vblade gets -b 64 so its advertised buffer count is not what limits it.
# Needs root, gcc, vblade (apt-get install vblade) and Java 25 (./mvnw finds it).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
work=$(mktemp -d /tmp/aoe-bench.XXXXXX)
ns_t=nbbench-t$$ ns_c=nbbench-c$$ if_t=nbbt$$ if_c=nbbc$$
server_pid=

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  ip netns del "$ns_t" 2>/dev/null || true
  ip netns del "$ns_c" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v vblade >/dev/null || { echo "needs vblade (apt-get install vblade)" >&2; exit 1; }
gcc -O2 -Wall -o "$work/aoe-loadgen" bench/aoe-loadgen.c
./mvnw -q -B -DskipTests -pl server -am package >&2
. .mvn/find-java.sh
jar=$PWD/server/target/netboot.jar

echo "preparing a 1 GiB file ..." >&2
dd if=/dev/zero of="$work/disk.img" bs=1M count=1024 status=none
cat "$work/disk.img" > /dev/null   # both targets then read from the page cache

ip netns add "$ns_t"
ip netns add "$ns_c"
ip link add "$if_t" netns "$ns_t" type veth peer name "$if_c" netns "$ns_c"
for ns in "$ns_t" "$ns_c"; do ip -n "$ns" link set lo up; done
ip -n "$ns_t" link set "$if_t" up
ip -n "$ns_c" link set "$if_c" up

start_ours() {
  local data=$work/data
  rm -rf "$data"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" disk export 1.1 "$work/disk.img" --open --set dataDir="$data" >/dev/null
  ip netns exec "$ns_t" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" serve --set dataDir="$data" \
    --set "aoe.interfaces=[$if_t]" --set tftp.enabled=false --set http.enabled=false > "$work/ours.log" 2>&1 &
  server_pid=$!
}

start_vblade() {
  ip netns exec "$ns_t" vblade -b 64 1 1 "$if_t" "$work/disk.img" > "$work/vblade.log" 2>&1 &
  server_pid=$!
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

wait_ready() {
  for _ in $(seq 1 100); do
    if ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l 1 -m seqread -w 1 -t 0.2 >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "target did not come up" >&2; cat "$work"/*.log >&2; exit 1
}

run() { # mode window -> prints the figure (MB/s or IOPS)
  local out
  out=$(ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l 1 -m "$1" -w "$2" -t "$secs")
  echo "$out" >> "$work/raw.txt"
  if [ "$1" = randread ]; then sed -n 's/.* iops=\([0-9.]*\).*/\1/p' <<<"$out"; else sed -n 's/.* MBps=\([0-9.]*\).*/\1/p' <<<"$out"; fi
}

declare -A result
for mtu in 1500 9000; do
  ip -n "$ns_t" link set "$if_t" mtu "$mtu"
  ip -n "$ns_c" link set "$if_c" mtu "$mtu"
  for target in vblade ours; do
    "start_$target"
    wait_ready
    # Warm-up (JIT for ours; page cache and socket buffers for both).
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l 1 -m seqread -w 16 -t 2 >/dev/null
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l 1 -m seqwrite -w 16 -t 1 >/dev/null
    for mode in seqread seqwrite randread; do
      for w in 1 16 64; do
        result[$mtu,$target,$mode,$w]=$(run "$mode" "$w")
        echo "MTU $mtu $target $mode window $w: ${result[$mtu,$target,$mode,$w]}" >&2
      done
    done
    stop_server
  done
done

echo
echo "AoE target, $secs s per run, veth pair between two namespaces, 1 GiB file in the page cache ($(nproc) CPUs, $(uname -r))"
echo
echo "| MTU | test | window | vblade | netboot | netboot / vblade |"
echo "|---:|---|---:|---:|---:|---:|"
for mtu in 1500 9000; do
  for mode in seqread seqwrite randread; do
    case $mode in seqread) label="seq read MB/s";; seqwrite) label="seq write MB/s";; randread) label="4 KiB rand read IOPS";; esac
    for w in 1 16 64; do
      v=${result[$mtu,vblade,$mode,$w]} o=${result[$mtu,ours,$mode,$w]}
      ratio=$(awk -v o="$o" -v v="$v" 'BEGIN { if (v > 0) printf "%.2f×", o / v; else print "n/a" }')
      echo "| $mtu | $label | $w | $v | $o | $ratio |"
    done
  done
done
