#!/usr/bin/env bash
# bench/boot.sh: power-on to the image's init, our server against dnsmasq (DHCP + TFTP) + vblade,
# for one client and for CLIENTS clients at once; and the time to give a client its own 1 GiB and
# 8 GiB disk (our copy-on-write clone against the full copy vblade needs).
#
#   sudo bench/boot.sh                       # CLIENTS=8 RUNS=1
#   sudo CLIENTS=4 RUNS=3 bench/boot.sh      # median of 3 runs
#   sudo SKIP_CLONE=1 bench/boot.sh          # boot rows only (CLONE_SIZES="1G 8G" by default)
#   sudo bench/boot.sh --no-build            # server/target/netboot.jar as it is, no ./mvnw package
#   sudo CLIENTS=1 SKIP_CLONE=1 bench/boot.sh        # every client kind, one PC each (the table of issue 14)
#   sudo KINDS="bios-ipxe uefi-secure" CLIENTS=1 SKIP_CLONE=1 bench/boot.sh   # a subset
#   sudo NETBOOT_AOT=off OURS_SETS="tuning.tftpWarmUpBlocks=0" bench/boot.sh   # ours as a cold JVM (no AOT cache, no warm-up)
#
# Client kinds (KINDS, default all seven):
#   bios-ipxe     SeaBIOS + the NIC's iPXE ROM -> boot.ipxe -> per-MAC script -> kernel + initrd ("bios" is the same)
#   bios-pxelinux the same ROM handed pxelinux.0 (boot.loader=pxelinux) -> pxelinux.cfg/01-<mac> -> kernel + initrd
#                 by TFTP, as the peer (OURS_SETS="boot.pxelinuxHttp=true": lpxelinux.0, kernel + initrd by HTTP)
#   bios-grub     the same ROM handed grub-mknetdir's core.0 (boot.loader=grub) -> grub/grub.cfg-01-<mac> -> http.mod,
#                 kernel + initrd by HTTP (the peer: TFTP)
#   uefi-ipxe     OVMF + the same combined ROM's iPXE EFI driver
#   uefi-pxe      OVMF's own PXE (no ROM) -> snponly.efi over TFTP -> iPXE
#   uefi-secure   OVMF's Secure Boot build (Microsoft's keys, q35 + SMM), own PXE -> shimx64.efi -> signed grubx64.efi
#                 -> grub.cfg -> the image's signed kernel + initrd by TFTP on both (no setting changed on ours;
#                 Debian 12's signed GRUB has no http module)
#   uefi-http     OVMF's own HTTP boot (no ROM, PXE off) -> snponly.efi over HTTP -> iPXE
# OVMF (package ovmf) and snponly.efi (package ipxe) come from the tests' cache (~/.cache/netboot-test/pkg-*);
# PXELINUX, GRUB and shim from the tests' loader tree (~/.cache/netboot-test/debian-loaders, the packages of
# loaders.DebianLoaders), both fetched with apt-get download when missing. Ours serves the loaders from that
# tree (boot.loadersRoot); the peer's TFTP root gets the same files, grub-mknetdir's image made with the same
# tool, and the menus `netboot menu` renders. The peer serves snponly.efi by TFTP (dnsmasq) and, for HTTP
# boot, by `python3 -m http.server` (dnsmasq has no HTTP server); the rest as for bios-ipxe.
#
# A benchmark run by hand (as root), not a test: CI never runs it. See bench/README.md.
# One private network namespace holds everything: a bridge, one tap per PC, the server side and the
# qemu PCs, so nothing touches the host's network or another DHCP server. Both stacks get the same
# namespace, the same qemu command lines (iPXE ROM, virtio NIC, TCG), the same kernel, the same
# initrd (the one `netboot initrd` builds) and the same disk content; they run one after the other
# (alternating who goes first from run to run) on fresh clones / fresh copies every time.
set -euo pipefail
export LC_ALL=C   # EPOCHREALTIME and printf with a '.' decimal point

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
. "$SCRIPT_DIR/jar.sh"
no_build_flag "$@"

CLIENTS=${CLIENTS:-8}             # PCs powered on at once in the "many" rows
RUNS=${RUNS:-1}                   # repetitions; the table shows the median
MEM=${MEM:-256}                   # MiB of RAM per PC
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900} # seconds from power-on until a PC counts as not booted
CLONE_SIZES=${CLONE_SIZES:-"1G 8G"}
SKIP_CLONE=${SKIP_CLONE:-0}
SKIP_BOOT=${SKIP_BOOT:-0}
ALL_KINDS="bios-ipxe bios-pxelinux bios-grub uefi-ipxe uefi-pxe uefi-secure uefi-http"
KINDS=${KINDS:-$ALL_KINDS}        # client kinds to boot, see above
KINDS=$(sed -E 's/(^| )bios( |$)/\1bios-ipxe\2/g' <<<"$KINDS")   # "bios" was the only kind once
KEEP_CONSOLES=${KEEP_CONSOLES:-}  # a directory: the last run's consoles and server logs are copied there
CAPTURE=${CAPTURE:-}              # a directory: each round's TFTP/HTTP packets (tcpdump, headers only) are written there
CAPTURE_FILTER=${CAPTURE_FILTER:-} # tcpdump filter for CAPTURE (default: UDP but DHCP; e.g. "tcp port 8080" for HTTP)
# iPXE waits ~15 s for ProxyDHCP offers unless the DHCP offer sets its no-pxedhcp flag (175.176 = 1).
# Ours sets it for iPXE clients; 1 gives dnsmasq the same line (the peer at its best), 0 leaves it out.
PEER_NO_PXEDHCP=${PEER_NO_PXEDHCP:-1}
# iPXE's "Configuring ... ok" also waits ~16 s for IPv6 router discovery unless a router advertisement
# answers it. Ours answers ("no router here", dhcp.routerAdvertisements); 1 has dnsmasq answer too
# (--enable-ra, an ULA on the bridge, router lifetime 0 like ours), 0 leaves dnsmasq silent.
PEER_RA=${PEER_RA:-1}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'boot.sh: %s\n' "$*" >&2; exit 1; }

