<#-- Preseed for Debian's installer, rendered for one client and served as
     installers/<installer>/<mac>/preseed.cfg. Values: mac, aoe (shelf.slot), aoeDevice (/dev/etherd/eX.Y),
     installer, server (this server as the client reached it). Interpolation is [=name].
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
# This server's local mirror of the installer's own components (netboot installers fetch debian builds
# it: partitioner, filesystems, disk detection), so that partitioning needs no internet. Its Release file
# is unsigned, hence allow_unauthenticated. SERVER:PORT is this server's HTTP address (http.port).
#d-i mirror/country string manual
#d-i mirror/http/hostname string SERVER:PORT
#d-i mirror/http/directory string /boot/installers/[=installer]/mirror
#d-i mirror/http/proxy string
#d-i mirror/suite string bookworm
#d-i debian-installer/allow_unauthenticated boolean true
#d-i pkgsel/include string openssh-server
