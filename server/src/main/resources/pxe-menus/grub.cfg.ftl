<#-- GRUB menu for one client (grub.cfg-01-<mac>) or unknown ones (grub.cfg). GRUB's own ${...}
     variables pass through untouched: interpolation here is [=name]. -->
<#if assigned>
set timeout=0
set default=0
<#if installer?has_content>
menuentry "netboot: installer [=installer] onto AoE [=aoe]" {
    echo "netboot: [=mac] starts installer [=installer] onto its disk AoE [=aoeDevice]"
<#else>
menuentry "netboot: [=image] on AoE [=aoe]" {
    echo "netboot: [=mac] boots image [=image] from AoE [=aoeDevice]"
</#if>
    linux /[=kernel] [=cmdline]
    initrd /[=initrd]
}
<#else>
echo "netboot: this PC (<#if mac?has_content>[=mac]<#else>${net_default_mac}</#if>) has no image assigned yet: it waits for [=waitingFor]."
<#if adminUrl?has_content>
echo "netboot: assign one in the web admin: [=adminUrl]"
<#else>
echo "netboot: assign one on the server: netboot clone IMAGE --to <#if mac?has_content>[=mac]<#else>${net_default_mac}</#if>"
</#if>
echo "netboot: asking again in [=retrySeconds] s"
sleep [=retrySeconds]
configfile ${prefix}/grub.cfg<#if mac?has_content>-01-[=macHyphen]</#if>
</#if>