((${#REST[@]} == 0)) || die "unknown argument '${REST[0]}' (settings are environment variables, see the top of this file; --no-build)"
for v in CLIENTS RUNS MEM BOOT_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v wants a positive integer, got '${!v}'"
done
((CLIENTS <= 99)) || die "CLIENTS must be at most 99"
for k in $KINDS; do
  [[ " $ALL_KINDS " == *" $k "* ]] || die "KINDS: unknown client kind '$k' ($ALL_KINDS)"
done
[[ $(id -u) == 0 ]] || die "needs root (network namespace, bridge, taps, AoE)"
need() { command -v "$1" >/dev/null || die "needs $1 (Debian: apt-get install -y $2)"; }
need qemu-system-x86_64 qemu-system-x86
need dnsmasq dnsmasq-base
need vblade vblade
need curl curl
need perl perl
[[ $KINDS == *uefi-http* ]] && need python3 python3
[[ -e /usr/lib/ipxe/qemu/efi-virtio.rom || -e /usr/share/qemu/efi-virtio.rom ]] || die "needs qemu's iPXE ROMs (apt-get install -y ipxe-qemu)"

NS=bootbench-$$
BR=bbr0
PREFIX=10.77.0.
SRV=${PREFIX}1
HTTP_PORT=8080
# no_timer_check: a TCG guest on a busy host can fail the kernel's IO-APIC timer check and panic ("IO-APIC + timer
# doesn't work"); the check is for real hardware. Both stacks get the same line.
KARGS="console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff"   # menus.kernelArgs for ours; the peer gets the same line
MARKER=NETBOOT-DEMO-BOOTED

WORK=""
declare -a PIDS=()       # everything started in the background that is still running: killed on exit
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true   # takes the bridge and the taps with it
  [[ -n $WORK ]] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

forget() {  # PID...: no longer ours to kill
  local p q keep=()
  for p in "${PIDS[@]}"; do
    for q in "$@"; do [[ $p == "$q" ]] && continue 2; done
    keep+=("$p")
  done
  PIDS=("${keep[@]}")
}

stop() {  # PID...: ends them and waits for them
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
  forget "$@"
}

# Only for commands waited for: a function run with & is a subshell, and its $! is not the command's
# PID. Anything started in the background uses `ip netns exec` itself, which execs the command.
in_ns() { ip netns exec "$NS" "$@"; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mac_of() { printf '52:54:00:b0:07:%02x' "$1"; }

# Settings every `netboot` call shares, so `netboot initrd` and `netboot menu` give exactly what the
# server serves.
ours_settings() {  # DATADIR
  printf -- '--set\0%s\0' "dataDir=$1" "menus.kernelArgs=$KARGS"
  local x
  for x in ${OURS_SETS:-}; do printf -- '--set\0%s\0' "$x"; done
}
netboot() {  # DATADIR ARGS...: ./netboot with the shared settings
  local d=$1; shift
  local s=()
  mapfile -d '' s < <(ours_settings "$d")
  (cd "$REPO" && ./netboot "$@" "${s[@]}")
}

# ---------------------------------------------------------------------------
# Lab: namespace + bridge + taps
# ---------------------------------------------------------------------------
setup_lab() {
  local i
  ip netns add "$NS"
  in_ns ip link set lo up
  in_ns ip link add "$BR" type bridge
  # No STP and no forwarding delay: a tap forwards the moment qemu opens it.
  in_ns ip link set "$BR" type bridge stp_state 0 forward_delay 0
  in_ns ip addr add "${SRV}/24" dev "$BR"
  in_ns ip link set "$BR" up
  for ((i = 1; i <= CLIENTS; i++)); do
    in_ns ip tuntap add dev "tap$i" mode tap
    in_ns ip link set "tap$i" master "$BR"
    in_ns ip link set "tap$i" up
  done
}

# ---------------------------------------------------------------------------
# PCs: identical qemu command lines for both stacks; console lines stamped with seconds since power-on.
# ---------------------------------------------------------------------------
# A Debian package's files from the tests' cache (apt-get download + dpkg -x when missing), as the ITs
# get OVMF and snponly.efi (aoe.GuestImage.debianPackage).
TEST_CACHE=${NETBOOT_TEST_CACHE:-$HOME/.cache/netboot-test}
debian_package() {  # PKG: prints the extracted root
  local root=$TEST_CACHE/pkg-$1
  if [[ ! -d $root/usr ]]; then
    mkdir -p "$TEST_CACHE"
    (cd "$TEST_CACHE" && apt-get download "$1" >&2) || die "apt-get download $1 failed"
    rm -rf "$root.tmp" && dpkg -x "$TEST_CACHE/$1"_*.deb "$root.tmp" && rm -f "$TEST_CACHE/$1"_*.deb && mv "$root.tmp" "$root"
  fi
  echo "$root"
}

# qemu arguments for the machine, firmware and NIC of one PC of KIND (the same for both stacks).
firmware_args() {  # KIND MAC VARS-COPY
  local kind=$1 nic="virtio-net-pci,netdev=n0,mac=$2" code=${OVMF:-}/OVMF_CODE_4M.fd vars=${OVMF:-}/OVMF_VARS_4M.fd
  case $kind in
    bios-*) printf '%s\n' -machine accel=tcg -boot n -device "$nic"; return ;;
    uefi-secure)
      # Debian's Secure Boot pair (Microsoft's keys enrolled); the secboot build needs q35 with SMM and
      # the flash marked secure (demo.Firmware.secureBoot, as LoaderBootIT boots it).
      code=$OVMF/OVMF_CODE_4M.secboot.fd vars=$OVMF/OVMF_VARS_4M.ms.fd
      printf '%s\n' -machine q35,smm=on,accel=tcg -global driver=cfi.pflash01,property=secure,value=on -global ICH9-LPC.disable_s3=1 ;;
    *) printf '%s\n' -machine accel=tcg ;;
  esac
  cp "$vars" "$3"
  printf '%s\n' -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" -drive "if=pflash,format=raw,unit=1,file=$3"
  case $kind in
    uefi-ipxe) printf '%s\n' -device "$nic,bootindex=1" ;;
    uefi-pxe|uefi-secure) printf '%s\n' -device "$nic,bootindex=1,romfile=" -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n ;;
    uefi-http) printf '%s\n' -device "$nic,bootindex=1,romfile=" -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n \
      -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n ;;
  esac
}

declare -a QPID=()
power_on() {  # N DIR KIND: powers on PCs 1..N, consoles in DIR/pcI.log
  local n=$1 dir=$2 kind=$3 i t0 mem=$MEM fw=()
  [[ $kind == bios-* ]] || ((mem >= 512)) || mem=512   # OVMF and the EFI stub want more
  QPID=()
  for ((i = 1; i <= n; i++)); do
    mapfile -t fw < <(firmware_args "$kind" "$(mac_of "$i")" "$dir/vars$i.fd")
    t0=$EPOCHREALTIME
    # ip netns exec execs qemu, so $! is qemu itself. The stamper drops terminal escapes: SeaBIOS under
    # -nographic mirrors its text screen with cursor moves inside lines (PXELINUX's and GRUB's output).
    ip netns exec "$NS" qemu-system-x86_64 -nographic -m "$mem" -no-reboot -cpu max \
      -netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no" \
      "${fw[@]}" </dev/null \
      > >(T0=$t0 perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } s/\e\[[0-9;?]*[A-Za-z]|\ec//g; printf "%9.3f %s", time - $ENV{T0}, $_' >"$dir/pc$i.log") 2>&1 &
    QPID[i]=$!
    PIDS+=("$!")
  done
}

# Waits until every PC printed the marker and powered off (or BOOT_TIMEOUT); pulls the plug on the rest.
await_pcs() {  # N DIR
  local n=$1 dir=$2 i t0=$EPOCHREALTIME left
  while :; do
    left=0
    for ((i = 1; i <= n; i++)); do
      kill -0 "${QPID[i]}" 2>/dev/null || continue
      # iPXE gave up and the BIOS has nothing else to boot: this PC will never get anywhere.
      # (UEFI: OVMF went on to its shell.)
      if grep -q -e "No bootable device" -e "Shell>" "$dir/pc$i.log" 2>/dev/null; then
        log "  PC $i gave up network booting (No bootable device / UEFI shell)"
        stop "${QPID[i]}"
        continue
      fi
      left=$((left + 1))
    done
    ((left == 0)) && break
    if (($(awk -v s="$(secs_since "$t0")" -v m="$BOOT_TIMEOUT" 'BEGIN { print (s > m) }'))); then
      log "  timeout: $left PC(s) still on after ${BOOT_TIMEOUT}s"
      break
    fi
    sleep 0.5
  done
  for ((i = 1; i <= n; i++)); do stop "${QPID[i]}"; done
  sleep 0.2   # the stampers flush the last lines
}

