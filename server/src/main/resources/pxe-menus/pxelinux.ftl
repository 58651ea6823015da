<#-- PXELINUX menu for one client (pxelinux.cfg/01-<mac>) or for unknown ones (pxelinux.cfg/default).
     Interpolation is [=name]; see pxe-menus/README.md for the values. -->
<#if assigned>
DEFAULT netboot
PROMPT 0
TIMEOUT 0
SAY netboot: [=mac] boots image [=image] from AoE [=aoeDevice]
LABEL netboot
  KERNEL [=kernel]
  INITRD [=initrd]
  APPEND [=cmdline]
<#else>
DEFAULT retry
PROMPT 0
TIMEOUT [=retrySeconds * 10]
SAY netboot: no image is assigned to <#if mac?has_content>[=mac]<#else>this machine</#if> yet; asking again in [=retrySeconds] s
LABEL retry
  KERNEL pxelinux.0
</#if>
