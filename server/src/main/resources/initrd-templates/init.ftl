#!/bin/sh
# netboot initrd of image [=image], kernel [=kernelVersion] (rendered from initrd-templates/init.ftl).
# Raises the NIC the kernel command line names (netboot.mac=), waits for carrier, finds the AoE disk
# netboot.aoe=SHELF.SLOT, mounts it and hands over to the image's init. Says what it waits for.
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

say() { echo "netboot: $*"; }
fail() {
    say "FAILED: $*"
    say "a shell follows; the machine retries the network boot when it exits"
    sh
    reboot -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || fail "cannot mount devtmpfs on /dev (kernel without CONFIG_DEVTMPFS?)"

MAC=
AOE=
ROOT_PART=
ROOT_INIT=/sbin/init
WAIT=[=linkWaitSeconds!30]
AOE_WAIT=[=aoeWaitSeconds!10]
AOE_TRIES=[=aoeTries!6]
# Seconds the aoe driver keeps retrying a server that does not answer before it fails the disk for good
# (its own default is 180). 0 = never give up: a failover, a server restart or a long outage then pauses
# this machine instead of killing its root filesystem (docs/replication.md).
AOE_DEADSECS=[=aoeDeadSecs!0]
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        netboot.mac=*) MAC=$(echo "${arg#netboot.mac=}" | tr 'A-F-' 'a-f:') ;;
        netboot.aoe=*) AOE="${arg#netboot.aoe=}" ;;
        netboot.root=*) ROOT_PART="${arg#netboot.root=}" ;;
        netboot.wait=*) WAIT="${arg#netboot.wait=}" ;;
        netboot.aoewait=*) AOE_WAIT="${arg#netboot.aoewait=}" ;;
        netboot.aoetries=*) AOE_TRIES="${arg#netboot.aoetries=}" ;;
        netboot.aoedeadsecs=*) AOE_DEADSECS="${arg#netboot.aoedeadsecs=}" ;;
        init=*) ROOT_INIT="${arg#init=}" ;;
    esac
done
[ -n "$MAC" ] || fail "no netboot.mac= on the kernel command line: cannot tell which network interface to boot from"
[ -n "$AOE" ] || fail "no netboot.aoe=SHELF.SLOT on the kernel command line: this machine has no disk assigned"

load() {
    # $1 group, $2 module name, $3 file, then module parameters
    group=$1; name=$2; file=$3; shift 3
    grep -q "^$name " /proc/modules && return 0
    insmod "$file" "$@" || say "loading $group module $name failed (built into the kernel, or wrong kernel version?)"
}

<#list (modules.nic)![] as m>
load nic [=m.name] [=m.path]
</#list>

find_nic() {
    for dir in /sys/class/net/*; do
        [ "$(cat "$dir/address" 2>/dev/null)" = "$MAC" ] && { echo "${dir##*/}"; return 0; }
    done
    return 1
}
# The waits below poll every 0.1 s (counted in ticks): what they wait for usually comes within
# milliseconds, and a whole-second poll cost every boot up to a second (bench/boot.sh). A busybox
# built without fractional sleep refuses "0.001": it then polls every second, as before.
if sleep 0.001 2>/dev/null; then TICK=0.1 TICKS=10; else TICK=1 TICKS=1; fi
i=0
until NIC=$(find_nic); do
    i=$((i + 1))
    [ "$i" -ge $((WAIT * TICKS)) ] && fail "no network interface has MAC $MAC after ${WAIT}s; interfaces: $(ls /sys/class/net | tr '\n' ' ')- is the NIC's driver in the initrd (initrd-templates/files.ftl)?"
    sleep $TICK
done
say "booting from $NIC ($MAC)"
ip link set "$NIC" up || fail "cannot bring $NIC up"
i=0
while [ "$(cat "/sys/class/net/$NIC/carrier" 2>/dev/null)" != 1 ]; do
    [ $((i % (5 * TICKS))) -eq 0 ] && say "waiting for carrier on $NIC: no link, no AoE (cable, switch port?)"
    i=$((i + 1))
    [ "$i" -ge $((WAIT * TICKS)) ] && fail "no carrier on $NIC after ${WAIT}s: the cable or switch port is down"
    sleep $TICK
done
say "link up on $NIC"

