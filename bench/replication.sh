#!/usr/bin/env bash
# Replication benchmark: the same AoE target unreplicated and replicated (protocol C to a standby over
# a veth link), same 1 GiB file, same load generator (bench/aoe-loadgen.c) as bench/aoe.sh; then the
# time a quick resync of ~1 % dirty regions takes against a full sync of the same disk.
#
#   sudo bench/replication.sh [--no-build] [SECONDS_PER_RUN]   (default 3; ROUNDS=3 runs per cell, median)
#
# Namespaces: client --veth-- primary --veth-- standby. The standby serves no AoE; the client talks
# to the primary only. Both servers run on this machine, so a replicated write costs the primary's
# pwrite, the standby's pwrite and a TCP round trip over veth, all on the same CPUs: a lower bound
# for two real servers on a dedicated link (which add the wire's latency but not the shared CPUs).
# Resync: the standby is stopped, the client writes random 4 KiB blocks until ~1 % of the disk is
# out of sync, the standby is started again and the resync time is read from its log ("resync of
# 1.1 complete ... in S s"); then the standby's copy and state are deleted and a full sync of the same
# disk (filled with data first, so nothing is sparse) is timed the same way. resyncBytesPerSecond=0
# (unlimited) for both. Needs root, gcc and Java 25.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
no_build_flag "$@"; set -- ${REST[@]+"${REST[@]}"}
secs=${1:-3}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/repl-bench.XXXXXX)
ns_c=nbrc$$ ns_p=nbrp$$ ns_s=nbrs$$
declare -A pid

