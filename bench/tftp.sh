#!/usr/bin/env bash
# bench/tftp.sh: side-by-side TFTP throughput benchmark of our server against
# tftp-hpa and dnsmasq, on identical network namespaces, files and clients.
#
# A benchmark run by hand (as root), not a test: CI never runs it.
# See bench/README.md for how to run it and how to read the table.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The repository whose ./netboot is benchmarked as "ours". NETBOOT_REPO exists so the
# script's own plumbing can be tried against a stand-in server.
REPO=${NETBOOT_REPO:-$(cd "$SCRIPT_DIR/.." && pwd)}

RUNS=3            # repetitions per measurement; the table shows the median
SIZE_MB=64        # single-client file; the storm file is half of it
STORM=50          # concurrent clients in the boot storm
MTU=1500          # veth MTU; the "big" blksize is MTU - 32 (IP 20 + UDP 8 + TFTP 4)
ONLY_PEERS=0
BUILD=1
READY_TIMEOUT=${READY_TIMEOUT:-120}   # seconds for a server to answer; ours is a JVM
XFER_TIMEOUT=${XFER_TIMEOUT:-600}     # seconds before one transfer counts as hung

usage() {
  cat <<EOF
Usage: sudo bench/tftp.sh [options]

Benchmarks TFTP servers (ours, tftp-hpa, dnsmasq) one after the other on the same
pair of network namespaces and prints a markdown table, also written to
bench/results/tftp-DATE.md.

  --runs N       repetitions per measurement, median reported (default $RUNS)
  --size-mb N    single-client file size in MiB; storm file is N/2 (default $SIZE_MB)
  --storm N      concurrent clients in the boot storm (default $STORM)
  --mtu N        veth MTU; big blksize = N - 32 (default $MTU)
  --only-peers   skip our server (e.g. while it does not exist yet)
  --no-build     do not run ./mvnw package before starting ours
  -h, --help     this text
EOF
}

while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --storm) STORM=$2; shift 2 ;;
    --mtu) MTU=$2; shift 2 ;;
    --only-peers) ONLY_PEERS=1; shift ;;
    --no-build) BUILD=0; export NETBOOT_NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'tftp.sh: %s\n' "$*" >&2; exit 1; }

for v in RUNS SIZE_MB STORM MTU; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v,,} wants a positive integer, got '${!v}'"
done
((MTU >= 576 && MTU <= 65535)) || die "--mtu must be within 576..65535"

BIG_BS=$((MTU - 32))
STORM_MB=$((SIZE_MB / 2 > 0 ? SIZE_MB / 2 : 1))
BIG_BYTES=$((SIZE_MB * 1024 * 1024))
STORM_BYTES=$((STORM_MB * 1024 * 1024))
PROBE_BYTES=65536   # small file: readiness polls and option-negotiation probes

# ---------------------------------------------------------------------------
# Servers. Each one is a single function answering four questions:
#   label    column title
#   version  one line for the report header
#   check    fail (with a message naming the Debian package) if it can't run
#   start    run in the foreground inside $NS_SRV, serving $ROOT on $SRV_IP:69
# To add a server: write server_<id> and append <id> to SERVERS.
# ---------------------------------------------------------------------------
SERVERS=(ours hpa dnsmasq)

server_ours() {
  case $1 in
    label) echo "ours" ;;
    version)
      echo "netboot $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')" ;;
    check)
      [[ -x $REPO/netboot ]] \
        || die "$REPO/netboot is missing (is our server written yet?); use --only-peers"
      # The namespaces have no route out, so ./netboot must not need Maven Central
      # from inside them: build on the host first.
      if ((BUILD)) && [[ -x $REPO/mvnw ]]; then
        log "building ours on the host (./mvnw -q -DskipTests package)"
        (cd "$REPO" && ./mvnw -q -B -DskipTests package) >"$WORK/build.log" 2>&1 \
          || { tail -n 40 "$WORK/build.log" >&2; die "build of ours failed"; }
      fi ;;
    start)
      exec ip netns exec "$NS_SRV" "$REPO/netboot" serve \
        --set files.root="$ROOT" --set tftp.port=69 \
        --set tftp.address="$SRV_IP" --set http.enabled=false \
        --set tftp.maxTransfersPerClient=$(( STORM > 16 ? STORM : 16 )) ;;  # the storm's clients share one address
  esac
}

