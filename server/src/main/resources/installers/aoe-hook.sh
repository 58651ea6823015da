#!/bin/sh
# netboot: makes this client's AoE disk a disk of the installer. The appliance appends this script, the
# aoe module of exactly this installer's kernel (from its linux-image package) and the module list to
# the installer's initrd (a second cpio: the kernel unpacks both). debian-installer-startup runs it
# before the installer's menu; it returns at once and works in the background: as soon as the NIC with
# netboot.mac= exists (the installer loads its driver itself) it raises it, loads aoe and asks for the
# disk netboot.aoe=SHELF.SLOT until /dev/etherd/eSHELF.SLOT is there. From then on the installer's disk
# detection and partitioner list it like a local disk (libparted knows AoE: major 152).
# Operators may replace it: installers/aoe-hook.sh in the installers folder (installers.dir).
MAC=
AOE=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        netboot.mac=*) MAC=$(echo "${arg#netboot.mac=}" | tr 'A-F-' 'a-f:') ;;
        netboot.aoe=*) AOE="${arg#netboot.aoe=}" ;;
    esac
done
[ -n "$AOE" ] || exit 0

say() {
    logger -t netboot "$*" 2>/dev/null
    echo "netboot: $*" >/dev/console 2>/dev/null
}

(
    for m in $(cat /etc/netboot/aoe.modules); do
        name=$(basename "$m" .ko | tr - _)
        grep -q "^$name " /proc/modules || insmod "$m" || say "loading $m failed"
    done
    i=0
    while [ "$i" -lt 1800 ]; do
        for dir in /sys/class/net/*; do
            nic=${dir##*/}
            [ "$nic" = lo ] && continue
            if [ -z "$MAC" ] || [ "$(cat "$dir/address" 2>/dev/null)" = "$MAC" ]; then
                [ "$(cat "$dir/operstate" 2>/dev/null)" = up ] || ip link set "$nic" up 2>/dev/null
            fi
        done
        if [ -b "/dev/etherd/e$AOE" ]; then
            sectors=$(cat "/sys/block/etherd!e$AOE/size" 2>/dev/null)
            say "AoE disk /dev/etherd/e$AOE is here ($((${sectors:-0} / 2048)) MiB): the installer lists it as a disk"
            exit 0
        fi
        # The driver asks at load on the NICs that are up; a NIC raised later needs another discovery.
        [ -c /dev/etherd/discover ] && echo > /dev/etherd/discover 2>/dev/null
        [ $((i % 30)) -eq 29 ] && say "still looking for AoE disk e$AOE (MAC ${MAC:-any}); is the server's AoE on this network?"
        i=$((i + 1))
        sleep 1
    done
    say "no AoE disk e$AOE after 30 minutes: the installer will not see this PC's network disk"
) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
