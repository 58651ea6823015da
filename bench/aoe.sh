#!/usr/bin/env bash
# AoE target benchmark: netboot against vblade, same 1 GiB file, same veth pair, same load generator.
#
#   sudo bench/aoe.sh [--no-build] [SECONDS_PER_RUN]   (default 3; ROUNDS=3 runs per cell, median reported;
#                                                --no-build: server/target/netboot.jar as it is)
#   MTUS=9000 WINDOWS=16 ROUNDS=1 bench/aoe.sh 2           (a subset while tuning)
#   VARIANTS="recvmmsg:aoe.packetRing=false ring:aoe.packetRing=true,tuning.aoeSpinNanos=20000" bench/aoe.sh
#                                                (several configurations of ours against vblade in one run)
#   DISK=clone MODES="seqwrite randwrite" VARIANTS="before:jar=/tmp/old/netboot.jar after:" bench/aoe.sh --no-build
#                                                (two builds of ours, each on its own copy-on-write clone)
#
# --no-build: use server/target/netboot.jar as it is. A variant option jar=PATH runs that build
# instead (another commit's jar, for a before/after table). MODES: any of seqread seqwrite randread
# randwrite. DISK=clone: each of ours serves its own copy-on-write clone of a sparse CLONE_GIB
# (default 16) GiB image, and every run writes to places no earlier run wrote (seq: its own GiB,
# random: its own seed), so each write pays for allocating its chunk as a client's first writes
# do; vblade still serves the plain file.
#
# Two network namespaces joined by one veth pair: both targets in one (vblade exporting the file
# as e1.1, netboot the same file as e1.2), the neutral load generator bench/aoe-loadgen.c in the
# other. Only one target runs at a time (the other is SIGSTOPped), and the runs of the two
# alternate, so a busy machine slows both alike. For MTU 1500 and 9000 and windows 1, 16 and 64
# it measures sequential read and write MB/s and 4 KiB random read IOPS, and prints a markdown
# table with ratios. vblade gets -b 64 so its advertised buffer count is not what limits it.
# Needs root, gcc, vblade (apt-get install vblade) and Java 25 (./mvnw finds it).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
no_build_flag "$@"; set -- ${REST[@]+"${REST[@]}"}
secs=${1:-3}
rounds=${ROUNDS:-3}
disk_kind=${DISK:-plain}
modes=${MODES:-seqread seqwrite randread}
work=$(mktemp -d /tmp/aoe-bench.XXXXXX)
ns_t=nbbench-t$$ ns_c=nbbench-c$$ if_t=nbbt$$ if_c=nbbc$$

cleanup() {
  for p in "${pid[@]:-}"; do [ -n "$p" ] && { kill -CONT "$p"; kill "$p"; wait "$p"; } 2>/dev/null || true; done
  ip netns del "$ns_t" 2>/dev/null || true
  ip netns del "$ns_c" 2>/dev/null || true
  [ -f "$work/raw.txt" ] && cp "$work/raw.txt" "${RAW:-/tmp/aoe-bench-raw.txt}"
  rm -rf "$work"
}
trap cleanup EXIT

command -v vblade >/dev/null || { echo "needs vblade (apt-get install vblade)" >&2; exit 1; }
gcc -O2 -Wall -o "$work/aoe-loadgen" bench/aoe-loadgen.c
bench_jar "$PWD" "$work/build.log"
# A private copy, so nothing that stops "netboot.jar" processes on this machine stops the target.
cp server/target/netboot.jar "$work/aoe-target.jar"
jar=$work/aoe-target.jar

echo "preparing a 1 GiB file ..." >&2
dd if=/dev/zero of="$work/disk.img" bs=1M count=1024 status=none
cat "$work/disk.img" > /dev/null   # both targets then read from the page cache
if [ "$disk_kind" = clone ]; then truncate -s "${CLONE_GIB:-16}G" "$work/base.img"; fi

ip netns add "$ns_t"
ip netns add "$ns_c"
ip link add "$if_t" netns "$ns_t" type veth peer name "$if_c" netns "$ns_c"
for ns in "$ns_t" "$ns_c"; do ip -n "$ns" link set lo up; done
ip -n "$ns_t" link set "$if_t" up
ip -n "$ns_c" link set "$if_c" up

# VARIANTS: configurations of netboot, each "name:option,option" (an option starting with "-" is
# for the JVM, anything else a config setting such as aoe.packetRing=false), each serving the file
# as its own slot (e1.2, e1.3, ...) beside vblade (e1.1), all measured in the same run.
variants=${VARIANTS:-netboot:}
declare -A opts sets slot jars
slot[vblade]=1
n=2
for v in $variants; do
  name=${v%%:*}
  opts[$name]="" sets[$name]="" jars[$name]=$jar
  for o in $(tr ',' ' ' <<<"${v#*:}"); do
    if [[ $o == jar=* ]]; then cp "${o#jar=}" "$work/aoe-target-$name.jar"; jars[$name]=$work/aoe-target-$name.jar
    elif [[ $o == -* ]]; then opts[$name]="${opts[$name]} $o"; else sets[$name]="${sets[$name]} --set $o"; fi
  done
  slot[$name]=$n
  n=$((n + 1))