server_hpa() {
  case $1 in
    label) echo "tftp-hpa" ;;
    version) /usr/sbin/in.tftpd -V 2>&1 | head -n 1 ;;
    check) need /usr/sbin/in.tftpd tftpd-hpa ;;
    start)
      # --secure chroots into ROOT; it then runs as "nobody", hence world-readable files.
      # blksize is honoured up to 65464 by default; windowsize is not implemented.
      exec ip netns exec "$NS_SRV" /usr/sbin/in.tftpd --foreground --listen \
        --address "$SRV_IP:69" --secure "$ROOT" ;;
  esac
}

server_dnsmasq() {
  case $1 in
    label) echo "dnsmasq" ;;
    version) dnsmasq --version | head -n 1 ;;
    check) need dnsmasq dnsmasq-base ;;
    start)
      # --port=0: no DNS; no --dhcp-range: no DHCP; /dev/null config, no resolv/hosts:
      # nothing from the host leaks in.
      # dnsmasq clamps blksize to (MTU of the interface at start-up) - 32 and to its
      # packet buffer, which is sized from --edns-packet-max (default 1232, giving a
      # 2263-byte cap): raise it so jumbo-MTU runs get their blksize honoured.
      # --tftp-max defaults to 50 concurrent transfers, exactly the default storm.
      exec ip netns exec "$NS_SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --no-resolv --no-hosts --port=0 --enable-tftp --tftp-root="$ROOT" \
        --listen-address="$SRV_IP" --bind-interfaces --user=root \
        --edns-packet-max=65535 --tftp-max=$((STORM + 16)) \
        --pid-file="$WORK/dnsmasq.pid" --log-facility=- ;;
  esac
}

# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------
need() {  # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: apt-get install $2"
}

check_prereqs() {
  ((EUID == 0)) || die "must run as root (it creates network namespaces)"
  need ip iproute2
  need curl curl
  need atftp atftp
  need timeout coreutils
  need sha256sum coreutils
  need awk mawk
  curl --version | grep -qw tftp || die "this curl was built without TFTP support"
}

# ---------------------------------------------------------------------------
# Topology: server and client namespaces joined by one veth pair, nothing else,
# so no benchmark packet can reach or come from the host.
# ---------------------------------------------------------------------------
NS_SRV="tftpbench-srv-$$"
NS_CLI="tftpbench-cli-$$"
VETH_SRV="tfb$$s"     # interface names are limited to 15 characters
VETH_CLI="tfb$$c"
WORK=""
SHM=""
SERVER_JOB=""

in_cli() { ip netns exec "$NS_CLI" "$@"; }

ip2int() { local a b c d; IFS=. read -r a b c d <<<"$1"; echo $(( (a << 24) | (b << 16) | (c << 8) | d )); }

