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
<#if !(kernelSigned!true)>
<#-- Short lines: GRUB wraps at the screen's width (80 columns on a serial console). -->
    echo "netboot: the kernel of image [=image] has no Secure Boot signature:"
    echo "netboot: with Secure Boot on, this PC refuses it; turn it off, or sign the kernel"
</#if>
</#if>
<#if bootHttpServer?has_content>
<#-- Over HTTP where this GRUB can: a TCP stream instead of lockstep TFTP of 1 KiB blocks. BIOS GRUB loads http.mod
     from its network folder (insmod always returns 0, so the test is whether linux itself succeeds). Debian 12's
     signed EFI GRUB has no http module and loads none under Secure Boot; trying would print an error, and an
     error printed in a menu entry makes GRUB wait 10 s at "Press any key to continue..." before it boots: so
     EFI GRUB takes the TFTP paths it came by without trying (shim's verifier checks the kernel either way). -->
    set netboot_http=no
    if [ "${grub_platform}" = "pc" ]; then
        insmod http
        if linux "(http,[=bootHttpServer])[=bootHttpPath][=kernel]" [=cmdline]; then
            set netboot_http=yes
            echo "netboot: kernel and initrd over HTTP"
            initrd "(http,[=bootHttpServer])[=bootHttpPath][=initrd]"
        fi
    fi
    if [ "${netboot_http}" = "no" ]; then
        echo "netboot: kernel and initrd over TFTP"
        linux /[=kernel] [=cmdline]
        initrd /[=initrd]
    fi
<#else>
    linux /[=kernel] [=cmdline]
    initrd /[=initrd]
</#if>
}
<#else>
<#if !mac?has_content>
<#-- A loader that asked for grub.cfg without its MAC (Debian's signed grubnetx64 sources $prefix/grub.cfg and
     searches no per-MAC file): the per-MAC menu, from the MAC GRUB configured its NIC with. -->
if [ -n "${net_default_mac}" ]; then
    if regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 '^([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)$' "${net_default_mac}"; then
        configfile ${prefix}/grub.cfg-01-${m1}-${m2}-${m3}-${m4}-${m5}-${m6}
    fi
fi
</#if>
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
