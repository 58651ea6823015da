#!/usr/bin/env bash
# The failover pause a real Linux aoe driver sees (docs/replication.md, "Failover"): a qemu TCG guest
# writes numbered 4 KiB blocks with O_DIRECT, one at a time, to e7.1; the server that serves it is
# killed with SIGKILL; the figure is the time from the kill to the guest's next completed write.
#
#   sudo bench/failover.sh [RUNS]     (default 3 runs of each side)
#
# ours:  two `netboot serve` in namespaces on one client bridge, replication link of their own, the
#        disk served from the service MAC (macvlan) of the primary; the standby takes over by itself
#        (AoeFailoverIT#theStandbyTakesOver..., the same one backing file for both).
# peer:  vblade on both servers exporting one raw file, so the driver has two paths and moves to the
#        surviving one on its own (AoeFailoverIT#peerVblade..., enabled by -Dbench.failover.peer=true);
#        the usual manual setup (vblade on both boxes) without a cluster manager.
#
# Needs root, qemu-system-x86, vblade, tcpdump, nftables, iproute2 and apt (kernel and busybox-static
# are fetched and cached in ~/.cache/netboot-test as the tests do). TCG is slow: compare the two
# columns of one run, not with figures from elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
command -v vblade >/dev/null || { echo "needs vblade (apt-get install vblade)" >&2; exit 1; }
log=$(mktemp /tmp/failover-bench.XXXXXX)
for i in $(seq "$runs"); do
  ./mvnw -B -q verify -pl server -Dtest='NoSuch*' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test='AoeFailoverIT#theStandbyTakesOver*+peerVblade*' -Dfailsafe.failIfNoSpecifiedTests=false \
    -Dbench.failover.peer=true >> "$log" 2>&1 || { echo "run $i failed; see $log" >&2; exit 1; }
done
ours=$(grep -o 'kill -9 of the primary: [0-9.]* s' "$log" | awk '{print $(NF-1)}' | sort -n | tr '\n' ' ')
peer=$(grep -o 'kill -9 of one vblade: [0-9.]* s' "$log" | awk '{print $(NF-1)}' | sort -n | tr '\n' ' ')
median() { echo "$1" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(median "$ours"); mp=$(median "$peer")
echo "| guest pause after kill -9 of the serving process, s | netboot failover | vblade on both (two paths) | netboot / vblade |"
echo "|---|---|---|---|"
printf '| median of %d (all: %s/ %s) | %s | %s | %.2f |\n' "$runs" "$ours" "$peer" "$mo" "$mp" "$(echo "$mo / $mp" | bc -l)"
echo "(log: $log)"