# Is 198.18.N.0/24 disjoint from every IPv4 address and route on the host? Not needed
# for isolation (namespaces have their own tables) but keeps captures unambiguous.
subnet_free() {
  local net; net=$(ip2int "198.18.$1.0")
  local cidr addr len mask
  while read -r cidr; do
    addr=${cidr%/*}; len=${cidr#*/}; [[ $cidr == */* ]] || len=32
    mask=$(( len == 0 ? 0 : (0xffffffff << (32 - len)) & 0xffffffff ))
    ((len > 24)) && mask=$(( 0xffffff00 ))   # compare at /24 granularity
    (( ($(ip2int "$addr") & mask) == (net & mask) )) && return 1
  done < <({ ip -4 -o addr show | awk '{print $4}'
             ip -4 route show table all | awk '{for (i = 1; i <= 2; i++) print $i}'; } \
           | grep -E '^[0-9]+(\.[0-9]+){3}(/[0-9]+)?$' || true)
  return 0
}

setup_net() {
  local n third=""
  for n in 69 70 71 72 73 74 75 76 77 78 79 80; do
    if subnet_free "$n"; then third=$n; break; fi
  done
  [[ -n $third ]] || die "no free /24 in 198.18.69-80.0 on this host"
  SRV_IP="198.18.$third.1"
  CLI_IP="198.18.$third.2"
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  ip link add "$VETH_SRV" mtu "$MTU" type veth peer name "$VETH_CLI" mtu "$MTU"
  ip link set "$VETH_SRV" netns "$NS_SRV"
  ip link set "$VETH_CLI" netns "$NS_CLI"
  ip -n "$NS_SRV" addr add "$SRV_IP/24" dev "$VETH_SRV"
  ip -n "$NS_CLI" addr add "$CLI_IP/24" dev "$VETH_CLI"
  ip -n "$NS_SRV" link set lo up
  ip -n "$NS_CLI" link set lo up
  ip -n "$NS_SRV" link set "$VETH_SRV" up
  ip -n "$NS_CLI" link set "$VETH_CLI" up
  log "namespaces $NS_SRV ($SRV_IP) <-> $NS_CLI ($CLI_IP), veth MTU $MTU"
}

ns_pids() { ip netns pids "$1" 2>/dev/null || true; }

kill_ns_procs() {  # every process in our namespaces is one this script started
  local ns=$1 pids i
  mapfile -t pids < <(ns_pids "$ns")
  ((${#pids[@]})) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for i in {1..50}; do     # up to 5 s for a JVM to shut down cleanly
    [[ -z $(ns_pids "$ns") ]] && return 0
    sleep 0.1
  done
  mapfile -t pids < <(ns_pids "$ns")
  ((${#pids[@]} == 0)) || kill -9 "${pids[@]}" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  for ns in "$NS_SRV" "$NS_CLI"; do
    if ip netns list | grep -qw "$ns"; then
      kill_ns_procs "$ns"
      ip netns del "$ns"      # takes the veth pair with it
    fi
  done
  [[ -n $SERVER_JOB ]] && wait "$SERVER_JOB" 2>/dev/null
  [[ -n $WORK ]] && rm -rf "$WORK"
  [[ -n $SHM ]] && rm -rf "$SHM"
  exit "$rc"
}

# ---------------------------------------------------------------------------
# Files: random data (nothing compressible, nothing a server could special-case),
# world-readable because tftp-hpa runs as nobody and dnsmasq insists on it.
# ---------------------------------------------------------------------------
make_files() {
  ROOT="$WORK/root"
  mkdir -p "$ROOT"
  chmod 755 "$WORK" "$ROOT"
  log "writing ${SIZE_MB} MiB + ${STORM_MB} MiB of random data"
  head -c "$BIG_BYTES" /dev/urandom >"$ROOT/file$SIZE_MB"
  head -c "$STORM_BYTES" /dev/urandom >"$ROOT/storm$STORM_MB"
  head -c "$PROBE_BYTES" /dev/urandom >"$ROOT/probe"
  chmod 644 "$ROOT"/*
  BIG_FILE="file$SIZE_MB"
  STORM_FILE="storm$STORM_MB"
  BIG_SUM=$(sha256sum <"$ROOT/$BIG_FILE" | cut -d' ' -f1)
  STORM_SUM=$(sha256sum <"$ROOT/$STORM_FILE" | cut -d' ' -f1)
}

# ---------------------------------------------------------------------------
# Server lifecycle
# ---------------------------------------------------------------------------
start_server() {
  local id=$1
  SERVER_LOG="$WORK/$id.log"
  server_"$id" start >"$SERVER_LOG" 2>&1 &
  SERVER_JOB=$!
}

# Ready = a real TFTP fetch of the probe file returns all of it; a bound port alone
# says nothing about a JVM that is still initialising.
# A probe sent before the socket is bound is simply lost (curl does not see the ICMP
# error on its unconnected socket), hence the short per-probe timeout.
wait_ready() {
  local t0=$EPOCHREALTIME got
  while (($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a < '"$READY_TIMEOUT"') }'))); do
    kill -0 "$SERVER_JOB" 2>/dev/null || return 1
    got=$(in_cli curl -s --max-time 0.5 -o /dev/null -w '%{size_download}' \
      "tftp://$SRV_IP/probe" 2>/dev/null || true)
    if [[ $got == "$PROBE_BYTES" ]]; then
      log "  answering after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

stop_server() {
  kill_ns_procs "$NS_SRV"
  [[ -n $SERVER_JOB ]] && { wait "$SERVER_JOB" 2>/dev/null || true; }
  SERVER_JOB=""
}

# ---------------------------------------------------------------------------
# Clients. Each fetch prints "BYTES SECONDS"; a non-zero status means it failed.
# ---------------------------------------------------------------------------

# curl measures %{time_total} itself, so entering the namespace is not timed.
fetch_curl() {  # BLKSIZE FILE [OUTPUT]
  in_cli curl -sS --max-time "$XFER_TIMEOUT" -o "${3:-/dev/null}" --tftp-blksize "$1" \
    -w '%{size_download} %{time_total}' "tftp://$SRV_IP/$2"
}

# atftp reports no byte count, so it writes to tmpfs and the file is measured;
# the clock runs inside the namespace around atftp alone.
fetch_atftp() {  # FILE ATFTP-OPTION...
  local file=$1; shift
  # shellcheck disable=SC2016  # expanded by the inner shell
  in_cli bash -c '
    out=$1 file=$2 ip=$3 tmo=$4; shift 4
    rm -f "$out"
    t0=$(date +%s.%N)
    timeout "$tmo" atftp "$@" -g -r "$file" -l "$out" "$ip" >/dev/null 2>&1 || exit 1
    t1=$(date +%s.%N)
    echo "$(stat -c %s "$out") $(awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.6f\", b - a }")"
    rm -f "$out"' _ "$SHM/atftp.out" "$file" "$SRV_IP" "$XFER_TIMEOUT" "$@"
}

# How far can windowsize 16 beat lockstep with this client, whatever the server does? A capture
# on the server's end of the veth splits each round trip into the server's turnaround (ACK in →
# DATA out) and the client's (last DATA out → its ACK in: delivery, wake-up, its reads and file
# writes). With a server that took no time, the ratio would be the client's turnaround per packet
# in lockstep over its turnaround per packet in a window. Median of RUNS captures of each.
window_ceiling() {  # SERVER
  local id=$1 i lock=() win=() mode
  command -v tcpdump >/dev/null || { log "  no tcpdump: window ceiling not measured"; return 0; }
  for ((i = 1; i <= RUNS; i++)); do
    for mode in lockstep ws16; do
      local cap="$WORK/turnaround.pcap" dump opts=(--option "blksize $BIG_BS")
      [[ $mode == ws16 ]] && opts+=(--option "windowsize 16")
      rm -f "$cap"
      ip netns exec "$NS_SRV" tcpdump -i "$VETH_SRV" -nn -s 64 -U -w "$cap" udp >/dev/null 2>&1 &
      dump=$!
      for _ in {1..50}; do [[ -s $cap ]] && break; sleep 0.1; done   # it writes the file header once capturing
      sleep 0.3
      fetch_atftp "$BIG_FILE" "${opts[@]}" >/dev/null || log "  $mode capture: transfer failed"
      # libpcap hands over a partly filled ring block only when its 1 s timeout fires.
      sleep 1.2; kill "$dump"; wait "$dump" 2>/dev/null || true
      [[ -n ${KEEP_PCAP:-} ]] && cp "$cap" "$KEEP_PCAP.$mode"
      # ACKs are 4 bytes; per packet = client turnaround per ACK / packets per ACK.
      local per
      # A window sent with UDP GSO is captured as one datagram of up to 64 packets.
      per=$(tcpdump -r "$cap" -nn -tt 2>/dev/null | awk -v srv="$SRV_IP" -v seg=$((BIG_BS + 4)) '
        $3 ~ "^" srv "\\." { last = $1; n += int(($NF + seg - 1) / seg); next }
        $NF == 4 && last { sum += $1 - last; acks++ }
        END { if (acks) printf "%.3f", sum / acks * 1e6 / (n / acks) }')
      if [[ $mode == lockstep ]]; then lock+=("$per"); else win+=("$per"); fi
    done
  done
  local l w; l=$(median "${lock[@]}"); w=$(median "${win[@]}")
  R["$id|ws_ceiling"]=$(awk -v l="$l" -v w="$w" 'BEGIN { if (w > 0) printf "%.3f", l / w }')
  RAW["$id|ws_ceiling"]="client µs per packet, lockstep: ${lock[*]}; windowed: ${win[*]}"
  log "  client turnaround per packet: lockstep ${lock[*]} µs, window 16 ${win[*]} µs"
}

# Which blksize did the server grant? curl -v logs the OACK; no OACK means 512.
granted_blksize() {  # REQUESTED
  local bs
  bs=$(in_cli curl -sv --max-time 10 -o /dev/null --tftp-blksize "$1" \
    "tftp://$SRV_IP/probe" 2>&1 | awk '/blksize parsed from OACK/ {
      sub(/.*OACK \(/, ""); sub(/\).*/, ""); print; exit }' || true)
  echo "${bs:-512}"
}

