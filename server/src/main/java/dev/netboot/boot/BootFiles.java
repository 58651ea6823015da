package dev.netboot.boot;

/**
 * The boot files by client kind, from the {@code boot} section of the config. A file left empty
 * means clients of that kind get no boot offer.
 *
 * @param bios          for BIOS PXE ROMs (TFTP), e.g. {@code undionly.kpxe}
 * @param uefiX64       for x64 UEFI PXE (TFTP), e.g. {@code ipxe.efi}
 * @param uefiArm64     for ARM64 UEFI PXE (TFTP)
 * @param httpBoot      for UEFI HTTP boot clients: a URL
 * @param ipxeScriptUrl for clients that already run iPXE: the script they fetch next, so iPXE never
 *                      loads itself again in a loop; {@code ${mac}} is replaced by the client's MAC
 * @param loader        which loader chain PXE clients get ({@code boot.loader}); with {@code IPXE} the files above
 */
public record BootFiles(String bios, String uefiX64, String uefiArm64, String httpBoot, String ipxeScriptUrl, LoaderChoice loader) {

    /** iPXE for everyone: the files above as they are. */
    public BootFiles(String bios, String uefiX64, String uefiArm64, String httpBoot, String ipxeScriptUrl) {
        this(bios, uefiX64, uefiArm64, httpBoot, ipxeScriptUrl, LoaderChoice.IPXE);
    }
}