# Seconds since power-on of the first console line matching an awk regex; empty if none.
first_at() {  # FILE REGEX
  awk -v re="$2" '$0 ~ re { print $1 + 0; exit }' "$1" 2>/dev/null || true
}

# The milestones of a boot, in order (label|regex over the console). A kind shows only some of them
# (GRUB prints no download lines; UEFI iPXE has no "initialising" line).
MILESTONES=(
  "firmware: network boot starts (UEFI PXE/HTTP, or the iPXE ROM)|Start (PXE|HTTP Boot) over IPv4|iPXE initiali"
  "iPXE: link up|Link:up"
  "iPXE: configured (DHCP, then IPv6 router discovery)|Configuring [(]net0.*ok"
  "loader: PXELINUX / GRUB running|PXELINUX [0-9]|Welcome to GRUB|GNU GRUB"
  "menu: the PC's own menu read|netboot: .* boots image"
  "kernel loaded|vmlinuz.*ok"
  "initrd loaded|initrd.*ok"
  "kernel running|Linux version"
  "initrd: link up|netboot: link up"
  "initrd: AoE disk found|netboot: mounting"
  "image's init: marker|$MARKER"
)
NET_START="Start (PXE|HTTP Boot) over IPv4|iPXE initiali|Link:up"   # the PC's first network step

declare -A RAW=() MS=()   # RAW[stack|row]: every run; MS[stack|rows|milestone]: mean per run
FAILED=0

# Records one boot round: per-PC marker times, mean, slowest, and the milestone means.
collect() {  # STACK ROWKEY N DIR
  local stack=$1 key=$2 n=$3 dir=$4 i t times=() m label re vals
  for ((i = 1; i <= n; i++)); do
    t=$(first_at "$dir/pc$i.log" "$MARKER")
    if [[ -z $t ]]; then
      log "  FAIL: PC $i ($(mac_of "$i")) never printed $MARKER; last console lines:"
      tail -n 15 "$dir/pc$i.log" | sed 's/^/    /' >&2 || true
      FAILED=1
      RAW["$stack|$key-mean"]+="FAIL "
      RAW["$stack|$key-max"]+="FAIL "
      return 0
    fi
    times+=("$t")
  done
  local mean max
  mean=$(printf '%s\n' "${times[@]}" | awk '{ s += $1 } END { printf "%.3f", s / NR }')
  max=$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)
  RAW["$stack|$key-mean"]+="$mean "
  RAW["$stack|$key-max"]+="$max "
  # The steps in which the PC waits on the servers: from its first network step until its kernel runs
  # (DHCP, loader, menus, kernel, initrd) plus the initrd's AoE discovery and mount. The rest (firmware
  # start, the kernel's own boot, the image's init) is the emulated CPU's, the same for both stacks,
  # and what a loaded host stretches most: this figure is the one that compares the servers.
  local nets=() a b c d
  for ((i = 1; i <= n; i++)); do
    a=$(first_at "$dir/pc$i.log" "$NET_START") b=$(first_at "$dir/pc$i.log" "Linux version")
    c=$(first_at "$dir/pc$i.log" "netboot: link up") d=$(first_at "$dir/pc$i.log" "netboot: mounting")
    [[ -n $a && -n $b && -n $c && -n $d ]] && nets+=("$(awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN { printf "%.3f", (b - a) + (d - c) }')")
  done
  if ((${#nets[@]} == n)); then
    RAW["$stack|$key-net"]+="$(printf '%s\n' "${nets[@]}" | awk '{ s += $1 } END { printf "%.3f", s / NR }') "
  else
    RAW["$stack|$key-net"]+="? "
  fi
  log "  $stack, $n PC(s): ${times[*]} s (mean $mean, slowest $max); waiting on the network ${nets[*]:-?} s; server CPU $CPU_PER_BOOT s per boot"
  for m in "${MILESTONES[@]}"; do
    label=${m%%|*} re=${m#*|}
    vals=$(for ((i = 1; i <= n; i++)); do first_at "$dir/pc$i.log" "$re"; done \
      | awk 'NF { s += $1; c++ } END { if (c) printf "%.2f", s / c }')
    MS["$stack|$key|$label"]+="${vals:-?} "
  done
  # keep the consoles of the last run for a person to look at
  mkdir -p "$WORK/consoles/$stack-$key"
  cp "$dir"/*.log "$WORK/consoles/$stack-$key/"
}

# ---------------------------------------------------------------------------
# Ours: ./netboot serve in full DHCP mode, HTTP for the kernel and initrd, AoE on the bridge
# ---------------------------------------------------------------------------
SERVER_PID=""
start_ours() {  # N DIR KIND
  local n=$1 dir=$2 kind=$3 d=$2/data i s=() t0 out ms kindset=(--set tftp.enabled=false)
  cp -a "$BASE" "$d"
  case $kind in
    uefi-pxe) mkdir -p "$d/boot" && cp "$SNPONLY" "$d/boot/snponly.efi"
      kindset=(--set tftp.enabled=true --set boot.uefiX64=snponly.efi) ;;
    uefi-http) mkdir -p "$d/boot" && cp "$SNPONLY" "$d/boot/snponly.efi"
      kindset+=(--set "boot.httpBoot=http://\${server}:$HTTP_PORT/boot/snponly.efi") ;;
    # The loaders come from the packages' tree, nothing copied into the boot root. uefi-secure changes
    # no setting: on x64 UEFI the default loader is shim -> signed GRUB once they are installed.
    bios-pxelinux) kindset=(--set tftp.enabled=true --set boot.loader=pxelinux --set "boot.loadersRoot=$LOADERS") ;;
    bios-grub) kindset=(--set tftp.enabled=true --set boot.loader=grub --set "boot.loadersRoot=$LOADERS") ;;
    uefi-secure) kindset=(--set tftp.enabled=true --set "boot.loadersRoot=$LOADERS") ;;
  esac
  PREP=0 PREP_INPROC=0
  for ((i = 1; i <= n; i++)); do
    t0=$EPOCHREALTIME
    out=$(netboot "$d" clone demo --to "$(mac_of "$i")" 2>&1) || { echo "$out" >&2; die "netboot clone failed"; }
    PREP=$(awk -v a="$PREP" -v b="$(secs_since "$t0")" 'BEGIN { printf "%.3f", a + b }')
    ms=$(sed -n 's/.*(clone, \([0-9]*\) ms).*/\1/p' <<<"$out" | head -n 1)
    CLONE_MS_DEMO+=("${ms:-?}")
    PREP_INPROC=$(awk -v a="$PREP_INPROC" -v b="${ms:-0}" 'BEGIN { printf "%.3f", a + b / 1000 }')
  done
  mapfile -d '' s < <(ours_settings "$d")
  (cd "$REPO" && exec ip netns exec "$NS" ./netboot serve "${s[@]}" \
    --set networkInterface="$BR" --set dhcp.mode=full --set dhcp.probeForeignServer=false \
    --set "dhcp.pools=[{subnet: ${PREFIX}0/24, range: ${PREFIX}100-${PREFIX}199, leaseSeconds: 600}]" \
    "${kindset[@]}" --set http.address="$SRV" --set http.port=$HTTP_PORT \
    --set "boot.ipxeScriptUrl=http://\${server}:$HTTP_PORT/boot/boot.ipxe" \
    --set "aoe.interfaces=[$BR]" --set aoe.catalogPollMillis=200) >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  # Ready: HTTP answers and AoE exports every disk. Then one warm-up fetch of what a PC fetches
  # (a server is normally up long before its clients power on: JIT, initrd cache).
  t0=$EPOCHREALTIME
  until grep -q "AoE serving $n disk" "$dir/server.log" \
      && in_ns curl -sf -o /dev/null "http://$SRV:$HTTP_PORT/boot/boot.ipxe"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$dir/server.log" >&2; die "our server exited"; }
    (($(awk -v s="$(secs_since "$t0")" 'BEGIN { print (s > 120) }'))) && { tail -n 30 "$dir/server.log" >&2; die "our server is not ready after 120 s"; }
    sleep 0.2
  done
  in_ns curl -sf -o /dev/null "http://$SRV:$HTTP_PORT/boot/ipxe/$(mac_of 1 | tr : -).ipxe" || true
  in_ns curl -sf -o /dev/null "http://$SRV:$HTTP_PORT/boot/images/demo/vmlinuz"
  [[ $kind == uefi-pxe ]] && in_ns curl -sf -o /dev/null "tftp://$SRV/snponly.efi"
  [[ $kind == uefi-http ]] && in_ns curl -sf -o /dev/null "http://$SRV:$HTTP_PORT/boot/snponly.efi"
  local f
  for f in $(warm_files "$kind"); do in_ns curl -sf -o /dev/null "tftp://$SRV/$f" || die "ours serves no $f by TFTP for $kind"; done
  in_ns curl -sf -o "$dir/served-initrd.img" "http://$SRV:$HTTP_PORT/boot/images/demo/initrd.img"
  if ! cmp -s "$dir/served-initrd.img" "$PEER_FILES/initrd.img"; then
    INITRD_NOTE="WARNING: the initrd our server serves differs from the one given to the peer"
    log "  $INITRD_NOTE"
  fi
  log "  ours ready after $(secs_since "$t0") s ($n clone(s) made in $PREP s)"
}

# What a PC of KIND fetches by TFTP besides the kernel and initrd: the loader and the menus (a warm-up,
# and a check that ours serves them before a PC waits for them).
warm_files() {  # KIND
  local m=$(mac_of 1)
  case $1 in
    bios-pxelinux) echo "pxelinux.0 ldlinux.c32 pxelinux.cfg/01-${m//:/-}" ;;
    bios-grub) echo "grub/i386-pc/core.0 grub/grub.cfg-01-${m//:/-}" ;;
    uefi-secure) echo "shimx64.efi grubx64.efi grub/grub.cfg grub/grub.cfg-01-${m//:/-}" ;;
  esac
}

