package dev.netboot.boot;

import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.ClientArch;
import dev.netboot.dhcp.Machine;
import dev.netboot.loaders.Loader;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuleBootPolicyTest {

    static final String SCRIPT = "http://10.0.0.1:8080/boot/boot.ipxe";
    /** Every loader, as with HTTP off: lpxelinux.0 is offered only with HTTP on ({@code app.Services#pxelinuxOverHttp}). */
    static final Set<Loader> ALL = EnumSet.complementOf(EnumSet.of(Loader.LPXELINUX));

    static Machine pxe(String mac, ClientArch arch, int code) {
        return new Machine(mac, arch, code, List.of(), null, "PXEClient:Arch:0000" + code + ":UNDI:003016", "");
    }

    static Machine ipxe(String mac, ClientArch arch, int code) {
        return new Machine(mac, arch, code, List.of("iPXE"), null, "PXEClient:Arch:0000" + code + ":UNDI:003010", "");
    }

    static RuleBootPolicy policy(LoaderChoice choice, Set<Loader> available, Map<String, String> overrides, List<BootRule> rules) {
        return new RuleBootPolicy(new BootFiles("undionly.kpxe", "ipxe.efi", "ipxe-arm64.efi", "http://10.0.0.1:8080/boot/ipxe.efi", SCRIPT, choice),
                "", mac -> Optional.ofNullable(overrides.get(mac)), mac -> false, rules, available::contains);
    }

    static String file(RuleBootPolicy p, Machine m) {
        return p.planFor(m).bootFile();
    }

    @Test
    void theDefaultGivesASecureBootPcShimWhenShimAndSignedGrubAreThere() {
        RuleBootPolicy auto = policy(LoaderChoice.AUTO, ALL, Map.of(), List.of());
        assertThat(file(auto, pxe("52:54:00:00:00:01", ClientArch.UEFI_X64, 7))).isEqualTo("shimx64.efi");
        assertThat(file(auto, pxe("52:54:00:00:00:01", ClientArch.BIOS, 0))).isEqualTo("undionly.kpxe");
        assertThat(file(auto, ipxe("52:54:00:00:00:01", ClientArch.BIOS, 0))).isEqualTo(SCRIPT);
        assertThat(file(auto, ipxe("52:54:00:00:00:01", ClientArch.UEFI_X64, 7))).as("iPXE already runs: no shim").isEqualTo(SCRIPT);
    }

    @Test
    void withoutShimOrSignedGrubTheDefaultStaysIpxe() {
        Set<Loader> noGrub = EnumSet.complementOf(EnumSet.of(Loader.GRUB_EFI));
        Set<Loader> noShim = EnumSet.complementOf(EnumSet.of(Loader.SHIM));
        assertThat(file(policy(LoaderChoice.AUTO, noGrub, Map.of(), List.of()), pxe("52:54:00:00:00:01", ClientArch.UEFI_X64, 7))).isEqualTo("ipxe.efi");
        assertThat(file(policy(LoaderChoice.AUTO, noShim, Map.of(), List.of()), pxe("52:54:00:00:00:01", ClientArch.UEFI_X64, 7))).isEqualTo("ipxe.efi");
    }

    @Test
    void eachLoaderSettingByArchitecture() {
        Machine bios = ipxe("52:54:00:00:00:02", ClientArch.BIOS, 0), uefi = pxe("52:54:00:00:00:02", ClientArch.UEFI_X64, 7);
        assertThat(file(policy(LoaderChoice.PXELINUX, ALL, Map.of(), List.of()), bios)).as("iPXE ROM runs pxelinux.0 too").isEqualTo("pxelinux.0");
        assertThat(file(policy(LoaderChoice.GRUB, ALL, Map.of(), List.of()), bios)).isEqualTo("grub/i386-pc/core.0");
        assertThat(file(policy(LoaderChoice.GRUB, ALL, Map.of(), List.of()), uefi)).isEqualTo("grubx64.efi");
        assertThat(file(policy(LoaderChoice.SHIM_GRUB, ALL, Map.of(), List.of()), uefi)).isEqualTo("shimx64.efi");
        assertThat(file(policy(LoaderChoice.SHIM_GRUB, ALL, Map.of(), List.of()), bios)).as("BIOS has no shim: GRUB").isEqualTo("grub/i386-pc/core.0");
        assertThat(file(policy(LoaderChoice.IPXE, ALL, Map.of(), List.of()), uefi)).isEqualTo("ipxe.efi");
        assertThat(file(policy(LoaderChoice.IPXE, ALL, Map.of(), List.of()), bios)).isEqualTo(SCRIPT);
    }

    @Test
    void withLpxelinuxOfferedPxelinuxClientsGetItSoTheirKernelComesOverHttp() {
        Machine bios = ipxe("52:54:00:00:00:02", ClientArch.BIOS, 0);
        assertThat(file(policy(LoaderChoice.PXELINUX, EnumSet.allOf(Loader.class), Map.of(), List.of()), bios)).isEqualTo("lpxelinux.0");
        assertThat(file(policy(LoaderChoice.AUTO, EnumSet.allOf(Loader.class), Map.of("52:54:00:00:00:02", "loader:pxelinux"), List.of()), bios))
                .isEqualTo("lpxelinux.0");
        assertThat(file(policy(LoaderChoice.GRUB, EnumSet.allOf(Loader.class), Map.of(), List.of()), bios)).isEqualTo("grub/i386-pc/core.0");
    }

    @Test
    void aClientsLoaderOverrideWinsOverRulesAndTheSetting() {
        String mac = "52:54:00:00:00:03";
        RuleBootPolicy p = policy(LoaderChoice.AUTO, ALL, Map.of(mac, "loader:pxelinux"),
                List.of(BootRule.of("bios", "", "", "grub", "")));
        assertThat(file(p, ipxe(mac, ClientArch.BIOS, 0))).isEqualTo("pxelinux.0");
        assertThat(file(p, ipxe("52:54:00:00:00:04", ClientArch.BIOS, 0))).as("the rule").isEqualTo("grub/i386-pc/core.0");
        RuleBootPolicy bad = policy(LoaderChoice.AUTO, ALL, Map.of(mac, "loader:lilo"), List.of());
        assertThat(file(bad, pxe(mac, ClientArch.BIOS, 0))).as("a bad word falls back to the rules").isEqualTo("undionly.kpxe");
    }

    @Test
    void rulesByUserClassAndVendorClassFirstMatchWins() {
        RuleBootPolicy p = policy(LoaderChoice.AUTO, ALL, Map.of(), List.of(
                BootRule.of("", "iPXE", "", "", "custom.ipxe"),
                BootRule.of("uefi-x64", "", "PXEClient:Arch:00007", "grub", ""),
                BootRule.of("uefi-x64", "", "", "ipxe", "")));
        assertThat(file(p, ipxe("52:54:00:00:00:05", ClientArch.UEFI_X64, 7))).isEqualTo("custom.ipxe");
        assertThat(file(p, pxe("52:54:00:00:00:05", ClientArch.UEFI_X64, 7))).isEqualTo("grubx64.efi");
        Machine arch9 = new Machine("52:54:00:00:00:05", ClientArch.UEFI_X64, 9, List.of(), null, "PXEClient:Arch:00009:UNDI:003016", "");
        assertThat(file(p, arch9)).isEqualTo("ipxe.efi");
        assertThat(file(p, pxe("52:54:00:00:00:05", ClientArch.BIOS, 0))).as("no rule: the setting").isEqualTo("undionly.kpxe");
    }

    @Test
    void badWordsAreClearErrors() {
        assertThatThrownBy(() -> LoaderChoice.parse("lilo")).hasMessageContaining("auto, ipxe, grub, pxelinux, shim-grub");
        assertThatThrownBy(() -> BootRule.of("sparc", "", "", "grub", "")).hasMessageContaining("unknown arch 'sparc'");
        assertThatThrownBy(() -> BootRule.of("bios", "", "", "grub", "x.0")).hasMessageContaining("either a loader or a file");
        assertThat(LoaderChoice.parse("shim-grub")).isEqualTo(LoaderChoice.SHIM_GRUB);
    }

    @Test
    void disabledClientsGetNothing() {
        RuleBootPolicy p = new RuleBootPolicy(new BootFiles("u", "i", "a", "h", SCRIPT, LoaderChoice.AUTO), "", mac -> Optional.of("loader:grub"),
                mac -> true, List.of(), l -> true);
        assertThat(p.planFor(pxe("52:54:00:00:00:06", ClientArch.BIOS, 0))).isEqualTo(BootPlan.NONE);
    }
}
