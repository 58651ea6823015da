#!/usr/bin/env bash
# bench/tftp-cpu.sh: the server's CPU per TFTP block when the client answers slowly, ours against dnsmasq.
#
#   sudo bench/tftp-cpu.sh                       # ours (the built jar) and dnsmasq, client turnaround 300 µs
#   sudo TURNAROUND_US=1000 bench/tftp-cpu.sh
#   sudo VARIANTS="before=/tmp/old/netboot.jar after=server/target/netboot.jar" bench/tftp-cpu.sh --no-build
#   sudo SETS="tuning.eventLoopSpinMicros=0" bench/tftp-cpu.sh  # extra settings for our server (space-separated)
#   sudo COLD=1 bench/tftp-cpu.sh                # a freshly started server: ./netboot without and with its AOT cache
#   sudo COLD=1 COLD_VARIANTS="cold c1" COLD_ENV_c1="NETBOOT_AOT=off NETBOOT_JAVA_OPTS=-XX:TieredStopAtLevel=1" COLD_SETS_c1=tuning.tftpWarmUpBlocks=0 bench/tftp-cpu.sh
#
# Why: PXELINUX, GRUB and shim fetch kernels in lockstep (one block per round trip), and a PC under qemu TCG
# takes 0.2-2 ms to answer each block (bench/boot.sh CAPTURE=). Every microsecond of CPU the server spends per
# block is then taken from that PC on a machine whose CPUs it shares. This measures it without qemu: one
# lockstep client (python3, blksize 1024) that sleeps TURNAROUND_US (at least) before each ACK reads a 14 MiB file (a
# kernel's size) from each server in turn, in a private network namespace (loopback only); the figure is the
# server process's user + system CPU (/proc/PID/stat) for that transfer, divided by the blocks.
# A variant NAME=JAR_OR_CLASSPATH runs `java -cp` that instead of the built jar (e.g. a build of the commit
# before a change, or server/target/classes plus the dependency classpath).
#
# COLD=1 measures a server that has served nothing yet, as after an operator's restart (and as bench/boot.sh
# starts one per boot): each of COLD_ROUNDS (3) rounds starts every variant afresh through ./netboot serve
# (the launcher an operator runs, so its AOT cache wiring is what is measured), waits until it answers a
# one-block file, then measures TRANSFERS (3) transfers of the 14 MiB file in a row, no warm-up. Variants:
# COLD_VARIANTS (default "cold aot warm aotwarm": without/with the AOT cache, without/with the start-up warm-up
# tuning.tftpWarmUpBlocks), each with COLD_ENV_<name> (environment for ./netboot) and COLD_SETS_<name> (extra
# --set). The table gives µs of CPU per block per transfer, the first 14 MiB against the first variant and
# dnsmasq, and seconds from launch to the first answer.
set -euo pipefail

