package dev.netboot.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code netboot loaders list|install} over a tree laid out as Debian's packages leave it. */
class LoadersCommandTest {

    @TempDir Path dir;

    CliRun netboot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--set", "dataDir=" + dir.resolve("data"), "--set", "boot.loadersRoot=" + dir.resolve("root")));
        return CliRun.netboot(all);
    }

    @Test
    void listSaysWhatIsFoundWhatIsMissingAndWhichPackageBringsIt() throws Exception {
        Path ipxe = Files.createDirectories(dir.resolve("root/usr/lib/ipxe"));
        Files.writeString(ipxe.resolve("undionly.kpxe"), "x");
        CliRun list = netboot("loaders", "list");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).containsPattern("undionly\\.kpxe\\s+ipxe\\s+" + ipxe.resolve("undionly.kpxe"))
                .containsPattern("shimx64\\.efi\\s+shim-signed\\s+MISSING")
                .contains("BIOS iPXE: ready (undionly.kpxe)", "UEFI Secure Boot: missing shimx64.efi, grubx64.efi (apt-get install shim-signed grub-efi-amd64-signed)");
    }

    @Test
    void installPrintsTheAptGetCommandForTheMissingPackagesOfTheKindsAsked() {
        CliRun print = netboot("loaders", "install", "--print", "--kind", "UEFI_SECURE_BOOT,BIOS_PXELINUX");
        assertThat(print.exit()).as(print.err()).isZero();
        assertThat(print.out().strip()).isEqualTo("apt-get install -y --no-install-recommends shim-signed grub-efi-amd64-signed pxelinux syslinux-common");
        CliRun notHere = netboot("loaders", "install");
        assertThat(notHere.exit()).as("a root other than / is never installed into").isEqualTo(1);
        assertThat(notHere.err()).contains("not installing");
    }
}