stop_ours() { stop "$SERVER_PID"; SERVER_PID=""; }

# ---------------------------------------------------------------------------
# Peer: dnsmasq (DHCP + TFTP) and one vblade per PC on its own full copy of disk.img
# ---------------------------------------------------------------------------
declare -a PEER_PIDS=()
start_peer() {  # N DIR KIND
  local n=$1 dir=$2 kind=$3 i t0 no_pxedhcp=() kindopts=() ipxe_boot=(--dhcp-boot=tag:ipxe,boot.ipxe)
  # UEFI PXE (option 93 = 7) that is not iPXE yet gets snponly.efi by TFTP; HTTP boot gets HTTPClient
  # back and the URL of snponly.efi on a plain HTTP server (dnsmasq has none).
  # shellcheck disable=SC2054  # one argument each; the commas are dnsmasq's
  case $kind in
    uefi-pxe) kindopts=(--dhcp-match=set:efi64,option:client-arch,7 --dhcp-boot=tag:efi64,tag:!ipxe,snponly.efi) ;;
    uefi-http) kindopts=(--dhcp-vendorclass=set:httpboot,HTTPClient --dhcp-option-force=tag:httpboot,60,HTTPClient
      "--dhcp-boot=tag:httpboot,tag:!ipxe,http://$SRV:$HTTP_PORT/snponly.efi")
      ip netns exec "$NS" python3 -m http.server --bind "$SRV" --directory "$PEER_FILES" "$HTTP_PORT" >"$dir/httpd.log" 2>&1 &
      PEER_PIDS+=("$!"); PIDS+=("$!") ;;
    # qemu's BIOS ROM is iPXE: it runs the loader named here on its PXE API, as it does with ours.
    bios-pxelinux) ipxe_boot=() kindopts=(--dhcp-boot=pxelinux.0) ;;
    bios-grub) ipxe_boot=() kindopts=(--dhcp-boot=grub/i386-pc/core.0) ;;
    uefi-secure) ipxe_boot=() kindopts=(--dhcp-match=set:efi64,option:client-arch,7 --dhcp-boot=tag:efi64,shimx64.efi) ;;
  esac
  # shellcheck disable=SC2054  # one argument; the commas are dnsmasq's
  ((PEER_NO_PXEDHCP)) && no_pxedhcp=(--dhcp-option=tag:ipxe,encap:175,176,1)
  local ra=()
  if ((PEER_RA)); then
    # dnsmasq builds its advertisement from an IPv6 prefix on the interface (constructor:).
    ip -n "$NS" addr replace fd42:6e62::1/64 dev "$BR" nodad
    ra=(--enable-ra "--dhcp-range=::,constructor:$BR,ra-only" "--ra-param=$BR,10,0")
  fi
  t0=$EPOCHREALTIME
  for ((i = 1; i <= n; i++)); do
    cp --sparse=never "$IMAGE_DISK" "$dir/copy$i.img"
  done
  sync -f "$dir/copy1.img"   # durable, as our clones are
  PREP=$(secs_since "$t0") PREP_INPROC=$PREP
  for ((i = 1; i <= n; i++)); do
    ip netns exec "$NS" vblade -m "$(mac_of "$i")" 1 $((i - 1)) "$BR" "$dir/copy$i.img" >"$dir/vblade$i.log" 2>&1 &
    PEER_PIDS+=("$!"); PIDS+=("$!")
  done
  # --no-ping: ours does not ping an address before offering it either (and bench/dhcp.sh runs
  # dnsmasq the same way). With the ping check dnsmasq offers one new address per ~3 s, and with 8
  # PCs at once half of them gave up DHCP (iPXE: "No configuration methods succeeded").
  ip netns exec "$NS" dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null --port=0 \
    --no-resolv --no-hosts --user=root --group=root --pid-file= \
    --bind-interfaces --interface="$BR" --no-ping \
    --dhcp-range="${PREFIX}100,${PREFIX}199,600" --dhcp-leasefile="$dir/dnsmasq.leases" \
    --dhcp-userclass=set:ipxe,iPXE "${ipxe_boot[@]}" "${no_pxedhcp[@]}" "${ra[@]}" "${kindopts[@]}" \
    --enable-tftp --tftp-root="$PEER_FILES" >"$dir/dnsmasq.log" 2>&1 &
  PEER_PIDS+=("$!"); PIDS+=("$!")
  t0=$EPOCHREALTIME
  until in_ns curl -sf --max-time 1 -o /dev/null "tftp://$SRV/boot.ipxe"; do
    for i in "${PEER_PIDS[@]}"; do
      kill -0 "$i" 2>/dev/null || { tail -n 20 "$dir"/dnsmasq.log "$dir"/vblade*.log >&2; die "dnsmasq or vblade exited"; }
    done
    (($(awk -v s="$(secs_since "$t0")" 'BEGIN { print (s > 30) }'))) && die "dnsmasq's TFTP does not answer"
    sleep 0.2
  done
  log "  dnsmasq + $n vblade ready ($n full cop(ies) made in $PREP s)"
}