# dnsmasq as the peer's TFTP server on the bench namespace's loopback; its pid in SRV_PID.
start_dnsmasq() {
  ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-resolv --no-hosts --user=root --group=root \
    --pid-file= --bind-interfaces --listen-address=127.0.0.1 --interface=lo --enable-tftp --tftp-root="$WORK/root" --log-facility=- >"$WORK/dnsmasq.log" 2>&1 &
  SRV_PID=$!
  sleep 1
}
export LC_ALL=C
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
. "$SCRIPT_DIR/jar.sh"
no_build_flag "$@"
TURNAROUND_US=${TURNAROUND_US:-300}
RUNS=${RUNS:-3}
VARIANTS=${VARIANTS:-"ours=$REPO/server/target/netboot.jar"}
[[ $(id -u) == 0 ]] || { echo "needs root (network namespace)" >&2; exit 1; }
command -v dnsmasq >/dev/null || { echo "needs dnsmasq (apt-get install -y dnsmasq-base)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

NS=tftpcpu-$$
WORK=$(mktemp -d /tmp/tftpcpu.XXXXXX)
SRV_PID=""
cleanup() {
  [[ -n $SRV_PID ]] && { kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; } || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

bench_jar "$REPO" "$WORK/build.log"
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "$WORK/root"
head -c 14680064 /dev/urandom >"$WORK/root/vmlinuz"
echo ready >"$WORK/root/ready"
chmod -R a+rX "$WORK"

cat >"$WORK/client.py" <<'PY'
import socket, struct, sys, time
turn = float(sys.argv[1]) / 1e6
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
s.sendto(b'\x00\x01vmlinuz\x00octet\x00blksize\x001024\x00', ('127.0.0.1', 69))
expect, size, blocks = 1, 0, 0
while True:
    d, peer = s.recvfrom(2048)
    op, blk = struct.unpack('>HH', d[:4])
    if op == 6: s.sendto(struct.pack('>HH', 4, 0), peer); continue
    if op != 3: sys.exit('error from the server: %r' % d)
    time.sleep(turn)                               # the PC's turnaround (at least this; a busy host oversleeps)
    s.sendto(struct.pack('>HH', 4, blk), peer)
    if blk == expect & 0xffff:
        size += len(d) - 4; blocks += 1; expect += 1
        if len(d) - 4 < 1024: break
print(size, blocks)
PY

ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
declare -A CPU=() WALL=()
measure() {  # LABEL: SRV_PID serves; one warm-up transfer, then RUNS measured ones
  local label=$1 r a b s e out
  for ((r = 0; r <= RUNS; r++)); do
    a=$(ticks "$SRV_PID") s=$EPOCHREALTIME
    out=$(ip netns exec "$NS" python3 "$WORK/client.py" "$TURNAROUND_US")
    b=$(ticks "$SRV_PID") e=$EPOCHREALTIME
    [[ ${out%% *} == 14680064 ]] || { echo "$label: short transfer ($out)" >&2; exit 1; }
    ((r == 0)) && continue
    CPU[$label]+="$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" -v n="${out##* }" 'BEGIN { printf "%.1f", t / hz / n * 1e6 }') "
    WALL[$label]+="$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }') "
  done
  echo "  $label: µs CPU per block ${CPU[$label]}; s per transfer ${WALL[$label]}" >&2
}
median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

if [[ ${COLD:-0} == 1 ]]; then
  TRANSFERS=${TRANSFERS:-3} COLD_ROUNDS=${COLD_ROUNDS:-3}
  # cold: what every start was before (no cache, no warm-up); aotwarm: today's ./netboot serve as it is.
  read -r -a cnames <<<"${COLD_VARIANTS:-cold aot warm aotwarm}"
  : "${COLD_ENV_cold:=NETBOOT_AOT=off}" "${COLD_SETS_cold:=tuning.tftpWarmUpBlocks=0}" "${COLD_ENV_aot:=NETBOOT_AOT=auto}" \
    "${COLD_SETS_aot:=tuning.tftpWarmUpBlocks=0}" "${COLD_ENV_warm:=NETBOOT_AOT=off}" "${COLD_ENV_aotwarm:=NETBOOT_AOT=auto}"
  # The cache is made here, outside the namespace (its training run needs a loopback that is up).
  (cd "$REPO" && NETBOOT_NO_BUILD=1 ./netboot aot-cache) >"$WORK/aot-cache.log" 2>&1 \
    || { tail -n 20 "$WORK/aot-cache.log" >&2; echo "no AOT cache could be made" >&2; exit 1; }
  declare -A T=() UP=()
  for ((round = 0; round < COLD_ROUNDS; round++)); do
    order=("${cnames[@]}")
    ((round % 2)) && order=($(printf '%s\n' "${cnames[@]}" | tac))   # alternate who goes first
    for name in "${order[@]}"; do
      envv="COLD_ENV_$name" setv="COLD_SETS_$name"
      s0=$EPOCHREALTIME
      (cd "$REPO" && exec env NETBOOT_NO_BUILD=1 ${!envv:-} ip netns exec "$NS" ./netboot serve \
        --set dataDir="$WORK/data-$name-$round" --set files.root="$WORK/root" --set tftp.address=127.0.0.1 --set tftp.port=69 \
        --set http.enabled=false --set dhcp.mode=off $(for x in ${SETS:-} ${!setv:-}; do printf -- '--set %s ' "$x"; done)) >"$WORK/$name-$round.log" 2>&1 &
      SRV_PID=$!
      until ip netns exec "$NS" curl -sf --max-time 1 -o /dev/null tftp://127.0.0.1/ready; do
        kill -0 "$SRV_PID" 2>/dev/null || { tail -n 20 "$WORK/$name-$round.log" >&2; exit 1; }
        sleep 0.05
      done
      UP[$name]+="$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') "
      grep -q 'AOTCache' /proc/"$SRV_PID"/cmdline && used=with || used=without
      line="  round $round $name ($used -XX:AOTCache):"
      for ((t = 1; t <= TRANSFERS; t++)); do
        a=$(ticks "$SRV_PID")
        out=$(ip netns exec "$NS" python3 "$WORK/client.py" "$TURNAROUND_US")
        b=$(ticks "$SRV_PID")
        [[ ${out%% *} == 14680064 ]] || { echo "$name: short transfer ($out)" >&2; exit 1; }
        c=$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" -v n="${out##* }" 'BEGIN { printf "%.1f", t / hz / n * 1e6 }')
        T[$name.$t]+="$c " line+=" $c"
      done
      up=${UP[$name]% }; echo "$line µs per block; up after ${up##* } s" >&2
      if [[ ${!envv:-} == *NETBOOT_AOT=auto* && $used == without ]]; then echo "$name ran without -XX:AOTCache" >&2; exit 1; fi
      kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
    done
  done
  echo "== dnsmasq (fresh, same transfers)" >&2
  start_dnsmasq
  for ((t = 1; t <= TRANSFERS; t++)); do
    a=$(ticks "$SRV_PID"); out=$(ip netns exec "$NS" python3 "$WORK/client.py" "$TURNAROUND_US"); b=$(ticks "$SRV_PID")
    T[dnsmasq.$t]+="$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" -v n="${out##* }" 'BEGIN { printf "%.1f", t / hz / n * 1e6 }') "
  done
  out="$SCRIPT_DIR/results/tftp-cpu-cold-$(date +%Y-%m-%d-%H%M%S).md"
  first=${cnames[0]}
  {
    echo "# TFTP CPU per block on a freshly started server, lockstep client answering after ${TURNAROUND_US} µs, $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); 14 MiB file, blksize 1024 (14 336 blocks) $TRANSFERS times in a row per fresh server, median of $COLD_ROUNDS fresh starts"
    echo "- ours: $(git -C "$REPO" describe --always --dirty 2>/dev/null) through ./netboot serve ($("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)); dnsmasq: $(dnsmasq --version | head -n 1 | cut -d' ' -f3)"
    for n in "${cnames[@]}"; do v="COLD_ENV_$n" w="COLD_SETS_$n"; echo "- $n: ${!v:-} ${!w:+--set ${!w}}"; done
    echo
    printf '| server |'; for ((t = 1; t <= TRANSFERS; t++)); do printf ' transfer %d (µs CPU / block) |' "$t"; done
    echo " first 14 MiB / $first | first 14 MiB / dnsmasq | launch to first answer (s) |"
    printf '|---|'; for ((t = 1; t <= TRANSFERS; t++)); do printf -- '---:|'; done; echo '---:|---:|---:|'
    d1=$(median "${T[dnsmasq.1]}") f1=$(median "${T[$first.1]}")
    for n in "${cnames[@]}" dnsmasq; do
      printf '| %s |' "$n"
      for ((t = 1; t <= TRANSFERS; t++)); do printf ' %s |' "$(median "${T[$n.$t]}")"; done
      c=$(median "${T[$n.1]}")
      printf ' %s | %s | %s |\n' "$(awk -v a="$c" -v b="$f1" 'BEGIN { printf "%.2f×", a / b }')" \
        "$(awk -v a="$c" -v b="$d1" 'BEGIN { printf "%.2f×", a / b }')" "$([[ $n == dnsmasq ]] && echo - || median "${UP[$n]}")"
    done
    echo
    echo "Raw (µs per block, transfer 1..$TRANSFERS per fresh start): $(for n in "${cnames[@]}" dnsmasq; do printf '%s:' "$n"; for ((t = 1; t <= TRANSFERS; t++)); do printf ' [%s]' "${T[$n.$t]% }"; done; printf '; '; done)"
  } | tee "$out"
  exit 0