# Which windowsize did the server grant atftp? Empty = not acknowledged, i.e. the
# transfer silently falls back to lockstep; that must show as n/a, not as a figure.
granted_windowsize() {
  in_cli timeout 20 atftp --trace --option "windowsize 16" --option "blksize $BIG_BS" \
    -g -r probe -l "$SHM/probe.out" "$SRV_IP" 2>&1 \
    | awk '/^received OACK/ { if (match($0, /windowsize: [0-9]+/))
             print substr($0, RSTART + 12, RLENGTH - 12); exit }' || true
}

# ---------------------------------------------------------------------------
# Measurements. Results live in R["server|row"]; raw runs in RAW["server|row"].
# ---------------------------------------------------------------------------
declare -A R=() RAW=() NOTE=() NEG=()   # NEG[server]: what it negotiated
FAILED=0
ROWS=(bs512 bsbig lockstep ws16 wsgain ws_ceiling storm_agg storm_slow storm_client_us storm_machine_us storm_ceiling)

median() {  # numbers as arguments
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.6f", v[(NR + 1) / 2]; else printf "%.6f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fail_cell() {  # SERVER ROW WHY
  R["$1|$2"]="FAIL"
  FAILED=1
  log "FAIL $1 $2: $3"
}

# Run one single-client fetch RUNS times; store the median MB/s (10^6 bytes/s).
measure() {  # SERVER ROW EXPECTED-BYTES FETCH-FUNCTION ARGS...
  local id=$1 row=$2 want=$3; shift 3
  local vals=() i out bytes secs
  for ((i = 1; i <= RUNS; i++)); do
    if ! out=$("$@" 2>&1); then fail_cell "$id" "$row" "transfer failed: $out"; return 0; fi
    read -r bytes secs <<<"$out"
    if [[ $bytes != "$want" ]]; then
      fail_cell "$id" "$row" "got $bytes bytes, expected $want"; return 0
    fi
    vals+=("$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.3f", b / s / 1e6 }')")
  done
  R["$id|$row"]=$(median "${vals[@]}")
  RAW["$id|$row"]="${vals[*]}"
  log "  $row: ${vals[*]} MB/s"
}

# STORM curls at once from one shell inside the client namespace. Aggregate =
# all bytes / wall time from first launch to last exit; slowest = max time_total.
storm_once() {
  local dir=$SHM/storm
  rm -rf "$dir"; mkdir -p "$dir"
  local span busy0 busy1
  busy0=$(machine_busy)
  # The inner shell's `times` after `wait`: user and system CPU of all its (reaped) curls.
  # shellcheck disable=SC2016  # expanded by the inner shell
  span=$(in_cli bash -c '
    n=$1 url=$2 bs=$3 dir=$4 tmo=$5
    t0=$(date +%s.%N)
    for ((i = 1; i <= n; i++)); do
      curl -s --max-time "$tmo" -o /dev/null --tftp-blksize "$bs" \
        -w "%{size_download} %{time_total}\n" "$url" >"$dir/$i" 2>/dev/null &
    done
    wait
    t1=$(date +%s.%N)
    times >"$dir/.times"   # not in a $(...): a subshell would report its own children
    kids=$(tail -n 1 "$dir/.times" | tr -d s | awk "{ split(\$1, u, \"m\"); split(\$2, y, \"m\"); print u[1] * 60 + u[2] + y[1] * 60 + y[2] }")
    awk -v a="$t0" -v b="$t1" -v k="$kids" "BEGIN { printf \"%.6f %.3f\", b - a, k }"' \
    _ "$STORM" "tftp://$SRV_IP/$STORM_FILE" "$BIG_BS" "$dir" "$XFER_TIMEOUT")
  busy1=$(machine_busy)
  # prints "COMPLETE-CLIENTS SLOWEST-SECONDS WALL-SECONDS CLIENT-CPU-SECONDS MACHINE-BUSY-SECONDS"
  rm -f "$dir/.times"
  cat "$dir"/* 2>/dev/null | awk -v want="$STORM_BYTES" -v span="$span" -v busy=$((busy1 - busy0)) -v hz="$(getconf CLK_TCK)" '
    $1 == want { ok++ } $2 > max { max = $2 } END { printf "%d %.6f %s %.3f", ok, max, span, busy / hz }'
}

# Clock ticks all CPUs have spent busy so far (user, nice, system, irq, softirq).
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

measure_storm() {
  local id=$1 i ok slow span kids busy aggs=() slows=() kidus=() busyus=()
  local packets=$(( STORM * (STORM_BYTES / BIG_BS + 1) ))
  for ((i = 1; i <= RUNS; i++)); do
    read -r ok slow span kids busy <<<"$(storm_once)"
    if ((ok != STORM)); then
      fail_cell "$id" storm_agg "only $ok of $STORM clients got all $STORM_BYTES bytes"
      R["$id|storm_slow"]="FAIL"
      return 0
    fi
    aggs+=("$(awk -v n="$STORM" -v b="$STORM_BYTES" -v s="$span" 'BEGIN { printf "%.3f", n * b / s / 1e6 }')")
    slows+=("$slow")
    kidus+=("$(awk -v c="$kids" -v p="$packets" 'BEGIN { printf "%.3f", c * 1e6 / p }')")
    busyus+=("$(awk -v c="$busy" -v p="$packets" 'BEGIN { printf "%.3f", c * 1e6 / p }')")
  done
  # CPU per DATA packet: the curls' own (user + system), and the whole machine's (all CPUs,
  # softirqs included). The clients' share bounds any server: with a server that cost nothing,
  # the CPUs could still carry at most NCPU / (clients' µs per packet) packets a second.
  R["$id|storm_client_us"]=$(median "${kidus[@]}")
  R["$id|storm_machine_us"]=$(median "${busyus[@]}")
  R["$id|storm_ceiling"]=$(awk -v n="$(nproc)" -v us="${R[$id|storm_client_us]}" -v b="$BIG_BS" 'BEGIN { printf "%.3f", n / (us / 1e6) * b / 1e6 }')
  RAW["$id|storm_client_us"]="${kidus[*]}"
  RAW["$id|storm_machine_us"]="${busyus[*]}"
  R["$id|storm_agg"]=$(median "${aggs[@]}")
  R["$id|storm_slow"]=$(median "${slows[@]}")
  RAW["$id|storm_agg"]="${aggs[*]}"
  RAW["$id|storm_slow"]="${slows[*]}"
  log "  storm: ${aggs[*]} MB/s aggregate; slowest ${slows[*]} s"
}

# Full download compared by SHA-256 once per server, so a server that sends the
# right number of wrong bytes cannot look fast. Doubles as a warm-up (JIT, caches).
verify_content() {
  local id=$1 f want got
  for f in "$BIG_FILE:$BIG_SUM" "$STORM_FILE:$STORM_SUM"; do
    want=${f#*:}
    rm -f "$SHM/check"
    fetch_curl "$BIG_BS" "${f%%:*}" "$SHM/check" >/dev/null 2>&1 || true
    got=$(sha256sum <"$SHM/check" 2>/dev/null | cut -d' ' -f1 || true)
    [[ $got == "$want" ]] || { log "checksum mismatch on ${f%%:*}"; return 1; }
  done
  rm -f "$SHM/check"
}

bench_server() {
  local id=$1 label row bs ws
  label=$(server_"$id" label)
  log "== $label"
  start_server "$id"
  if ! wait_ready; then
    if kill -0 "$SERVER_JOB" 2>/dev/null; then
      log "$label did not answer within ${READY_TIMEOUT}s; last lines of its log:"
    else
      log "$label exited before answering; last lines of its log:"
    fi
    tail -n 20 "$SERVER_LOG" >&2 || true
    for row in "${ROWS[@]}"; do fail_cell "$id" "$row" "server not ready"; done
    stop_server; return 0
  fi
  if ! verify_content "$id"; then
    for row in "${ROWS[@]}"; do fail_cell "$id" "$row" "content mismatch"; done
    stop_server; return 0
  fi

  bs=$(granted_blksize 512)
  [[ $bs == 512 ]] || NOTE["$id|bs512"]="got blksize $bs"
  bs=$(granted_blksize "$BIG_BS")
  [[ $bs == "$BIG_BS" ]] || NOTE["$id|bsbig"]="got blksize $bs"
  ws=$(granted_windowsize)
  NEG["$id"]="blksize $BIG_BS→$bs, windowsize 16→${ws:-not acknowledged}"
  log "  negotiation: ${NEG[$id]}"

  measure "$id" bs512 "$BIG_BYTES" fetch_curl 512 "$BIG_FILE"
  measure "$id" bsbig "$BIG_BYTES" fetch_curl "$BIG_BS" "$BIG_FILE"
  measure "$id" lockstep "$BIG_BYTES" fetch_atftp "$BIG_FILE" --option "blksize $BIG_BS"
  if [[ -n $ws ]]; then
    [[ $ws == 16 ]] || NOTE["$id|ws16"]="got windowsize $ws"
    measure "$id" ws16 "$BIG_BYTES" fetch_atftp "$BIG_FILE" \
      --option "windowsize 16" --option "blksize $BIG_BS"
    if [[ ${R[$id|ws16]} != FAIL && ${R[$id|lockstep]} != FAIL ]]; then
      R["$id|wsgain"]=$(awk -v a="${R[$id|ws16]}" -v b="${R[$id|lockstep]}" 'BEGIN { printf "%.3f", a / b }')
    fi
    window_ceiling "$id"
  fi
  measure_storm "$id"
  stop_server
}

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
row_label() {
  case $1 in
    bs512) echo "${SIZE_MB} MiB, blksize 512, curl (MB/s)" ;;
    bsbig) echo "${SIZE_MB} MiB, blksize $BIG_BS, curl (MB/s)" ;;
    lockstep) echo "${SIZE_MB} MiB, blksize $BIG_BS, atftp lockstep (MB/s)" ;;
    ws16) echo "${SIZE_MB} MiB, blksize $BIG_BS, atftp windowsize 16 (MB/s)" ;;
    wsgain) echo "windowsize 16 / lockstep, same client (×, goal ≥ 4)" ;;
    storm_agg) echo "storm: $STORM × ${STORM_MB} MiB, blksize $BIG_BS, aggregate (MB/s)" ;;
    storm_slow) echo "storm: slowest client (s, lower is better)" ;;
    storm_client_us) echo "storm: the curl clients' own CPU per packet (µs)" ;;
    storm_machine_us) echo "storm: whole machine's CPU per packet (µs)" ;;
    storm_ceiling) echo "storm: ceiling with a server costing nothing, $(nproc) CPUs / clients' CPU per packet (MB/s)" ;;
    ws_ceiling) echo "windowsize 16 / lockstep ceiling with a server taking no time: client turnaround per packet, lockstep / windowed (×)" ;;
  esac
}

is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

cell() {  # SERVER ROW
  local v=${R[$1|$2]:-n/a} note=${NOTE[$1|$2]:-}
  if is_num "$v"; then
    case $2 in
      storm_slow) v=$(printf '%.2f' "$v") ;;
      wsgain|ws_ceiling) v=$(printf '%.2f×' "$v") ;;
      storm_client_us|storm_machine_us) v=$(printf '%.2f' "$v") ;;
      *) v=$(printf '%.1f' "$v") ;;
    esac
  fi
  [[ -n $note ]] && v="$v ($note)"
  echo "$v"
}

# ours / best peer; for the time row "best" is the smallest and < 1 is good.
ratio() {  # ROW
  local row=$1 ours=${R[ours|$1]:-} best="" id v
  case $row in ws_ceiling|storm_client_us|storm_ceiling) echo "n/a"; return ;; esac
  for id in "${ACTIVE[@]}"; do
    [[ $id == ours ]] && continue
    v=${R[$id|$row]:-}
    is_num "$v" || continue
    if [[ -z $best ]]; then best=$v
    elif [[ $row == storm_slow || $row == storm_machine_us ]]; then best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b < a ? b : a) }')
    else best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b > a ? b : a) }'); fi
  done
  if is_num "$ours" && [[ -n $best ]]; then
    awk -v a="$ours" -v b="$best" 'BEGIN { printf "%.2f×", a / b }'
  else
    echo "n/a"
  fi
}

report() {
  local id row line
  echo "# TFTP benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), load average at start $LOAD_AT_START"
  echo "- network: veth pair between two network namespaces, MTU $MTU, $SRV_IP ↔ $CLI_IP"
  echo "- files: random data, ${SIZE_MB} MiB (single client), ${STORM_MB} MiB (storm); median of $RUNS run(s); MB/s = 10^6 bytes/s"
  echo "- clients: $(curl --version | head -n 1 | cut -d' ' -f1-2), $(atftp --version 2>&1 | head -n 1)"
  for id in "${SERVERS[@]}"; do
    if [[ " ${ACTIVE[*]} " == *" $id "* ]]; then
      echo "- $(server_"$id" label): $(server_"$id" version)${NEG[$id]:+; negotiated ${NEG[$id]}}"
    else
      echo "- $(server_"$id" label): skipped"
    fi
  done
  echo
  line="| |"
  for id in "${SERVERS[@]}"; do line+=" $(server_"$id" label) |"; done
  echo "$line ours / best peer |"
  line="|---|"
  for id in "${SERVERS[@]}"; do line+="---:|"; done
  echo "$line---:|"
  for row in "${ROWS[@]}"; do
    line="| $(row_label "$row") |"
    for id in "${SERVERS[@]}"; do
      if [[ " ${ACTIVE[*]} " == *" $id "* ]]; then line+=" $(cell "$id" "$row") |"
      else line+=" skipped |"; fi
    done
    echo "$line $(ratio "$row") |"
  done
}

report_raw() {
  local id row
  echo
  echo "## Raw runs"
  echo
  for id in "${ACTIVE[@]}"; do
    for row in "${ROWS[@]}"; do
      if [[ -n ${RAW[$id|$row]:-} ]]; then
        echo "- $(server_"$id" label) / $row: ${RAW[$id|$row]}"
      fi
    done
  done
}

# ---------------------------------------------------------------------------
main() {
  # Other work on the machine skews every figure; the header shows how busy it was.
  LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
  check_prereqs
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP
  WORK=$(mktemp -d /tmp/tftpbench.XXXXXX)
  SHM=$(mktemp -d /dev/shm/tftpbench.XXXXXX 2>/dev/null || mktemp -d /tmp/tftpbench-out.XXXXXX)

  ACTIVE=()
  for id in "${SERVERS[@]}"; do
    [[ $id == ours ]] && ((ONLY_PEERS)) && continue
    server_"$id" check
    ACTIVE+=("$id")
  done

  setup_net
  make_files
  for id in "${ACTIVE[@]}"; do bench_server "$id"; done

  mkdir -p "$SCRIPT_DIR/results"
  local out
  out="$SCRIPT_DIR/results/tftp-$(date +%Y-%m-%d-%H%M%S).md"
  report | tee "$out"
  report_raw >>"$out"
  log "written to $out"
  ((FAILED == 0)) || die "some measurements failed (FAIL in the table); see messages above"
}

main