stop_peer() { stop "${PEER_PIDS[@]}"; PEER_PIDS=(); }

# ---------------------------------------------------------------------------
bench_round() {  # STACK N RUN KIND
  local stack=$1 n=$2 run=$3 kind=$4 dir key
  key=$kind.$([[ $n == 1 ]] && echo one || echo many)
  dir=$WORK/round-$kind-$stack-$n-$run
  mkdir -p "$dir"
  log "== run $run: $kind, $stack, $n PC(s)"
  INITRD_NOTE=${INITRD_NOTE:-}
  PEER_PIDS=()
  "start_$stack" "$n" "$dir" "$kind"
  RAW["$stack|$key-prep"]+="$PREP "
  RAW["$stack|$key-prepin"]+="$PREP_INPROC "
  local pids=() c0 c1
  if [[ $stack == ours ]]; then pids=("$SERVER_PID"); else pids=("${PEER_PIDS[@]}"); fi
  local dump=""
  if [[ -n $CAPTURE ]]; then
    mkdir -p "$CAPTURE"
    ip netns exec "$NS" tcpdump -i "$BR" -s 128 -U -w "$CAPTURE/$kind-$stack-$n-$run.pcap" ${CAPTURE_FILTER:-udp and not port 67 and not port 68} 2>/dev/null &
    dump=$!; PIDS+=("$dump"); sleep 0.5
  fi
  local logged
  [[ $stack == ours ]] && logged=$(($(wc -l <"$dir/server.log") + 1)) || logged=$(($(wc -l <"$dir/dnsmasq.log") + 1))
  c0=$(cpu_ticks "${pids[@]}")
  local j0 j1
  [[ $stack == ours ]] && j0=$(jit_ticks "$SERVER_PID")
  power_on "$n" "$dir" "$kind"
  await_pcs "$n" "$dir"
  c1=$(cpu_ticks "${pids[@]}")
  [[ $stack == ours ]] && j1=$(jit_ticks "$SERVER_PID")
  [[ -n $dump ]] && stop "$dump"
  # user + system time of the server process(es) from power-on until the last PC was off, per PC
  CPU_PER_BOOT=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / hz / n }')
  RAW["$stack|$key-cpu"]+="$CPU_PER_BOOT "
  [[ $stack == ours ]] && RAW["ours|$key-jit"]+="$(awk -v a="$j0" -v b="$j1" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / hz / n }') "
  "stop_$stack"
  RAW["$stack|$key-via"]+="$(transport_of "$stack" "$dir" "$logged") "
  collect "$stack" "$key" "$n" "$dir"
  # free the disk space (copies, clones) before the next round; keep the logs
  rm -rf "$dir/data" "$dir"/copy*.img "$dir/served-initrd.img"
}

# How the kernel reached the PCs, from the servers' own log lines written after power-on (ours' warm-up
# fetches vmlinuz over HTTP before): ours logs every file served ("HTTP: served images/demo/vmlinuz to",
# "TftpServer: served images/demo/vmlinuz to"), dnsmasq each TFTP transfer ("sent .../vmlinuz"),
# python3 http.server each GET.
transport_of() {  # STACK DIR LINE: the logs' lines from LINE on
  local from=$3
  if [[ $1 == ours ]]; then
    if tail -n "+$from" "$2/server.log" 2>/dev/null | grep -q "HTTP: served images/demo/vmlinuz to"; then echo HTTP
    elif tail -n "+$from" "$2/server.log" 2>/dev/null | grep -q "TftpServer: served images/demo/vmlinuz to"; then echo TFTP
    else echo "?"; fi
  elif grep -q "GET /[^ ]*vmlinuz" "$2/httpd.log" 2>/dev/null; then echo HTTP
  elif tail -n "+$from" "$2/dnsmasq.log" 2>/dev/null | grep -q "sent .*vmlinuz"; then echo TFTP
  else echo "?"; fi
}

# CPU time (user + system, clock ticks) the processes used so far, threads included.
cpu_ticks() {  # PID...
  local p t=0
  for p in "$@"; do
    # fields after "(comm)": utime and stime are the 12th and 13th
    [[ -r /proc/$p/stat ]] && t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$t"
}

# CPU time (clock ticks) of the JVM's JIT compiler threads so far: how much of a boot's server CPU went to compiling
# (a compiler thread that exited meanwhile is not counted, so this is a lower bound).
jit_ticks() {  # PID
  local task t=0
  for task in /proc/"$1"/task/*; do
    [[ $(cat "$task/comm" 2>/dev/null) == *Compiler* ]] || continue
    t=$((t + $(sed 's/^.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }')))
  done
  echo "$t"
}

via() {  # STACK KEY -> the transports seen over the runs, once each
  tr ' ' '\n' <<<"${RAW[$1|$2-via]:-}" | sed '/^$/d' | sort -u | paste -sd/ -
}
label_of() { case $1 in ours) echo "ours (netboot)" ;; peer) echo "dnsmasq + vblade" ;; esac; }
fmt() { [[ $1 =~ ^[0-9.]+$ ]] && printf '%.1f' "$1" || echo "${1:-n/a}"; }
fmt2() { [[ $1 =~ ^[0-9.]+$ ]] && printf '%.2f' "$1" || echo "${1:-n/a}"; }
ratio() { [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }' || echo "n/a"; }
med_of() {  # "v v v" -> median, or FAIL if any run failed
  local v=$1
  [[ -z ${v// /} ]] && { echo "n/a"; return; }
  [[ $v == *FAIL* ]] && { echo "FAIL"; return; }
  [[ $v == *'?'* ]] && { echo "?"; return; }
  # shellcheck disable=SC2086
  median $v
}

# ---------------------------------------------------------------------------
# Clone time: 1 GiB and 8 GiB images
# ---------------------------------------------------------------------------
declare -A C=()
bench_clone() {
  local size d out t0 wall ms r full sparse walls=() mss=() fulls=() sparses=()
  for size in $CLONE_SIZES; do
    d=$WORK/clone-$size
    log "== clone: importing the demo image as a $size disk"
    netboot "$d" image import demo "$WORK/rootfs" --size "$size" >"$WORK/import-$size.log" 2>&1 \
      || { tail -n 20 "$WORK/import-$size.log" >&2; die "netboot image import --size $size failed"; }
    local disk=$d/images/demo/disk.img
    walls=() mss=() fulls=() sparses=()
    for ((r = 1; r <= RUNS; r++)); do
      t0=$EPOCHREALTIME
      out=$(netboot "$d" clone demo --to "52:54:00:c1:00:$(printf %02x "$r")" 2>&1) || { echo "$out" >&2; die "netboot clone failed"; }
      wall=$(secs_since "$t0")
      ms=$(sed -n 's/.*(clone, \([0-9]*\) ms).*/\1/p' <<<"$out" | head -n 1)
      t0=$EPOCHREALTIME
      cp --sparse=never "$disk" "$d/full.img" && sync -f "$d/full.img"
      full=$(secs_since "$t0")
      rm -f "$d/full.img"
      t0=$EPOCHREALTIME
      cp --sparse=always "$disk" "$d/sparse.img" && sync -f "$d/sparse.img"
      sparse=$(secs_since "$t0")
      rm -f "$d/sparse.img"
      walls+=("$wall") mss+=("$ms") fulls+=("$full") sparses+=("$sparse")
      log "  $size run $r: netboot clone ${ms} ms in-process, ${wall} s CLI; cp --sparse=never ${full} s, --sparse=always ${sparse} s"
    done
    C["$size|ms"]=$(median "${mss[@]}")
    C["$size|wall"]=$(median "${walls[@]}")
    C["$size|full"]=$(median "${fulls[@]}")
    C["$size|sparse"]=$(median "${sparses[@]}")
    C["$size|alloc"]=$(du -h "$disk" | cut -f1)
    C["$size|raw"]="clone ms: ${mss[*]}; CLI s: ${walls[*]}; full copy s: ${fulls[*]}; sparse copy s: ${sparses[*]}"
    rm -rf "$d"
  done
}

