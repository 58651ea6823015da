package dev.netboot.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * What a qemu PC starts and how it boots from its (virtio) NIC.
 * <ul>
 * <li>{@link Kind#BIOS_IPXE}: SeaBIOS and the NIC's iPXE ROM (qemu's default ROM for the NIC);</li>
 * <li>{@link Kind#UEFI_IPXE}: OVMF and the same combined ROM's iPXE EFI driver;</li>
 * <li>{@link Kind#UEFI_PXE}: OVMF's own PXE client (EDK2's network stack) and no ROM on the NIC;</li>
 * <li>{@link Kind#UEFI_HTTP}: OVMF's own HTTP boot, no ROM, PXE switched off so HTTP is tried first.</li>
 * <li>{@link Kind#UEFI_SECURE_PXE}: OVMF's Secure Boot build (Microsoft's keys enrolled) and its own PXE,
 *     no ROM: only signed loaders run. It needs q35 with SMM and the flash marked secure, else it stops
 *     before the boot manager.</li>
 * </ul>
 * For UEFI, {@code code} and {@code vars} are OVMF's firmware and the variable store it starts from
 * (Debian's {@code ovmf}: OVMF_CODE_4M.fd, OVMF_VARS_4M.fd); every PC gets its own copy of the store.
 */
public record Firmware(Kind kind, Path code, Path vars) {

    public enum Kind { BIOS_IPXE, UEFI_IPXE, UEFI_PXE, UEFI_HTTP, UEFI_SECURE_PXE }

    public static final Firmware BIOS_IPXE = new Firmware(Kind.BIOS_IPXE, null, null);

    public static Firmware uefi(Kind kind, Path code, Path vars) {
        if (kind == Kind.BIOS_IPXE) throw new IllegalArgumentException("BIOS needs no OVMF");
        return new Firmware(kind, code, vars);
    }

    /** Debian's Secure Boot pair from {@code ovmfDir} (usr/share/OVMF of package ovmf): secboot code, Microsoft's keys. */
    public static Firmware secureBoot(Path ovmfDir) {
        return new Firmware(Kind.UEFI_SECURE_PXE, ovmfDir.resolve("OVMF_CODE_4M.secboot.fd"), ovmfDir.resolve("OVMF_VARS_4M.ms.fd"));
    }

    public boolean isUefi() { return kind != Kind.BIOS_IPXE; }

    /** qemu's arguments for the firmware and the NIC (on netdev n0); a UEFI PC's variable store is copied to {@code varsCopy}. */
    List<String> qemuArgs(String mac, Path varsCopy) throws IOException {
        String nic = "virtio-net-pci,netdev=n0,mac=" + mac;
        if (kind == Kind.BIOS_IPXE) return List.of("-machine", "accel=tcg", "-boot", "n", "-device", nic);
        Files.copy(vars, varsCopy, StandardCopyOption.REPLACE_EXISTING);
        List<String> args = new ArrayList<>();
        if (kind == Kind.UEFI_SECURE_PXE) {
            args.addAll(List.of("-machine", "q35,smm=on,accel=tcg",
                    "-global", "driver=cfi.pflash01,property=secure,value=on", "-global", "ICH9-LPC.disable_s3=1"));
        } else {
            args.addAll(List.of("-machine", "accel=tcg"));
        }
        args.addAll(List.of(
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
                "-drive", "if=pflash,format=raw,unit=1,file=" + varsCopy));
        // bootindex: OVMF puts this NIC's boot options first (it follows qemu's boot order; -boot n is SeaBIOS's).
        // Without a ROM (romfile= empty) the NIC is driven by OVMF's own virtio driver and network stack.
        args.addAll(List.of("-device", nic + ",bootindex=1" + (kind == Kind.UEFI_IPXE ? "" : ",romfile=")));
        // OVMF tries PXEv4, PXEv6, HTTPv4, HTTPv6 in that order, each with its own timeouts; these fw_cfg
        // switches (OvmfPkg's PlatformPei reads them) leave only what the PC is meant to use.
        if (kind != Kind.UEFI_IPXE) {
            args.addAll(List.of("-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"));
            if (kind == Kind.UEFI_HTTP) args.addAll(List.of("-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n"));
        }
        return args;
    }
}
