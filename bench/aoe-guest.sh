#!/usr/bin/env bash
# A real-driver figure: dd and fio inside a qemu TCG guest (Debian's kernel, Linux aoe driver)
# against vblade and against netboot, exporting the same file over the same tap, one after the other.
#
#   sudo bench/aoe-guest.sh [--no-build] [MIB]   (default 64 MiB read and written with O_DIRECT by dd;
#                                   --no-build: server/target/netboot.jar as it is)
#   FIO=/path/to/static/fio SECS=10 sudo bench/aoe-guest.sh
#   SETS="--set aoe.packetRing=false --set tuning.aoeSpinNanos=0" bench/aoe-guest.sh   (other settings for netboot)
#
# In the guest, on /dev/etherd/e1.1: dd of MIB MiB (bs=1M, O_DIRECT, one request at a time), then fio
# (io_uring, O_DIRECT, iodepth 16, SECS seconds each): sequential write and read with 1 MiB blocks,
# and 4 KiB random reads. fio is the host's (Debian's `fio`, copied into the initramfs with every
# shared library ldd lists: about 80 MB, so the guest gets 1 GiB) unless FIO names a static build
# (fio's own `./configure --build-static`), which boots much faster.
#
# TCG emulation is slow, so only the ratio in one run means anything. Needs root, qemu-system-x86,
# vblade, fio and apt (the kernel and busybox-static are fetched with apt-get download and cached in
# ~/.cache/netboot-test, as the tests do).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
no_build_flag "$@"; set -- ${REST[@]+"${REST[@]}"}
mib=${1:-64}
secs=${SECS:-10}
fio=${FIO:-$(command -v fio || true)}
[ -x "$fio" ] || { echo "needs fio (apt-get install fio) or FIO=/path/to/fio" >&2; exit 1; }
cache=${NETBOOT_TEST_CACHE:-$HOME/.cache/netboot-test}
work=$(mktemp -d /tmp/aoe-guest.XXXXXX)
tap=nbgt$$
server_pid=

cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid"; wait "$server_pid"; } 2>/dev/null || true
  ip link del "$tap" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$cache"
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ ! -d "$cache/$pkg/boot" ]; then
  (cd "$cache" && apt-get download "$pkg" && rm -rf "$pkg.tmp" && dpkg -x "${pkg}"_*.deb "$pkg.tmp" && mv "$pkg.tmp" "$pkg" && rm -f "${pkg}"_*.deb)
fi
bb=$cache/busybox-static/bin/busybox
if [ ! -x "$bb" ]; then
  (cd "$cache" && apt-get download busybox-static && dpkg -x busybox-static_*.deb busybox-static && rm -f busybox-static_*.deb)