# ---------------------------------------------------------------------------
report() {
  local stack key row m label o p
  echo "# Boot benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r); load average at start $LOAD_AT_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- ours: netboot $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?') (NETBOOT_AOT=${NETBOOT_AOT:-auto}${OURS_SETS:+, --set $OURS_SETS}); peer: $(dnsmasq --version | head -n 1 | cut -d' ' -f1-3) + vblade $(dpkg-query -W -f='${Version}' vblade 2>/dev/null || echo '?')"
  echo "- PCs: $(qemu-system-x86_64 --version | head -n 1), TCG, ${MEM} MiB (UEFI: at least 512), virtio-net; kinds: $KINDS; median of $RUNS run(s)"
  [[ $KINDS == *uefi* ]] && echo "- UEFI: Debian's OVMF ($OVMF_VERSION, OVMF_CODE_4M.fd; uefi-secure: OVMF_CODE_4M.secboot.fd + OVMF_VARS_4M.ms.fd, q35 + SMM); uefi-pxe/uefi-http load snponly.efi (ipxe $IPXE_VERSION) by TFTP/HTTP, the peer by dnsmasq's TFTP / python3 http.server"
  [[ -n ${LOADERS:-} ]] && echo "- loaders (both stacks, from the same Debian packages): $(for p in pxelinux grub-pc-bin shim-signed grub-efi-amd64-signed; do printf '%s %s; ' "$p" "$(zcat "$LOADERS/usr/share/doc/$p/changelog.Debian.gz" 2>/dev/null | head -n 1 | sed 's/.*(\(.*\)).*/\1/')"; done)ours serves them from the packages' tree (\`boot.loadersRoot\`) with HTTP on, and gives PXELINUX PCs pxelinux.0 and GRUB menus TFTP paths (boot.pxelinuxHttp, docs/dhcp.md); the peer serves pxelinux.0 and the same menus rendered with HTTP off from its TFTP root (dnsmasq has no HTTP)"
  echo "- image: demo (images/demo/build.sh), kernel $KVER, disk $IMAGE_SIZE; initrd $(stat -c %s "$PEER_FILES/initrd.img") bytes from \`netboot initrd\`"
  echo "- ours: DHCP full mode, iPXE script + kernel + initrd over HTTP, AoE from copy-on-write clones (\`netboot clone\`); peer: dnsmasq DHCP (\`--no-ping\`, as ours does not ping) + TFTP (kernel + initrd over TFTP), one \`vblade\` per PC on a full copy"
  if ((PEER_NO_PXEDHCP)); then
    echo "- both DHCP servers tell iPXE not to wait for ProxyDHCP offers (option 175.176 = 1; dnsmasq: \`--dhcp-option=tag:ipxe,encap:175,176,1\`)"
  else
    echo "- ours tells iPXE not to wait for ProxyDHCP offers (option 175.176 = 1), dnsmasq does not (PEER_NO_PXEDHCP=0): iPXE waits ~15 s on it"
  fi
  if ((PEER_RA)); then
    echo "- both answer iPXE's IPv6 router solicitations (ours: \`dhcp.routerAdvertisements\`; dnsmasq: \`--enable-ra --dhcp-range=::,constructor:BR,ra-only --ra-param=BR,10,0\` with fd42:6e62::1/64 on the bridge)"
  else
    echo "- only ours answers iPXE's IPv6 router solicitations (PEER_RA=0): with dnsmasq, iPXE waits ~16 s for router discovery"
  fi
  if [[ -n ${INITRD_NOTE:-} ]]; then echo "- $INITRD_NOTE"; fi
  echo "- iPXE's \`Configuring … ok\` comes only when both its DHCP and its IPv6 router discovery are done; with no"
  echo "  router advertisement on the lab the second takes ~16 s in this iPXE build"
  echo
  if ((!SKIP_BOOT)); then
    echo "## Power-on to the image's init (\`$MARKER\` on the serial console)"
    echo
    echo "| | ours | dnsmasq + vblade | ours / peer (goal ≤ 1.0×) | kernel + initrd by: ours / peer | waiting on the servers: ours / peer (s) | ratio | server CPU per boot: ours / peer (s) | largest step, ours (s) |"
    echo "|---|---:|---:|---:|---|---:|---:|---:|---|"
    local kind rows=() first=${KINDS%% *} k2 on pn oc pc oj
    for kind in $KINDS; do
      rows+=("$kind.one-mean|$kind: 1 PC (s)")
      ((CLIENTS > 1)) && rows+=("$kind.many-mean|$kind: $CLIENTS PCs at once, mean (s)" "$kind.many-max|$kind: $CLIENTS PCs at once, slowest (s)")
    done
    rows+=("$first.one-prepin|disk for 1 PC before power-on: clone in-process / full copy (s)")
    ((CLIENTS > 1)) && rows+=("$first.many-prepin|disks for $CLIENTS PCs: clones in-process / full copies (s)" \
        "$first.many-prep|disks for $CLIENTS PCs: \`netboot clone\` CLI wall, a JVM each / full copies (s)")
    for row in "${rows[@]}"; do
      key=${row%%|*}
      o=$(med_of "${RAW[ours|$key]:-}") p=$(med_of "${RAW[peer|$key]:-}")
      if [[ $key == *prep* ]]; then
        echo "| ${row#*|} | $(fmt2 "$o") | $(fmt2 "$p") | $(ratio "$o" "$p") | | | | | |"
      elif [[ $key == *-mean ]]; then
        k2=${key%-mean}
        on=$(med_of "${RAW[ours|$k2-net]:-}") pn=$(med_of "${RAW[peer|$k2-net]:-}")
        oc=$(med_of "${RAW[ours|$k2-cpu]:-}") pc=$(med_of "${RAW[peer|$k2-cpu]:-}") oj=$(med_of "${RAW[ours|$k2-jit]:-}")
        echo "| ${row#*|} | $(fmt "$o") | $(fmt "$p") | $(ratio "$o" "$p") | $(via ours "$k2") / $(via peer "$k2") | $(fmt "$on") / $(fmt "$pn") | $(ratio "$on" "$pn") | $(fmt2 "$oc") (JIT $(fmt2 "$oj")) / $(fmt2 "$pc") | $(largest_step ours "$k2") |"
      else
        echo "| ${row#*|} | $(fmt "$o") | $(fmt "$p") | $(ratio "$o" "$p") | | | | | |"
      fi
    done
    echo
    echo "*Waiting on the servers*: per PC, from its first network step (firmware PXE/HTTP start, or the iPXE ROM)"
    echo "until its kernel runs (DHCP, loader, menus, kernel, initrd), plus the initrd's AoE discovery and mount"
    echo "(\`netboot: link up\` → \`netboot: mounting\`). The rest of a boot (firmware start-up, the kernel's own boot,"
    echo "the image's init) is the emulated CPU's: the same work for both stacks, and what other load on the host"
    echo "stretches most, so on a busy machine the total ratio says little and this one says what the servers did."
    echo "*Server CPU*: user + system seconds of ours (the JVM) or of dnsmasq + every vblade (+ python3 http.server"
    echo "for uefi-http) from power-on until the PC was off, per PC; in brackets the part ours' JIT compiler threads"
    echo "used (compiling code paths the warm-up did not reach). *Largest step*: the longest gap between two"
    echo "successive milestones below, ours; it bounds the row."
    echo
    echo "Where the time goes: seconds from power-on at which each step was first seen on the console,"
    echo "mean over the PCs (median over runs)."
    echo
    for kind in $KINDS; do
    echo "$kind:"
    echo
    local keys=("$kind.one")
    if ((CLIENTS > 1)); then
      keys+=("$kind.many")
      echo "| step | ours, 1 PC | peer, 1 PC | ours, $CLIENTS PCs | peer, $CLIENTS PCs |"
      echo "|---|---:|---:|---:|---:|"
    else
      echo "| step | ours | peer |"
      echo "|---|---:|---:|"
    fi
    for m in "${MILESTONES[@]}"; do
      label=${m%%|*}
      row="| $label |"
      for key in "${keys[@]}"; do
        for stack in ours peer; do
          row+=" $(fmt "$(med_of "${MS[$stack|$key|$label]:-}" 2>/dev/null || echo '?')") |"
        done
      done
      # columns were filled ours-one, peer-one, ours-many, peer-many
      echo "$row"
    done
    echo
    done
  fi
  if ((!SKIP_CLONE)); then
    echo "## Giving a PC its own disk"
    echo
    echo "| image disk | ours: \`netboot clone\`, in-process (ms) | ours: CLI wall (s) | \`cp --sparse=never\` + fsync (s) | \`cp --sparse=always\` + fsync (s) | ours in-process / full copy |"
    echo "|---|---:|---:|---:|---:|---:|"
    for m in $CLONE_SIZES; do
      echo "| $m (${C[$m|alloc]} allocated) | $(printf '%.0f' "${C[$m|ms]}") | $(printf '%.2f' "${C[$m|wall]}") | $(printf '%.2f' "${C[$m|full]}") | $(printf '%.2f' "${C[$m|sparse]}") | $(awk -v a="${C[$m|ms]}" -v b="${C[$m|full]}" 'BEGIN { printf "%.4f×", a / 1000 / b }') |"
    done
    echo
    echo "The goal is < 1 s per clone. The CLI wall time includes starting a JVM and opening the inventory;"
    echo "the in-process figure is what \`netboot clone\` logs (clone + inventory + export). Both \`cp\`s read"
    echo "a source that is in the page cache after the import."
    echo
  fi
}

