<#-- PXELINUX menu for one client (pxelinux.cfg/01-<mac>) or for unknown ones (pxelinux.cfg/default).
     Interpolation is [=name]; see pxe-menus/README.md for the values. -->
<#if assigned>
DEFAULT netboot
PROMPT 0
TIMEOUT 0
<#if installer?has_content>
SAY netboot: [=mac] starts installer [=installer] onto its disk AoE [=aoeDevice]
<#else>
SAY netboot: [=mac] boots image [=image] from AoE [=aoeDevice]
</#if>
<#-- bootUrl (http://server:port/boot/) is set when this PC got lpxelinux.0 with HTTP on: it streams the
     kernel and initrd over HTTP instead of lockstep TFTP. Empty: the TFTP paths, as pxelinux.0 reads them. -->
LABEL netboot
  KERNEL [=bootUrl][=kernel]
  INITRD [=bootUrl][=initrd]
  APPEND [=cmdline]
<#else>
DEFAULT retry
PROMPT 0
TIMEOUT [=retrySeconds * 10]
SAY netboot: this PC (<#if mac?has_content>[=mac]<#else>its MAC was not sent</#if>) has no image assigned yet: it waits for [=waitingFor].
<#if adminUrl?has_content>
SAY netboot: assign one in the web admin: [=adminUrl]
<#else>
SAY netboot: assign one on the server: netboot clone IMAGE --to <#if mac?has_content>[=mac]<#else>MAC</#if>
</#if>
SAY netboot: asking again in [=retrySeconds] s
<#-- The loader this PC runs again: lpxelinux.0 when it got that one (bootUrl set), else pxelinux.0. -->
LABEL retry
  KERNEL <#if bootUrl?has_content>lpxelinux.0<#else>pxelinux.0</#if>
</#if>
