#!ipxe
<#-- iPXE script for one client, fetched over HTTP as /boot/ipxe/<mac-with-dashes>.ipxe -->
<#if assigned>
echo netboot: [=mac] boots image [=image] from AoE [=aoeDevice]
kernel [=httpPrefix][=kernel] [=cmdline]
initrd [=httpPrefix][=initrd]
boot
<#else>
echo netboot: no image is assigned to [=mac] yet; asking again in [=retrySeconds] s
sleep [=retrySeconds]
chain --replace [=httpPrefix]ipxe/[=macHyphen].ipxe
</#if>
