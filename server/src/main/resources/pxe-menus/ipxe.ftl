#!ipxe
<#-- iPXE script for one client, served as ipxe/<mac-with-dashes>.ipxe over TFTP and HTTP (/boot/ipxe/...).
     Every path is relative to this script's own URI, so the kernel and initrd come the way the script
     came (TFTP or HTTP): ../images/... is images/... under the boot root.
     UEFI: the kernel's EFI stub loads an initrd that iPXE downloaded only if the command line names it
     (initrd=NAME, read from iPXE's virtual file system), unless the iPXE build hands it over by
     LoadFile2 (iPXE 1.21.1 and later; then the stub ignores initrd=). Without either it panics
     "VFS: Unable to mount root fs". So the initrd gets a fixed name and the kernel line names it:
     both kinds of iPXE boot under UEFI, and under BIOS the kernel ignores initrd=NAME. -->
<#if assigned>
<#if installer?has_content>
echo netboot: [=mac] starts installer [=installer] onto its disk AoE [=aoeDevice]
<#else>
echo netboot: [=mac] boots image [=image] from AoE [=aoeDevice]
</#if>
kernel ../[=kernel] initrd=initrd.img [=cmdline]
initrd --name initrd.img ../[=initrd]
boot
<#else>
echo
echo netboot: this PC ([=mac]) has no image assigned yet: it waits for [=waitingFor].
<#if adminUrl?has_content>
echo netboot: assign one to [=mac] in the web admin: [=adminUrl]
<#else>
echo netboot: assign one on the server: netboot clone IMAGE --to [=mac]
</#if>
echo netboot: asking again every [=retrySeconds] s
sleep [=retrySeconds]
chain --replace [=macHyphen].ipxe
</#if>
