#!/bin/sh
# Builds the demo image's root filesystem from Debian packages: Debian's cloud kernel (small, has the
# e1000/virtio NIC drivers, aoe and ext4) and busybox-static, plus the init in this folder.
#
#   images/demo/build.sh OUTDIR            then: ./netboot image import demo OUTDIR
#
# Needs apt-get (Debian or Ubuntu host), dpkg-deb and depmod (kmod). Downloaded packages are kept in
# $NETBOOT_DEB_CACHE (default ~/.cache/netboot/debs) so a rebuild needs no network.
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
cache=${NETBOOT_DEB_CACHE:-$HOME/.cache/netboot/debs}
mkdir -p "$cache"

fetch() { # fetch PACKAGE: the newest .deb of it in the cache, downloaded when missing
    deb=$(ls "$cache"/"$1"_*.deb 2>/dev/null | sort | tail -n 1 || true)
    if [ -z "$deb" ]; then
        echo "downloading $1" >&2
        (cd "$cache" && apt-get download "$1" >&2)
        deb=$(ls "$cache"/"$1"_*.deb | sort | tail -n 1)
    fi
    echo "$deb"
}

# linux-image-cloud-amd64 is a metapackage: the real kernel package is its dependency.
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
[ -n "$kernel_pkg" ] || { echo "build.sh: no linux-image-*-cloud-amd64 package known to apt (apt-get update?)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
dpkg-deb -x "$(fetch "$kernel_pkg")" "$out"
dpkg-deb -x "$(fetch busybox-static)" "$out"
version=$(ls "$out/lib/modules")
depmod -b "$out" "$version"           # the package's postinst would have run it
# Only what the boot needs: the rest of the cloud kernel's modules stay out of the image.
mkdir -p "$out/sbin" "$out/etc" "$out/proc" "$out/sys" "$out/dev" "$out/run" "$out/tmp" "$out/root" "$out/var/lib/netboot-demo" \
         "$out/usr/bin" "$out/usr/sbin"
install -m 0755 "$here/init" "$out/sbin/init"
echo demo > "$out/etc/hostname"
echo "netboot demo image, kernel $version, built $(date -u +%Y-%m-%dT%H:%MZ)" > "$out/etc/netboot-demo-release"
echo "built $out: kernel $version, $(du -sh "$out" | cut -f1)" >&2