done

start_ours() { # name: exports the file as e1.<slot>, JVM options of the variant
  local data=$work/data-$1 file=$work/disk.img
  rm -rf "$data"
  if [ "$disk_kind" = clone ]; then
    file=$work/clone-$1.img
    rm -f "$file" "$file.cow"
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "${jars[$1]}" bench/MakeClone.java "$work/base.img" "$file"
  fi
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "${jars[$1]}" disk export "1.${slot[$1]}" "$file" --open --set dataDir="$data" >/dev/null
  # shellcheck disable=SC2086
  ip netns exec "$ns_t" "$JAVA_HOME/bin/java" ${opts[$1]} --enable-native-access=ALL-UNNAMED -jar "${jars[$1]}" serve --set dataDir="$data" \
    --set "aoe.interfaces=[$if_t]" --set tftp.enabled=false --set http.enabled=false --set dhcp.mode=off ${sets[$1]} > "$work/$1.log" 2>&1 &
  pid[$1]=$!
}

start_vblade() { # exports the same file as e1.1
  ip netns exec "$ns_t" vblade -b 64 1 1 "$if_t" "$work/disk.img" > "$work/vblade.log" 2>&1 &
  pid[vblade]=$!
}

slot_of() { echo "${slot[$1]}"; }

wait_ready() {
  for _ in $(seq 1 100); do
    if ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l "$(slot_of "$1")" -m seqread -w 1 -t 0.2 >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not come up" >&2; tail -n 20 "$work"/*.log >&2; ps -o pid,stat,cmd -p "${pid[@]}" >&2; exit 1
}

# Only one target runs at a time: the other is stopped (SIGSTOP), so it takes no CPU; the frames
# it would see meanwhile are for the other shelf.slot and are ignored when it continues.
only() {
  local t
  for t in "${!pid[@]}"; do [ "$t" != "$1" ] && kill -STOP "${pid[$t]}"; done
  kill -CONT "${pid[$1]}"
  sleep 0.2
}

machine_busy() { # clock ticks all CPUs spent busy so far (user, nice, system, irq, softirq)
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

cpu_ticks() { # user and system clock ticks of a process and all its threads so far
  awk '{ print $14, $15 }' "/proc/$1/stat"
}

run() { # target mode window -> prints the figure (MB/s or IOPS)
  local out u0 s0 u1 s1 b0 b1
  only "$1"
  # (a file, not a variable: run is called in a command substitution, a subshell)
  run_no=$(( $(cat "$work/run-no" 2>/dev/null || echo 0) + 1 )); echo "$run_no" > "$work/run-no"
  local fresh=""   # on a clone, places no earlier run wrote: the seq modes a GiB of their own, the random ones a seed
  if [ "$disk_kind" = clone ]; then fresh="-o $(( (run_no * 1024) % (${CLONE_GIB:-16} * 1024) )) -r $run_no"; fi
  read -r u0 s0 < <(cpu_ticks "${pid[$1]}")
  b0=$(machine_busy)
  # shellcheck disable=SC2086
  out=$(ip netns exec "$ns_c" /usr/bin/time -f "%U %S" -o "$work/gen-time" "$work/aoe-loadgen" -i "$if_c" -s 1 -l "$(slot_of "$1")" -m "$2" -w "$3" -t "$secs" $fresh)
  read -r u1 s1 < <(cpu_ticks "${pid[$1]}")
  b1=$(machine_busy)
  # The load generator's own CPU per frame, and the whole machine's (all CPUs, softirqs included):
  # what bounds the frame rate when the generator and the target share the CPUs.
  out="$out $(awk -v b=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v t="$secs" -v o="$out" -v g="$(cat "$work/gen-time")" 'BEGIN {
    match(o, /frames_per_s=[0-9.]+/); f = substr(o, RSTART + 13, RLENGTH - 13) * t; split(g, gt, " ")
    if (f > 0) printf "gen_us_per_frame=%.2f machine_us_per_frame=%.2f", (gt[1] + gt[2]) * 1e6 / f, b / hz * 1e6 / f }')"
  # The target's CPU per frame answered (user + system), the figure that a busy machine disturbs least.
  out="$out $(awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" -v t="$secs" -v o="$out" 'BEGIN {
    match(o, /frames_per_s=[0-9.]+/); f = substr(o, RSTART + 13, RLENGTH - 13) * t
    if (f > 0) printf "cpu_us_per_frame=%.2f user_us=%.2f sys_us=%.2f", (u + s) / hz * 1e6 / f, u / hz * 1e6 / f, s / hz * 1e6 / f }')"
  echo "$1 $out" >> "$work/raw.txt"
  echo "$1 $2 w$3: $out" >&2
  if [[ $2 == rand* ]]; then sed -n 's/.* iops=\([0-9.]*\).*/\1/p' <<<"$out"; else sed -n 's/.* MBps=\([0-9.]*\).*/\1/p' <<<"$out"; fi
  sed -n 's/.*cpu_us_per_frame=\([0-9.]*\).*/\1/p' <<<"$out" > "$work/last-cpu"
  sed -n 's/.*gen_us_per_frame=\([0-9.]*\).*/\1/p' <<<"$out" > "$work/last-gen"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A pid result cpu gen