cleanup() {
  for p in "${pid[@]:-}"; do [ -n "$p" ] && { kill "$p"; wait "$p"; } 2>/dev/null || true; done
  for ns in "$ns_c" "$ns_p" "$ns_s"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -Wall -o "$work/aoe-loadgen" bench/aoe-loadgen.c
bench_jar "$PWD" "$work/build.log"
cp server/target/netboot.jar "$work/netboot.jar"
jar=$work/netboot.jar

for ns in "$ns_c" "$ns_p" "$ns_s"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add cl0 netns "$ns_c" type veth peer name pr0 netns "$ns_p"
ip link add pr1 netns "$ns_p" type veth peer name sb1 netns "$ns_s"
ip -n "$ns_c" link set cl0 up
ip -n "$ns_p" link set pr0 up
ip -n "$ns_p" addr add 10.213.0.1/24 dev pr1
ip -n "$ns_s" addr add 10.213.0.2/24 dev sb1
ip -n "$ns_p" link set pr1 up
ip -n "$ns_s" link set sb1 up

echo "preparing two 1 GiB files ..." >&2
for side in p s; do
  mkdir -p "$work/data-$side"
  truncate -s 1G "$work/disk-$side.img"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" disk export 1.1 "$work/disk-$side.img" --open \
    --set dataDir="$work/data-$side" >/dev/null
done

common=(--set tftp.enabled=false --set http.enabled=false --set dhcp.mode=off --set replication.secret=bench-secret-0123456789abcdef
        --set replication.resyncBytesPerSecond=0)

start() { # side role
  local side=$1 role=$2 ns iface listen peer
  rm -f "$work/data-$side/replication/status"   # a stopped server's last word must not be read as the new one's
  if [ "$side" = p ]; then ns=$ns_p iface=pr0 listen=10.213.0.1:7789 peer=10.213.0.2:7789; else ns=$ns_s iface=sb1 listen=10.213.0.2:7789 peer=10.213.0.1:7789; fi
  ip netns exec "$ns" "$JAVA_HOME/bin/java" -Xmx512m --enable-native-access=ALL-UNNAMED -jar "$jar" serve --set dataDir="$work/data-$side" \
    --set "aoe.interfaces=[$iface]" --set replication.role="$role" --set replication.listen=$listen --set replication.peer=$peer \
    "${common[@]}" >> "$work/$side.log" 2>&1 &
  pid[$side]=$!
}

stop() { kill "${pid[$1]}" 2>/dev/null; wait "${pid[$1]}" 2>/dev/null || true; unset "pid[$1]"; }

state() { # side -> replication state of disk 1.1 from the status file
  sed -n 's/^disk 1\.1 .* state \([^ ]*\) .*/\1/p' "$work/data-$1/replication/status" 2>/dev/null || true
}

field() { # side key -> a number from the status file
  grep -o "$2[ =][0-9]*" "$work/data-$1/replication/status" | head -1 | grep -o '[0-9]*$'
}

wait_state() { # side state timeout
  for _ in $(seq 1 $(( $3 * 10 ))); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "$1 did not reach $2 (is $(state "$1"))" >&2; tail -n 30 "$work/$1.log" >&2; exit 1
}

wait_aoe() {
  for _ in $(seq 1 150); do
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i cl0 -s 1 -l 1 -m seqread -w 1 -t 0.2 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the primary does not serve AoE" >&2; tail -n 30 "$work/p.log" >&2; exit 1
}

load() { # mode seconds [extra] -> the loadgen line
  # shellcheck disable=SC2086
  ip netns exec "$ns_c" "$work/aoe-loadgen" -i cl0 -s 1 -l 1 -m "$1" -w 16 -t "$2" ${3:-}
}

figure() { # mode -> MB/s (seq) or IOPS (random), median of the rounds
  local vals=() out
  for r in $(seq 1 "$rounds"); do
    out=$(load "$1" "$secs" "-p $r -r $r")
    echo "$1 round $r: $out" >> "$work/raw.txt"
    if [[ $1 == seq* ]]; then vals+=("$(sed -n 's/.*MBps=\([0-9.]*\).*/\1/p' <<<"$out")"); else vals+=("$(sed -n 's/.* iops=\([0-9.]*\).*/\1/p' <<<"$out")"); fi
  done
  printf '%s\n' "${vals[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

echo "unreplicated (replication.role=none) ..." >&2
start p none
wait_aoe
u_seq=$(figure seqwrite); u_rand=$(figure randwrite)
stop p

echo "replicated (primary + standby, protocol C) ..." >&2
start p primary; start s standby
wait_state p up-to-date 300; wait_state s up-to-date 300
wait_aoe
r_seq=$(figure seqwrite); r_rand=$(figure randwrite)

echo "filling the disk (so nothing is sparse for the full sync) ..." >&2
load seqwrite 60 "-p 99" > /dev/null || true
for _ in $(seq 1 600); do [ "$(field p in-flight)" = 0 ] && break; sleep 0.1; done

echo "quick resync of ~1 % dirty regions ..." >&2
stop s
wait_state p degraded 30
target=$(( (1 << 30) / 100 ))
load randwrite 1 "-p 77 -r 77" > /dev/null
while [ "$(field p out-of-sync)" -lt "$target" ]; do load randwrite 1 "-p 78 -r $RANDOM" > /dev/null; done
dirty=$(field p out-of-sync)
: > "$work/s.log"
start s standby
wait_state s up-to-date 600
quick=$(sed -n 's/.*resync of 1\.1 complete: .* in \([0-9.]*\) s.*/\1/p' "$work/s.log" | tail -1)
quick_moved=$(sed -n 's/.*resync of 1\.1 complete: \([0-9]*\) MiB written.*/\1/p' "$work/s.log" | tail -1)

echo "full sync of the whole disk ..." >&2
stop s
rm -rf "$work/data-s/replication/1.1"
truncate -s 0 "$work/disk-s.img"; truncate -s 1G "$work/disk-s.img"
: > "$work/s.log"
start s standby
wait_state s up-to-date 900
full=$(sed -n 's/.*resync of 1\.1 complete: .* in \([0-9.]*\) s.*/\1/p' "$work/s.log" | tail -1)
full_moved=$(sed -n 's/.*resync of 1\.1 complete: \([0-9]*\) MiB written.*/\1/p' "$work/s.log" | tail -1)
[ "$(md5sum < "$work/disk-s.img")" = "$(md5sum < "$work/disk-p.img")" ] && same=yes || same=NO

cp "$work/raw.txt" "${RAW:-/tmp/replication-bench-raw.txt}"
echo
echo "| 1 GiB disk, window 16, MTU 1500, median of $rounds × ${secs} s | unreplicated | replicated | ratio |"
echo "|---|---|---|---|"
awk -v a="$u_seq" -v b="$r_seq" 'BEGIN { printf "| seq write MB/s | %.1f | %.1f | %.2f |\n", a, b, b / a }'
awk -v a="$u_rand" -v b="$r_rand" 'BEGIN { printf "| 4 KiB random write IOPS | %.0f | %.0f | %.2f |\n", a, b, b / a }'
echo
echo "| resync (resyncBytesPerSecond=0) | regions | time | ratio |"
echo "|---|---|---|---|"
awk -v d="$dirty" -v m="$quick_moved" -v t="$quick" -v f="$full" 'BEGIN { printf "| quick resync | %.2f %% of the disk dirty (%d MiB resynced) | %.2f s | %.3f × full |\n", 100 * d / 2^30, m, t, t / f }'
awk -v m="$full_moved" -v t="$full" 'BEGIN { printf "| full sync | %d MiB | %.2f s | 1 |\n", m, t }'
echo "both copies identical at the end: $same"
