<#-- Preseed for Debian's installer, rendered for one client and served as
     installers/<installer>/<mac>/preseed.cfg. Values: mac, aoe (shelf.slot), aoeDevice (/dev/etherd/eX.Y),
     installer, server (this server's HTTP host:port as the client reached it, "" when the initrd came over TFTP),
     mirror (the path of this installer's local udeb mirror on the server, "" when it has none). Interpolation is [=name].
     This default keeps the install interactive and only points the partitioner at the network disk;
     uncomment the rest (or write your own in the installers folder) for an unattended install. -->
# netboot: client [=mac], its disk [=aoeDevice]
d-i partman-auto/disk string [=aoeDevice]
d-i grub-installer/bootdev string [=aoeDevice]
#d-i partman-auto/method string regular
#d-i partman-auto/choose_recipe select atomic
#d-i partman-partitioning/confirm_write_new_label boolean true
#d-i partman/choose_partition select finish
#d-i partman/confirm boolean true
#d-i partman/confirm_nooverwrite boolean true
#d-i passwd/root-password password change-me
#d-i passwd/root-password-again password change-me
#d-i passwd/make-user boolean false
<#if server?has_content && mirror?has_content>
# This server's local mirror of the installer's own components (netboot installers fetch debian built it:
# partitioner, filesystems, disk detection), so that partitioning needs no internet. Its Release file is
# unsigned (the udebs were checked against Debian's signed index when fetched), hence allow_unauthenticated.
d-i mirror/country string manual
d-i mirror/protocol string http
d-i mirror/http/hostname string [=server]
d-i mirror/http/directory string [=mirror]
d-i mirror/http/proxy string
d-i mirror/suite string bookworm
d-i mirror/udeb/suite string bookworm
d-i debian-installer/allow_unauthenticated boolean true
</#if>
#d-i pkgsel/include string openssh-server
