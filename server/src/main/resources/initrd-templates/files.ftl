<#-- What goes into the initrd of image [=image] (kernel [=kernelVersion]), besides /init (init.ftl).
     Format: the kernel's gen_init_cpio (dir, file, slink, nod) plus "module GROUP NAME" (from the
     image's modules.dep with its dependencies; "module?" skips a module the image lacks).
     Values: image, kernelVersion, busybox (initrd.busybox in the config), imageRoot. -->
dir   /bin      0755
dir   /sbin     0755
dir   /usr/bin  0755
dir   /usr/sbin 0755
dir   /proc     0755
dir   /sys      0755
dir   /dev      0755
dir   /run      0755
dir   /tmp      01777
dir   /newroot  0755
nod   /dev/console 0600 c 5 1
nod   /dev/null    0666 c 1 3
file  /bin/busybox [=busybox] 0755
slink /bin/sh busybox 0777

# NIC drivers: the ones a virtual machine or a common PC has; add yours.
module? nic virtio_pci    # virtual machines: the bus virtio NICs sit on
module? nic virtio_net
module? nic e1000
module? nic e1000e
module? nic igb
module? nic r8169
module? nic tg3
# ATA over Ethernet, and the root filesystem.
module  aoe aoe
module? fs  ext4
