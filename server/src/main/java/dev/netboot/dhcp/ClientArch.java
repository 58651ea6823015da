package dev.netboot.dhcp;

/**
 * What a booting client runs, from DHCP option 93 (RFC 4578 and IANA's "Processor Architecture
 * Types" registry). Several codes mean the same thing to us: 7 and 9 are both x64 UEFI.
 */
public enum ClientArch {
    BIOS, UEFI_X86, UEFI_X64, UEFI_ARM32, UEFI_ARM64, HTTP_X64, HTTP_ARM64, UNKNOWN;

    public static ClientArch of(int code) {
        return switch (code) {
            case 0 -> BIOS;
            case 6 -> UEFI_X86;
            case 7, 9 -> UEFI_X64;
            case 10 -> UEFI_ARM32;
            case 11 -> UEFI_ARM64;
            case 16 -> HTTP_X64;
            case 19 -> HTTP_ARM64;
            default -> UNKNOWN;
        };
    }
}
