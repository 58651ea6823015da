#!ipxe
<#-- What every iPXE fetches first (boot.ipxeScriptUrl): hands over to the script of its own MAC. -->
chain --replace [=httpPrefix]ipxe/${netX/mac:hexhyp}.ipxe
