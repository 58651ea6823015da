#!/usr/bin/env bash
# Replication benchmark: the same AoE target unreplicated and replicated (protocol C to a standby over
# a veth link), same 1 GiB file, same load generator (bench/aoe-loadgen.c) as bench/aoe.sh; then the
# time a quick resync of ~1 % dirty regions takes against a full sync of the same disk.
#
#   sudo bench/replication.sh [--no-build] [SECONDS_PER_RUN]   (default 3; ROUNDS=3 runs per cell, median)
#   PHASES=writes JFR_DIR=/tmp/jfr bench/replication.sh --no-build   (only the write figures, each server
#                                    under Java Flight Recorder: JFR_DIR/{none,primary,standby}.jfr)
#   JAR=/tmp/old/netboot.jar ...     (another build's jar, for a before/after table)
#   DISK_GIB=8 ...                   (size of the disk; default 1)
#   PHASES="writes degraded" ...     (phases to run: writes, degraded (random writes with the standby down: next to
#                                    the unreplicated ones), resync; default all three)
#   WARMUP=4 ...                     (seconds of each write mode, unmeasured, before a server's figures)
#   JOPTS='-Xlog:gc' KEEP_LOGS=/tmp/x ... (more JVM options for both servers; keep their logs)
#
# Namespaces: client --veth-- primary --veth-- standby. The standby serves no AoE; the client talks
# to the primary only. Both servers run on this machine, so a replicated write costs the primary's
# pwrite, the standby's pwrite and a TCP round trip over veth, all on the same CPUs: a lower bound
# for two real servers on a dedicated link (which add the wire's latency but not the shared CPUs).
# Resync, twice: first the replication link is cut (both servers keep running), the client writes random
# 4 KiB blocks until ~1 % of the disk is out of sync, the link comes back; then the standby is stopped, the client writes random 4 KiB blocks until ~1 % of the disk is
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
phases=${PHASES:-writes degraded resync}
gib=${DISK_GIB:-1}
work=$(mktemp -d /tmp/repl-bench.XXXXXX)
ns_c=nbrc$$ ns_p=nbrp$$ ns_s=nbrs$$
declare -A pid

cleanup() {
  for p in "${pid[@]:-}"; do [ -n "$p" ] && { kill "$p"; wait "$p"; } 2>/dev/null || true; done
  for ns in "$ns_c" "$ns_p" "$ns_s"; do ip netns del "$ns" 2>/dev/null || true; done
  [ -n "${KEEP_LOGS:-}" ] && cp "$work"/*.log "$KEEP_LOGS"/ 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -Wall -o "$work/aoe-loadgen" bench/aoe-loadgen.c
bench_jar "$PWD" "$work/build.log"
cp "${JAR:-server/target/netboot.jar}" "$work/netboot.jar"
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

echo "preparing two ${gib} GiB files ..." >&2
for side in p s; do
  mkdir -p "$work/data-$side"
  truncate -s "${gib}G" "$work/disk-$side.img"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" disk export 1.1 "$work/disk-$side.img" --open \
    --set dataDir="$work/data-$side" >/dev/null
done
# Non-zero data in every block of the primary's copy, so the full sync really moves the whole disk (a sparse
# or zero range crosses as a few bytes), and so every write row overwrites allocated blocks on both copies:
# with a sparse start the unreplicated row filled holes only at first while the standby (its copy synced
# sparse) paid ext4's block allocation on most writes (a perf profile: 9 % of all CPU samples in
# ext4_block_write_begin under the standby's pwrite), which is a cost of the bench's start, not of replication.
if true; then
  echo "filling the primary's copy with non-zero data ..." >&2
  # (yes through a process substitution: its SIGPIPE when head stops must not fail the pipeline under pipefail)
  head -c "$((gib << 30))" < <(yes 'netboot replication bench: every block of this disk holds data') | dd of="$work/disk-p.img" bs=1M conv=notrunc status=none iflag=fullblock
fi

common=(--set tftp.enabled=false --set http.enabled=false --set dhcp.mode=off --set replication.secret=bench-secret-0123456789abcdef
        --set replication.resyncBytesPerSecond=0)

start() { # side role
  local side=$1 role=$2 ns iface listen peer
  rm -f "$work/data-$side/replication/status"   # a stopped server's last word must not be read as the new one's
  if [ "$side" = p ]; then ns=$ns_p iface=pr0 listen=10.213.0.1:7789 peer=10.213.0.2:7789; else ns=$ns_s iface=sb1 listen=10.213.0.2:7789 peer=10.213.0.1:7789; fi
  local jfr=()
  [ -n "${JFR_DIR:-}" ] && { mkdir -p "$JFR_DIR"; jfr=("-XX:StartFlightRecording=filename=$JFR_DIR/$role.jfr,settings=profile,dumponexit=true"); }
  ip netns exec "$ns" "$JAVA_HOME/bin/java" -Xmx512m ${JOPTS:-} ${jfr[@]+"${jfr[@]}"} --enable-native-access=ALL-UNNAMED -jar "$jar" serve --set dataDir="$work/data-$side" \
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

cpu_ticks() { # user + system clock ticks of a process so far (0 when it is not running)
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

figure() { # mode -> "figure cpu_us_per_write_primary cpu_us_per_write_standby", medians of the rounds
  local vals=() cps=() css=() out p0 s0 p1 s1 n
  for r in $(seq 1 "$rounds"); do
    p0=$(cpu_ticks "${pid[p]}"); s0=$(cpu_ticks "${pid[s]:-0}")
    out=$(load "$1" "$secs" "-p $r -r $r")
    p1=$(cpu_ticks "${pid[p]}"); s1=$(cpu_ticks "${pid[s]:-0}")
    echo "$1 round $r: $out cpu_ticks_primary=$((p1 - p0)) cpu_ticks_standby=$((s1 - s0))" >> "$work/raw.txt"
    # A write is one AoE frame (1 KiB at MTU 1500) for seq, one 4 KiB request for random.
    if [[ $1 == seq* ]]; then vals+=("$(sed -n 's/.*MBps=\([0-9.]*\).*/\1/p' <<<"$out")"); n=$(sed -n 's/.*frames_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
    else vals+=("$(sed -n 's/.* iops=\([0-9.]*\).*/\1/p' <<<"$out")"); n=$(sed -n 's/.* iops=\([0-9.]*\).*/\1/p' <<<"$out"); fi
    cps+=("$(awk -v t=$((p1 - p0)) -v n="$n" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / (n * s) : 0) }')")
    css+=("$(awk -v t=$((s1 - s0)) -v n="$n" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / (n * s) : 0) }')")
  done
  echo "$(med "${vals[@]}") $(med "${cps[@]}") $(med "${css[@]}")"
}