fi
vmlinuz=$(ls "$cache/$pkg"/boot/vmlinuz-*)
mods=$(ls -d "$cache/$pkg"/lib/modules/*)/kernel

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,mods}
cp "$bb" "$root/bin/busybox"
cp "$mods/drivers/net/ethernet/intel/e1000/e1000.ko" "$mods/drivers/block/aoe/aoe.ko" "$root/mods/"
cp "$fio" "$root/bin/fio"
# A dynamic fio brings its libraries (and the loader) along, at the paths ldd names.
if ldd "$fio" >/dev/null 2>&1; then
  for lib in $(ldd "$fio" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
fi
cat > "$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
insmod /mods/e1000.ko
ip link set eth0 up
sleep 1
insmod /mods/aoe.ko
# The first discovery may leave before the emulated link is up: ask again every 2 s.
i=0; while [ ! -b /dev/etherd/e1.1 ] && [ \$i -lt 100 ]; do sleep 0.2; i=\$((i+1)); [ \$((i % 10)) = 0 ] && echo discover > /dev/etherd/discover; done
[ -b /dev/etherd/e1.1 ] || echo NB-FAIL no device
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero of=/dev/etherd/e1.1 bs=1M count=$mib oflag=direct 2>/dev/null
t1=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/etherd/e1.1 of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null
t2=\$(cut -d' ' -f1 /proc/uptime)
echo "NB-TIMES \$t0 \$t1 \$t2"
f="fio --filename=/dev/etherd/e1.1 --ioengine=io_uring --direct=1 --iodepth=16 --time_based --runtime=$secs --minimal"
echo "NB-FIO seqwrite \$(\$f --name=sw --rw=write --bs=1M)"
echo "NB-FIO seqread \$(\$f --name=sr --rw=read --bs=1M)"
echo "NB-FIO randread \$(\$f --name=rr --rw=randread --bs=4k)"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initrd.gz")

bench_jar "$PWD" "$work/build.log"
# A private copy: a rebuild meanwhile (or anything stopping "netboot.jar" processes) leaves it alone.
cp server/target/netboot.jar "$work/aoe-target.jar"
jar=$work/aoe-target.jar
truncate -s 256M "$work/disk.img"
ip tuntap add dev "$tap" mode tap
ip link set "$tap" up

guest() { # prints "write-rate read-rate" from the guest's dd lines
  timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4" -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
    -device e1000,netdev=n0,mac=52:54:00:be:0c:01 -display none -serial stdio -monitor none -no-reboot > "$work/console.txt" 2>&1 || true
  local times
  times=$(grep -a 'NB-TIMES' "$work/console.txt" | tr -d '\r' | tail -n 1)
  if [ -z "$times" ] || grep -q NB-FAIL "$work/console.txt"; then echo "guest failed:" >&2; cat "$work/console.txt" >&2; exit 1; fi
  # MB/s (10^6 bytes) from the guest's uptime stamps around each dd
  awk -v m="$mib" '{ printf "%.1f %.1f ", m * 1.048576 / ($3 - $2), m * 1.048576 / ($4 - $3) }' <<<"$times"
  # fio's terse (v3) lines: field 7 read KiB/s, 8 read IOPS, 48 write KiB/s (after "NB-FIO mode ")
  grep -a '^NB-FIO' "$work/console.txt" | tr -d '\r' | awk '{ mode = $2; sub(/^NB-FIO [a-z]+ /, ""); split($0, f, ";")
    if (mode == "seqwrite") w = f[48] * 1.024 / 1000; else if (mode == "seqread") r = f[7] * 1.024 / 1000; else i = f[8] }
    END { if (w == "" || r == "" || i == "") { print "missing fio results" > "/dev/stderr"; exit 1 } printf "%.1f %.1f %.0f\n", w, r, i }'
}

vblade -b 64 1 1 "$tap" "$work/disk.img" > "$work/vblade.log" 2>&1 &
server_pid=$!
sleep 0.5
read -r vw vr vfw vfr vfi < <(guest)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" disk export 1.1 "$work/disk.img" --open --set dataDir="$work/data" >/dev/null
"$JAVA_HOME/bin/java" ${JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED -jar "$jar" serve --set dataDir="$work/data" --set "aoe.interfaces=[$tap]" \
  --set tftp.enabled=false --set http.enabled=false --set dhcp.mode=off ${SETS:-} > "$work/ours.log" 2>&1 &
server_pid=$!
sleep 3
read -r ow or ofw ofr ofi < <(guest)

ratio() { awk -v o="$1" -v v="$2" 'BEGIN { if (v > 0) printf "%.2f×", o / v; else print "n/a" }'; }
echo
echo "Linux aoe driver in a qemu TCG guest ($pkg), dd of $mib MiB with O_DIRECT, bs=1M, MTU 1500 tap"
echo
echo "| guest dd, MB/s | vblade | netboot | netboot / vblade |"
echo "|---|---:|---:|---:|"
echo "| write | $vw | $ow | $(ratio "$ow" "$vw") |"
echo "| read | $vr | $or | $(ratio "$or" "$vr") |"
echo
echo "fio in the same guests: io_uring, O_DIRECT, iodepth 16, $secs s each, $(basename "$fio") $("$fio" --version)"
echo
echo "| guest fio | vblade | netboot | netboot / vblade |"
echo "|---|---:|---:|---:|"
echo "| seq write 1 MiB, MB/s | $vfw | $ofw | $(ratio "$ofw" "$vfw") |"
echo "| seq read 1 MiB, MB/s | $vfr | $ofr | $(ratio "$ofr" "$vfr") |"
echo "| 4 KiB rand read, IOPS | $vfi | $ofi | $(ratio "$ofi" "$vfi") |"