fi


labels=()
for v in $VARIANTS; do
  name=${v%%=*} cp=${v#*=}
  echo "== $name ($cp)" >&2
  ip netns exec "$NS" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" dev.netboot.cli.Main serve \
    --set dataDir="$WORK/data-$name" --set files.root="$WORK/root" --set tftp.address=127.0.0.1 --set tftp.port=69 \
    --set http.enabled=false --set dhcp.mode=off $(for x in ${SETS:-}; do printf -- '--set %s ' "$x"; done) >"$WORK/$name.log" 2>&1 &
  SRV_PID=$!
  for ((i = 0; i < 120; i++)); do
    ip netns exec "$NS" curl -sf --max-time 2 -o /dev/null tftp://127.0.0.1/vmlinuz && break
    kill -0 "$SRV_PID" 2>/dev/null || { tail -n 20 "$WORK/$name.log" >&2; exit 1; }
    sleep 1
  done
  measure "$name"
  kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
  labels+=("$name")
done
echo "== dnsmasq" >&2
start_dnsmasq
measure dnsmasq
labels+=(dnsmasq)

out="$SCRIPT_DIR/results/tftp-cpu-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# TFTP CPU per block, lockstep client answering after ${TURNAROUND_US} µs, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); 14 MiB file, blksize 1024 (14 336 blocks), median of $RUNS"
  echo "- ours: $(git -C "$REPO" describe --always --dirty 2>/dev/null); dnsmasq: $(dnsmasq --version | head -n 1 | cut -d' ' -f3)"
  echo
  echo "| server | CPU per block (µs) | seconds per transfer | CPU / dnsmasq |"
  echo "|---|---:|---:|---:|"
  d=$(median "${CPU[dnsmasq]}")
  for l in "${labels[@]}"; do
    c=$(median "${CPU[$l]}")
    echo "| $l | $c | $(median "${WALL[$l]}") | $(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.2f×", a / b }') |"
  done
  echo
  echo "Raw: $(for l in "${labels[@]}"; do printf '%s: %s/ %s; ' "$l" "${CPU[$l]}" "${WALL[$l]}"; done)"
} | tee "$out"