warm() { # the JIT compiles the write path first: a server runs for days, so the table shows it warm
  load seqwrite "${WARMUP:-4}" "-p 90 -r 90" > /dev/null
  load randwrite "${WARMUP:-4}" "-p 91 -r 91" > /dev/null
}

fill_dirty() { # target-bytes pattern: random 4 KiB writes until about target bytes are out of sync
  # A second of writes alone dirties several % of 1 GiB, and the status file is rewritten once a second:
  # each burst is sized from the rate the last one dirtied, to end near the target, not far past it.
  local target=$1 pat=$2 have prev burst=0.1
  have=$(field p out-of-sync)
  while [ "$have" -lt "$target" ]; do
    prev=$have
    load randwrite "$burst" "-p $pat -r $RANDOM" > /dev/null
    sleep 1.2
    have=$(field p out-of-sync)
    echo "  burst of ${burst} s: $((have >> 20)) MiB out of sync (target $((target >> 20)) MiB)" >&2
    burst=$(awk -v b="$burst" -v d=$((have - prev)) -v left=$((target - have)) 'BEGIN { r = d / b; x = (r > 0 ? 0.9 * left / r : 2 * b); if (x < 0.02) x = 0.02; if (x > 4 * b) x = 4 * b; printf "%.3f", x }')
  done
}

med() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

resync_line() { # -> "MiB-written seconds move flush" of the standby's last completed resync of 1.1
  # (a jar from before the log line split moving from flushing, JAR=..., gives 0 for both)
  sed -n -e 's/.*resync of 1\.1 complete: \([0-9]*\) MiB written.* in \([0-9.]*\) s (\([0-9.]*\) s to move, \([0-9.]*\) s to flush).*/\1 \2 \3 \4/p' -e t \
    -e 's/.*resync of 1\.1 complete: \([0-9]*\) MiB written.* in \([0-9.]*\) s.*/\1 \2 0 0/p' "$work/s.log" | tail -1
}

u_seq="0 0 0" u_rand="0 0 0" r_seq="0 0 0" r_rand="0 0 0"
if [[ " $phases " == *" writes "* ]]; then
  echo "unreplicated (replication.role=none) ..." >&2
  start p none
  wait_aoe
  warm
  u_seq=$(figure seqwrite); u_rand=$(figure randwrite)
  stop p
fi

d_rand="0 0 0" d_state=
if [[ " $phases " == *" degraded "* ]]; then
  # Random writes while the standby is down: each write marks the bitmap, and one to an extent not in the
  # activity log (1 GiB of 4 MiB extents) first makes a log transaction durable, and the evicted extent's bits.
  echo "primary alone (its standby down: degraded) ..." >&2
  start p primary
  wait_aoe
  load randwrite "${WARMUP:-4}" "-p 92 -r 92" > /dev/null
  d_rand=$(figure randwrite)
  d_state=$(state p)
  stop p
fi

echo "replicated (primary + standby, protocol C); the standby's first sync is the full sync ..." >&2
start p primary; start s standby
wait_state p up-to-date 900; wait_state s up-to-date 900
read -r full_moved full full_move full_flush < <(resync_line)
wait_aoe
if [[ " $phases " == *" writes "* ]]; then
  warm
  r_seq=$(figure seqwrite); r_rand=$(figure randwrite)