# The longest gap between successive milestones seen (median over runs), for the table.
largest_step() {  # STACK KEY
  local m label prev="" prevt="" t best="" bestd=-1 d
  for m in "${MILESTONES[@]}"; do
    label=${m%%|*}
    t=$(med_of "${MS[$1|$2|$label]:-}" 2>/dev/null || echo '?')
    [[ $t =~ ^[0-9.]+$ ]] || continue
    if [[ -n $prevt ]]; then
      d=$(awk -v a="$prevt" -v b="$t" 'BEGIN { printf "%.2f", b - a }')
      if (($(awk -v d="$d" -v b="$bestd" 'BEGIN { print (d > b) }'))); then bestd=$d best="${prev%% (*} → ${label%% (*}"; fi
    fi
    prev=$label prevt=$t
  done
  [[ -n $best ]] && printf '%s (%.1f)' "$best" "$bestd" || echo "?"
}

report_raw() {
  local k m
  echo "## Raw runs"
  echo
  local keys=()
  mapfile -t keys < <(printf '%s\n' "${!RAW[@]}" | sort)
  for k in "${keys[@]}"; do [[ -n $k ]] && echo "- $k: ${RAW[$k]}"; done
  mapfile -t keys < <(printf '%s\n' "${!MS[@]}" | sort)
  for k in "${keys[@]}"; do [[ -n $k ]] && echo "- milestone $k: ${MS[$k]}"; done
  ((${#CLONE_MS_DEMO[@]})) && echo "- netboot clone of the ${IMAGE_SIZE} demo disk before boot rounds, in-process ms: ${CLONE_MS_DEMO[*]}"
  for m in $CLONE_SIZES; do [[ -n ${C[$m|raw]:-} ]] && echo "- clone $m: ${C[$m|raw]}"; done
  return 0
}

# The packages' loaders, unpacked into one tree as the tests have them (loaders.DebianLoaders.tree():
# the same package list and cache folder); downloaded with apt-get download when missing.
LOADER_PACKAGES="ipxe shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed pxelinux syslinux-common grub-pc-bin grub-common libefivar1 libefiboot1 ovmf"
loaders_tree() {  # prints the tree's root
  local root=$TEST_CACHE/debian-loaders debs=$TEST_CACHE/debian-loaders-debs pkg
  mkdir -p "$root" "$debs"
  for pkg in $LOADER_PACKAGES; do
    [[ -e $root/.unpacked-$pkg ]] && continue
    (cd "$debs" && { ls "$pkg"_*.deb >/dev/null 2>&1 || apt-get download "$pkg" >&2; }) || die "apt-get download $pkg failed"
    dpkg -x "$debs/$pkg"_*.deb "$root" && rm -f "$debs/$pkg"_*.deb && echo "$pkg" >"$root/.unpacked-$pkg"
  done
  echo "$root"
}

# The peer's TFTP root for the PXELINUX, GRUB and Secure Boot kinds: the same loader files ours serves
# from the tree, BIOS GRUB's image made with the same grub-mknetdir call (loaders.GrubNetDirectory), the
# kernel and initrd under the names the menus give, and the menus `netboot menu` renders (PC 1's, with MAC
# and AoE slot changed for the others; grub/grub.cfg is the one for a loader that sends no MAC).
peer_loader_files() {
  local L=$LOADERS f i mac menu scratch=$WORK/scratch-menus
  mkdir -p "$PEER_FILES/images/demo" "$PEER_FILES/pxelinux.cfg"
  ln -f "$PEER_FILES/vmlinuz" "$PEER_FILES/images/demo/vmlinuz"
  ln -f "$PEER_FILES/initrd.img" "$PEER_FILES/images/demo/initrd.img"
  cp "$L/usr/lib/PXELINUX/pxelinux.0" "$L/usr/lib/syslinux/modules/bios/ldlinux.c32" "$PEER_FILES/"
  cp "$L/usr/lib/shim/shimx64.efi.signed" "$PEER_FILES/shimx64.efi"
  cp "$L/usr/lib/shim/mmx64.efi.signed" "$PEER_FILES/mmx64.efi"
  cp "$L/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$PEER_FILES/grubx64.efi"
  LD_LIBRARY_PATH=$L/usr/lib/x86_64-linux-gnu "$L/usr/bin/grub-mknetdir" -d "$L/usr/lib/grub/i386-pc" \
    --net-directory="$PEER_FILES" --subdir=grub >"$WORK/grub-mknetdir.log" 2>&1 \
    || { cat "$WORK/grub-mknetdir.log" >&2; die "grub-mknetdir failed"; }
  cp -a "$BASE" "$scratch"
  netboot "$scratch" clone demo --to "$(mac_of 1)" >/dev/null 2>&1 || die "netboot clone (scratch) failed"
  # With HTTP off: the menus name the kernel and initrd by TFTP path, which is all the peer serves.
  netboot "$scratch" menu default --loader grub --set http.enabled=false >"$PEER_FILES/grub/grub.cfg" 2>/dev/null || die "netboot menu default --loader grub failed"
  for f in pxelinux grub; do
    menu=$(netboot "$scratch" menu "$(mac_of 1)" --loader $f --set http.enabled=false 2>/dev/null) || die "netboot menu --loader $f failed"
    grep -q "http" <<<"$menu" && die "the peer's $f menu names HTTP: $menu"
    for ((i = 1; i <= CLIENTS; i++)); do
      mac=$(mac_of "$i")
      # shellcheck disable=SC2001
      sed -e "s/$(mac_of 1)/$mac/g" -e "s/netboot\.aoe=1\.0\b/netboot.aoe=1.$((i - 1))/g" -e "s/e1\.0\b/e1.$((i - 1))/g" \
        -e "s/AoE 1\.0\b/AoE 1.$((i - 1))/g" <<<"$menu" \
        >"$PEER_FILES/$([[ $f == grub ]] && echo "grub/grub.cfg-01-" || echo "pxelinux.cfg/01-")${mac//:/-}"
    done
  done
  rm -rf "$scratch"
}

# ---------------------------------------------------------------------------
main() {
  LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
  CLONE_MS_DEMO=()
  WORK=$(mktemp -d /tmp/bootbench.XXXXXX)
  chmod 755 "$WORK"
  bench_jar "$REPO" "$WORK/build.log"
  log "building the demo root filesystem"
  "$REPO/images/demo/build.sh" "$WORK/rootfs" >"$WORK/rootfs.log" 2>&1 \
    || { tail -n 30 "$WORK/rootfs.log" >&2; die "images/demo/build.sh failed"; }

  if ((!SKIP_BOOT)); then
    # The image both stacks boot, imported once; every round starts from a copy of this data dir.
    BASE=$WORK/base
    log "importing the demo image"
    netboot "$BASE" image import demo "$WORK/rootfs" >"$WORK/import.log" 2>&1 \
      || { tail -n 30 "$WORK/import.log" >&2; die "netboot image import failed"; }
    IMAGE_DISK=$BASE/images/demo/disk.img
    IMAGE_SIZE=$(du -h --apparent-size "$IMAGE_DISK" | cut -f1)
    local kernel
    kernel=$(ls "$BASE"/images/demo/boot/vmlinuz-*)
    KVER=${kernel##*/vmlinuz-}

    # The peer's TFTP root: the same kernel, the initrd `netboot initrd` builds, and iPXE scripts
    # with the command line `netboot menu` gives (AoE shelf 1, slot = PC number - 1).
    PEER_FILES=$WORK/tftp
    mkdir -p "$PEER_FILES"
    [[ $KINDS == *bios-pxelinux* || $KINDS == *bios-grub* || $KINDS == *uefi-secure* ]] && { log "the loaders' packages (tests' cache)"; LOADERS=$(loaders_tree); }
    cp "$kernel" "$PEER_FILES/vmlinuz"
    netboot "$BASE" initrd demo -o "$PEER_FILES/initrd.img" >"$WORK/initrd.log" 2>&1 \
      || { cat "$WORK/initrd.log" >&2; die "netboot initrd failed"; }
    local scratch=$WORK/scratch menu extra i mac
    cp -a "$BASE" "$scratch"
    netboot "$scratch" clone demo --to "$(mac_of 1)" >/dev/null 2>&1 || die "netboot clone (scratch) failed"
    menu=$(netboot "$scratch" menu "$(mac_of 1)" --loader ipxe 2>/dev/null) || die "netboot menu failed"
    rm -rf "$scratch"
    extra=$(awk '$1 == "kernel" { for (i = 3; i <= NF; i++) if ($i !~ /^netboot\.(mac|aoe)=/) { printf "%s%s", s, $i; s = " " } }' <<<"$menu")
    [[ $extra == *netboot.demo=poweroff* ]] || die "unexpected menu from netboot: $menu"
    log "kernel command line after netboot.mac/aoe: $extra"
    # shellcheck disable=SC2016  # ${...} are iPXE settings, expanded by iPXE
    printf '#!ipxe\nchain --replace tftp://${next-server}/${netX/mac:hexhyp}.ipxe\n' >"$PEER_FILES/boot.ipxe"
    for ((i = 1; i <= CLIENTS; i++)); do
      mac=$(mac_of "$i")
      # shellcheck disable=SC2016  # iPXE settings
      # initrd named and on the kernel line, as ours does: UEFI's EFI stub needs it (see pxe-menus/README.md)
      printf '#!ipxe\necho netboot: %s boots image demo from AoE /dev/etherd/e1.%d\nkernel tftp://${next-server}/vmlinuz initrd=initrd.img netboot.mac=%s netboot.aoe=1.%d %s\ninitrd --name initrd.img tftp://${next-server}/initrd.img\nboot\n' \
        "$mac" $((i - 1)) "$mac" $((i - 1)) "$extra" >"$PEER_FILES/${mac//:/-}.ipxe"
    done
    if [[ $KINDS == *uefi* ]]; then
      local pkg
      pkg=$(debian_package ovmf); OVMF=$pkg/usr/share/OVMF
      OVMF_VERSION=$(zcat "$pkg/usr/share/doc/ovmf/changelog.Debian.gz" | head -n 1 | sed 's/.*(\(.*\)).*/\1/')
      pkg=$(debian_package ipxe); SNPONLY=$pkg/usr/lib/ipxe/snponly.efi
      IPXE_VERSION=$(zcat "$pkg/usr/share/doc/ipxe/changelog.Debian.gz" | head -n 1 | sed 's/.*(\(.*\)).*/\1/')
      cp "$SNPONLY" "$PEER_FILES/snponly.efi"
    fi
    [[ $KINDS == *bios-pxelinux* || $KINDS == *bios-grub* || $KINDS == *uefi-secure* ]] && peer_loader_files
    find "$PEER_FILES" -type d -exec chmod 755 {} + && find "$PEER_FILES" -type f -exec chmod 644 {} +

    setup_lab
    local run n order stack kind
    for ((run = 1; run <= RUNS; run++)); do
      order="ours peer"; ((run % 2 == 0)) && order="peer ours"
      for kind in $KINDS; do
        for n in $( ((CLIENTS > 1)) && echo "1 $CLIENTS" || echo 1); do
          for stack in $order; do bench_round "$stack" "$n" "$run" "$kind"; done
        done
      done
    done
  fi
  ((SKIP_CLONE)) || bench_clone

  local out
  mkdir -p "$SCRIPT_DIR/results"
  out="$SCRIPT_DIR/results/boot-$(date +%Y-%m-%d-%H%M%S).md"
  { report; report_raw; } >"$out"
  report
  log "written to $out"
  if [[ -n $KEEP_CONSOLES && -d $WORK/consoles ]]; then
    mkdir -p "$KEEP_CONSOLES" && cp -r "$WORK/consoles/." "$KEEP_CONSOLES/"
    log "consoles and server logs of the last run copied to $KEEP_CONSOLES"
  fi
  ((FAILED == 0)) || die "some PCs did not boot (FAIL in the table); see messages above"
}

# Sourcing the script (e.g. to try the report on made-up figures) defines everything and runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main; fi
