#!ipxe
<#-- What every iPXE fetches first (boot.ipxeScriptUrl): hands over to the script of its own MAC.
     The path is relative, so iPXE resolves it against this script's own URI: tftp://server/boot.ipxe
     chains to tftp://server/ipxe/<mac>.ipxe, http://server:8080/boot/boot.ipxe to .../boot/ipxe/<mac>.ipxe. -->
chain --replace ipxe/${netX/mac:hexhyp}.ipxe