names=""
for v in $variants; do names="$names ${v%%:*}"; done
targets="vblade$names"
windows=${WINDOWS:-1 16 64}
mtus=${MTUS:-1500 9000}
for mtu in $mtus; do
  ip -n "$ns_t" link set "$if_t" mtu "$mtu"
  ip -n "$ns_c" link set "$if_c" mtu "$mtu"
  start_vblade
  for t in $names; do start_ours "$t"; done
  for t in $targets; do wait_ready "$t"; done
  for t in $targets; do
    only "$t"
    # Warm-up (JIT for ours; page cache and socket buffers for both).
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l "$(slot_of "$t")" -m seqread -w 16 -t 2 >/dev/null
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l "$(slot_of "$t")" -m seqwrite -w 16 -t 1 >/dev/null
    ip netns exec "$ns_c" "$work/aoe-loadgen" -i "$if_c" -s 1 -l "$(slot_of "$t")" -m randread -w 16 -t 1 >/dev/null
  done
  for mode in $modes; do
    for w in $windows; do
      declare -A runs=() cpus=() gens=()
      for r in $(seq 1 "$rounds"); do
        # Rotate who goes first, so drift in the machine's load hits all alike.
        order=$(tr ' ' '\n' <<<"$targets" | awk -v r="$r" '{ t[NR - 1] = $0 } END { for (i = 0; i < NR; i++) print t[(i + r - 1) % NR] }')
        for t in $order; do
          kill -0 "${pid[$t]}" 2>/dev/null || { echo "$t is no longer running" >&2; tail -n 5 "$work/$t.log" >&2; exit 1; }
          runs[$t]="${runs[$t]:-} $(run "$t" "$mode" "$w")"
          cpus[$t]="${cpus[$t]:-} $(cat "$work/last-cpu")"
          gens[$t]="${gens[$t]:-} $(cat "$work/last-gen")"
        done
      done
      line="MTU $mtu $mode window $w:"
      for t in $targets; do
        result[$mtu,$t,$mode,$w]=$(median ${runs[$t]})
        cpu[$mtu,$t,$mode,$w]=$(median ${cpus[$t]})
        gen[$mtu,$t,$mode,$w]=$(median ${gens[$t]})
        line="$line $t${runs[$t]} (${cpu[$mtu,$t,$mode,$w]} µs CPU/frame) |"
      done
      echo "$line" >&2
    done
  done
  for t in $targets; do kill -CONT "${pid[$t]}"; kill "${pid[$t]}"; wait "${pid[$t]}" 2>/dev/null || true; done
  pid=()
done

echo
echo "AoE target ($disk_kind disk for ours), median of $rounds alternating runs of $secs s, veth pair between two namespaces, 1 GiB file in the page cache ($(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
header="| MTU | test | window | vblade |" rule="|---:|---|---:|---:|"
for t in $names; do header="$header $t | $t / vblade |"; rule="$rule---:|---:|"; done
header="$header CPU µs/frame: vblade |"; rule="$rule---:|"
for t in $names; do header="$header $t |"; rule="$rule---:|"; done
# The load generator is one thread: at g µs of CPU per frame it cannot ask for more than 1/g
# frames a second, whatever the target does. Shown for each target's runs.
header="$header load generator µs/frame: vblade |"; rule="$rule---:|"
for t in $names; do header="$header $t |"; rule="$rule---:|"; done
echo "$header"
echo "$rule"
for mtu in $mtus; do
  for mode in $modes; do
    case $mode in seqread) label="seq read MB/s";; seqwrite) label="seq write MB/s";; randread) label="4 KiB rand read IOPS";; randwrite) label="4 KiB rand write IOPS";; esac
    for w in $windows; do
      v=${result[$mtu,vblade,$mode,$w]:-0}
      row="| $mtu | $label | $w | $v |"
      for t in $names; do
        o=${result[$mtu,$t,$mode,$w]:-0}
        row="$row $o | $(awk -v o="$o" -v v="$v" 'BEGIN { if (v > 0) printf "%.2f×", o / v; else print "n/a" }') |"
      done
      for t in vblade $names; do row="$row ${cpu[$mtu,$t,$mode,$w]:-} |"; done
      for t in vblade $names; do row="$row ${gen[$mtu,$t,$mode,$w]:-} |"; done
      echo "$row"
    done
  done
done