<#list (modules.fs)![] as m>
load fs [=m.name] [=m.path]
</#list>
<#list (modules.aoe)![] as m>
<#if m.name == "aoe">
# aoe_iflist: speak AoE on the boot NIC only. aoe_deadsecs: how long a silent server is waited for.
load aoe [=m.name] [=m.path] aoe_iflist="$NIC" aoe_deadsecs="$AOE_DEADSECS"
<#else>
load aoe [=m.name] [=m.path]
</#if>
</#list>
# A driver built into the kernel (or already loaded) took no option: set it at run time, then say what holds.
if [ -w /sys/module/aoe/parameters/aoe_deadsecs ]; then
    echo "$AOE_DEADSECS" > /sys/module/aoe/parameters/aoe_deadsecs 2>/dev/null
fi
DEADSECS_NOW=$(cat /sys/module/aoe/parameters/aoe_deadsecs 2>/dev/null)
if [ "$DEADSECS_NOW" = "0" ]; then
    say "aoe_deadsecs=0: the AoE disk is never given up on; a server failover or outage pauses this machine until a server answers"
elif [ -n "$DEADSECS_NOW" ]; then
    say "aoe_deadsecs=$DEADSECS_NOW: the AoE disk fails for good after ${DEADSECS_NOW}s without an answering server"
else
    say "cannot read the aoe driver's aoe_deadsecs (wanted $AOE_DEADSECS): an outage over 180s may fail the disk"
fi

DEV=/dev/etherd/e$AOE
try=1
while [ ! -b "$DEV" ]; do
    [ "$try" -gt "$AOE_TRIES" ] && fail "AoE disk e$AOE did not appear after $AOE_TRIES tries: the server exports no e$AOE to $MAC, or it is unreachable from $NIC; AoE devices seen: $(ls /dev/etherd 2>/dev/null | tr '\n' ' ')"
    say "looking for AoE disk e$AOE on $NIC (try $try of $AOE_TRIES, ${AOE_WAIT}s each)"
    [ -e /dev/etherd/discover ] && echo discover > /dev/etherd/discover
    i=0
    while [ ! -b "$DEV" ] && [ "$i" -lt $((AOE_WAIT * TICKS)) ]; do sleep $TICK; i=$((i + 1)); done
    try=$((try + 1))
done
# The root is the whole disk (an image built from a folder) or one of its partitions (an installed
# system: EFI or /boot first, root later): the first of them that mounts and holds the image's init.
# netboot.root=pN (or netboot.root=disk) names it instead.
has_init() { [ -x "/newroot$ROOT_INIT" ] || [ -L "/newroot$ROOT_INIT" ]; }
if [ -n "$ROOT_PART" ]; then
    ROOT=$DEV
    [ "$ROOT_PART" = disk ] || ROOT=$DEV$ROOT_PART
    [ -b "$ROOT" ] || fail "netboot.root=$ROOT_PART: there is no $ROOT (partitions: $(ls /dev/etherd | grep "^e$AOE" | tr '\n' ' '))"
else
    ROOT=
    # The kernel reads the partition table after the disk appears: its pN devices can come a moment
    # later (seconds on a loaded host), so the search is repeated for up to AOE_WAIT seconds.
    i=0
    while [ -z "$ROOT" ]; do
        tried=
        for cand in $DEV $(n=1; while [ "$n" -le 64 ]; do [ -b "${DEV}p$n" ] && echo "${DEV}p$n"; n=$((n + 1)); done); do
            mount -o ro "$cand" /newroot 2>/dev/null || { tried="$tried ${cand##*/}(no filesystem)"; continue; }
            if has_init; then ROOT=$cand; fi
            umount /newroot
            [ -n "$ROOT" ] && break
            tried="$tried ${cand##*/}(no $ROOT_INIT)"
        done
        [ -n "$ROOT" ] && break
        [ "$i" -ge $((AOE_WAIT * TICKS)) ] && fail "no filesystem on e$AOE holds $ROOT_INIT; tried:$tried"
        sleep $TICK
        i=$((i + 1))
    done
fi
say "mounting $ROOT"
mount -o rw "$ROOT" /newroot || fail "cannot mount $ROOT (no filesystem the kernel knows? ext4 module missing?)"
has_init || fail "the image has no $ROOT_INIT on $ROOT"
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
umount /sys
umount /proc
say "switching to the image's $ROOT_INIT"
exec switch_root /newroot "$ROOT_INIT"