fi

if [[ " $phases " == *" resync "* ]]; then
  for _ in $(seq 1 600); do [ "$(field p in-flight)" = 0 ] && break; sleep 0.1; done
  target=$(( (gib << 30) / 100 ))
  echo "quick resync of ~1 % dirty regions after a link cut (both servers keep running) ..." >&2
  ip -n "$ns_p" link set pr1 down
  wait_state p degraded 30
  fill_dirty "$target" 76
  cut_dirty=$(field p out-of-sync)
  : > "$work/s.log"
  ip -n "$ns_p" link set pr1 up
  wait_state s up-to-date 600
  wait_state p up-to-date 60
  read -r cut_moved cut cut_move cut_flush < <(resync_line)
  [ -n "${KEEP_LOGS:-}" ] && cp "$work/s.log" "$KEEP_LOGS/s-link-cut.log"
  echo "quick resync of ~1 % dirty regions after the standby's restart ..." >&2
  stop s
  wait_state p degraded 30
  fill_dirty "$target" 78
  dirty=$(field p out-of-sync)
  : > "$work/s.log"
  start s standby
  wait_state s up-to-date 600
  read -r quick_moved quick quick_move quick_flush < <(resync_line)
fi
stop p; stop s
[ "$(md5sum < "$work/disk-s.img")" = "$(md5sum < "$work/disk-p.img")" ] && same=yes || same=NO

cp "$work/raw.txt" "${RAW:-/tmp/replication-bench-raw.txt}" 2>/dev/null || true
echo
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
if [[ " $phases " == *" writes "* ]]; then
  echo "| ${gib} GiB disk, window 16, MTU 1500, median of $rounds × ${secs} s | unreplicated | replicated | ratio | CPU µs/write unreplicated | replicated: primary + standby |"
  echo "|---|---|---|---|---|---|"
  read -r a ap _ <<<"$u_seq"; read -r b bp bs <<<"$r_seq"
  awk -v a="$a" -v b="$b" -v ap="$ap" -v bp="$bp" -v bs="$bs" 'BEGIN { printf "| seq write MB/s (a write = one 1 KiB AoE frame) | %.1f | %.1f | %.2f | %s | %s + %s |\n", a, b, (a > 0 ? b / a : 0), ap, bp, bs }'
  read -r a ap _ <<<"$u_rand"; read -r b bp bs <<<"$r_rand"
  awk -v a="$a" -v b="$b" -v ap="$ap" -v bp="$bp" -v bs="$bs" 'BEGIN { printf "| 4 KiB random write IOPS | %.0f | %.0f | %.2f | %s | %s + %s |\n", a, b, (a > 0 ? b / a : 0), ap, bp, bs }'
  if [[ " $phases " == *" degraded "* ]]; then
    read -r b bp _ <<<"$d_rand"
    awk -v a="$a" -v b="$b" -v ap="$ap" -v bp="$bp" -v st="$d_state" 'BEGIN { printf "| 4 KiB random write IOPS, primary alone (standby down, state %s) | %.0f | %.0f | %.2f | %s | %s |\n", st, a, b, (a > 0 ? b / a : 0), ap, bp }'
  fi
  echo
fi
echo "| resync (resyncBytesPerSecond=0) | bytes | time | moving / flushing (s) | ratio | per byte |"
echo "|---|---|---|---|---|---|"
if [[ " $phases " == *" resync "* ]]; then
  awk -v d="$cut_dirty" -v g="$gib" -v m="$cut_moved" -v t="$cut" -v f="$full" -v fm="$full_moved" -v mv="$cut_move" -v fl="$cut_flush" 'BEGIN { printf "| quick resync after a link cut | %.2f %% of the disk dirty (%d MiB resynced) | %.2f s | %.2f / %.2f | %.4f × full | %.2f × full |\n", 100 * d / (g * 2^30), m, t, mv, fl, t / f, (t / (m > 0 ? m : 1)) / (f / fm) }'
  awk -v d="$dirty" -v g="$gib" -v m="$quick_moved" -v t="$quick" -v f="$full" -v fm="$full_moved" -v mv="$quick_move" -v fl="$quick_flush" 'BEGIN { printf "| quick resync after the standby restarted (its JVM cold) | %.2f %% of the disk dirty (%d MiB resynced) | %.2f s | %.2f / %.2f | %.4f × full | %.2f × full |\n", 100 * d / (g * 2^30), m, t, mv, fl, t / f, (t / (m > 0 ? m : 1)) / (f / fm) }'
fi
awk -v m="$full_moved" -v t="$full" -v mv="$full_move" -v fl="$full_flush" 'BEGIN { printf "| full sync | %d MiB | %.2f s | %.2f / %.2f | 1 | 1 |\n", m, t, mv, fl }'
echo "both copies identical at the end: $same"
