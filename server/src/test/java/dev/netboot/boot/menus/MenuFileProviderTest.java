package dev.netboot.boot.menus;

import dev.netboot.templates.Templates;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.boot.Booter;
import dev.netboot.boot.DefaultImageClones;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.inventory.Assignment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class MenuFileProviderTest {

    static final String MAC = "aa:bb:cc:dd:ee:ff";
    static final Map<String, Assignment> INVENTORY = Map.of(MAC, new Assignment(MAC, "debian12", "/srv/images/debian12", 3, 7));

    @TempDir Path dir;

    MenuFileProvider provider(Path menusDir) {
        return new MenuFileProvider(new Templates(menusDir, "/pxe-menus"), booter("console=ttyS0,115200")::bootFor,
                "console=ttyS0,115200", 5, AdminLink.NONE, WaitingClients.forRetry(java.time.Clock.systemUTC(), 5));
    }

    /** The boot decision over the map above as the inventory; the loader rules do not matter to menus. */
    static Booter booter(String kernelArgs) {
        return new Booter(m -> BootPlan.NONE, mac -> Optional.ofNullable(INVENTORY.get(mac)), DefaultImageClones.NONE, kernelArgs);
    }

    static Lookup open(MenuFileProvider p, String path) {
        return p.open(new FileRequest(path, new InetSocketAddress("127.0.0.1", 1000), "tftp"));
    }

    static String text(Lookup lookup) {
        assertThat(lookup).isInstanceOf(Lookup.Found.class);
        var file = ((Lookup.Found) lookup).file();
        ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
        try {
            file.read(0, buffer);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return new String(buffer.array(), StandardCharsets.UTF_8);
    }

    @Test
    void pxelinuxMenuCarriesTheClientsKernelInitrdAndAoeAddress() {
        String menu = text(open(provider(dir.resolve("none")), "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"));
        assertThat(menu).contains("KERNEL images/debian12/vmlinuz", "INITRD images/debian12/initrd.img",
                "APPEND netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=3.7 rw console=ttyS0,115200", "/dev/etherd/e3.7");
        assertThat(menu).doesNotContain("[=", "<#");
    }

    @Test
    void upperCaseAndLeadingSlashNameTheSameClient() {
        assertThat(text(open(provider(dir), "/pxelinux.cfg/01-AA-BB-CC-DD-EE-FF"))).contains("netboot.aoe=3.7");
    }

    @Test
    void unknownClientWaitsAndAsksAgain() {
        String pxe = text(open(provider(dir), "pxelinux.cfg/01-52-54-00-00-00-01"));
        assertThat(pxe).contains("this PC (52:54:00:00:00:01) has no image assigned yet", "TIMEOUT 50", "KERNEL pxelinux.0").doesNotContain("APPEND");
        String ipxe = text(open(provider(dir), "ipxe/52-54-00-00-00-01.ipxe"));
        assertThat(ipxe).startsWith("#!ipxe").contains("sleep 5", "chain --replace 52-54-00-00-00-01.ipxe");
        assertThat(text(open(provider(dir), "pxelinux.cfg/default"))).contains("this PC (its MAC was not sent) has no image assigned yet");
    }

    @Test
    void aGrubMenuForAnUnsignedKernelSaysWhyASecureBootPcRefusesIt() {
        java.util.function.Function<String, Optional<dev.netboot.boot.KernelSignature>> unsigned =
                image -> Optional.of(image.equals("debian12") ? dev.netboot.boot.KernelSignature.UNSIGNED : dev.netboot.boot.KernelSignature.SIGNED);
        MenuFileProvider p = new MenuFileProvider(new Templates(dir, "/pxe-menus"), booter("")::bootFor, "", 5, AdminLink.NONE,
                WaitingClients.forRetry(java.time.Clock.systemUTC(), 5), unsigned, mac -> {});
        String grub = text(open(p, "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"));
        assertThat(grub).contains("netboot: the kernel of image debian12 has no Secure Boot signature:\"", "netboot: with Secure Boot on, this PC refuses it; turn it off, or sign the kernel\"");
        assertThat(grub.indexOf("no Secure Boot signature")).isLessThan(grub.indexOf("linux /images/debian12/vmlinuz"));
        assertThat(text(open(provider(dir), "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"))).as("signature not known").doesNotContain("Secure Boot");
        MenuFileProvider signed = new MenuFileProvider(new Templates(dir, "/pxe-menus"), booter("")::bootFor, "", 5, AdminLink.NONE,
                WaitingClients.forRetry(java.time.Clock.systemUTC(), 5), image -> Optional.of(dev.netboot.boot.KernelSignature.SIGNED), mac -> {});
        assertThat(text(open(signed, "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"))).doesNotContain("Secure Boot");
    }

    @Test
    void grubWithoutItsMacInThePathLoadsThePerMacMenuFromItsNic() {
        String grub = text(open(provider(dir), "grub/grub.cfg"));
        assertThat(grub).contains("regexp --set=1:m1", "\"${net_default_mac}\"", "configfile ${prefix}/grub.cfg-01-${m1}-${m2}-${m3}-${m4}-${m5}-${m6}");
        assertThat(grub.indexOf("configfile ${prefix}/grub.cfg-01-")).isLessThan(grub.indexOf("has no image assigned yet"));
        assertThat(text(open(provider(dir), "grub/grub.cfg-01-52-54-00-00-00-01"))).as("a MAC's own menu does not look again").doesNotContain("regexp");
    }

    @Test
    void grubAndIpxeMenusKeepTheirOwnVariableSyntax() {
        String grub = text(open(provider(dir), "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"));
        assertThat(grub).contains("linux /images/debian12/vmlinuz netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=3.7", "initrd /images/debian12/initrd.img");
        assertThat(text(open(provider(dir), "grub/grub.cfg"))).contains("${net_default_mac}", "configfile ${prefix}/grub.cfg");
        String ipxe = text(open(provider(dir), "ipxe/aa-bb-cc-dd-ee-ff.ipxe"));
        assertThat(ipxe).contains("kernel ../images/debian12/vmlinuz initrd=initrd.img netboot.mac=aa:bb:cc:dd:ee:ff",
                "initrd --name initrd.img ../images/debian12/initrd.img", "boot");
        assertThat(text(open(provider(dir), "boot.ipxe"))).contains("chain --replace ipxe/${netX/mac:hexhyp}.ipxe");
    }

    @Test
    void ipxeScriptsNameNoSchemeNorServerSoTheyWorkOverTftpAndHttpAlike() {
        for (String path : List.of("boot.ipxe", "ipxe/aa-bb-cc-dd-ee-ff.ipxe", "ipxe/52-54-00-00-00-01.ipxe")) {
            String script = text(open(provider(dir), path));
            for (String line : script.lines().filter(l -> l.matches("(chain|kernel|initrd|imgfetch).*")).toList())
                assertThat(line.split(" ")[line.startsWith("chain") ? 2 : 1]).as(path + ": " + line)
                        .doesNotStartWith("/").doesNotContain("://").doesNotContain("/boot/");
        }
    }

    @Test
    void anUnassignedPcSaysWhatItWaitsForAndWhereToAssignIt() {
        WaitingClients waiting = new WaitingClients(java.time.Clock.systemUTC(), java.time.Duration.ofMinutes(1));
        MenuFileProvider p = new MenuFileProvider(new Templates(dir, "/pxe-menus"), booter("")::bootFor, "", 5,
                client -> "http://10.9.8.7:8080/admin/", waiting);
        for (String path : List.of("ipxe/52-54-00-00-00-01.ipxe", "pxelinux.cfg/01-52-54-00-00-00-01", "grub/grub.cfg-01-52-54-00-00-00-01"))
            assertThat(text(open(p, path))).as(path).contains("this PC (52:54:00:00:00:01) has no image assigned yet",
                    "assign one", "web admin: http://10.9.8.7:8080/admin/");
        assertThat(waiting.now()).containsOnlyKeys("52:54:00:00:00:01");
        // Assigned PCs are not waiting; a PC that got an image is not waiting any more.
        text(open(p, "ipxe/aa-bb-cc-dd-ee-ff.ipxe"));
        assertThat(waiting.now()).containsOnlyKeys("52:54:00:00:00:01");
        // Without a web admin the console names the CLI.
        assertThat(text(open(provider(dir), "ipxe/52-54-00-00-00-01.ipxe"))).contains("netboot clone IMAGE --to 52:54:00:00:00:01");
    }

    @Test
    void aPcThatStopsAskingStopsWaiting() {
        java.util.concurrent.atomic.AtomicReference<java.time.Instant> now = new java.util.concurrent.atomic.AtomicReference<>(java.time.Instant.parse("2026-12-01T10:00:00Z"));
        java.time.Clock clock = new java.time.Clock() {
            @Override public java.time.ZoneId getZone() { return java.time.ZoneOffset.UTC; }
            @Override public java.time.Clock withZone(java.time.ZoneId zone) { return this; }
            @Override public java.time.Instant instant() { return now.get(); }
        };
        WaitingClients waiting = WaitingClients.forRetry(clock, 10);
        waiting.waiting("52:54:00:00:00:01");
        now.set(now.get().plusSeconds(29));
        assertThat(waiting.isWaiting("52:54:00:00:00:01")).isTrue();
        now.set(now.get().plusSeconds(2));
        assertThat(waiting.isWaiting("52:54:00:00:00:01")).isFalse();
        waiting.waiting("52:54:00:00:00:02");
        waiting.booting("52:54:00:00:00:02");
        assertThat(waiting.now()).isEmpty();
    }

    @Test
    void otherPathsFallThrough() {
        assertThat(open(provider(dir), "pxelinux.0")).isInstanceOf(Lookup.NotFound.class);
        assertThat(open(provider(dir), "pxelinux.cfg/01-aa-bb-cc")).isInstanceOf(Lookup.NotFound.class);
        assertThat(open(provider(dir), "../pxelinux.cfg/default")).isInstanceOf(Lookup.NotFound.class);
    }

    @Test
    void operatorTemplateWinsOverThePackagedOne() throws Exception {
        Files.writeString(dir.resolve("pxelinux.ftl"), "# site menu for [=mac]\nKERNEL [=kernel]\n");
        MenuFileProvider p = provider(dir);
        assertThat(text(open(p, "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"))).isEqualTo("# site menu for aa:bb:cc:dd:ee:ff\nKERNEL images/debian12/vmlinuz\n");
        // The templates it does not override still come from the jar.
        assertThat(text(open(p, "ipxe/aa-bb-cc-dd-ee-ff.ipxe"))).startsWith("#!ipxe");
    }

    @Test
    void brokenTemplateGivesNotFoundWithTheReasonNeverHalfAMenu() throws Exception {
        Files.writeString(dir.resolve("pxelinux.ftl"), "DEFAULT netboot\nAPPEND [=noSuchValue]\n");
        Files.writeString(dir.resolve("ipxe.ftl"), "#!ipxe\n<#if assigned>\nboot\n");
        MenuFileProvider p = provider(dir);
        Lookup missingValue = open(p, "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff");
        assertThat(missingValue).isInstanceOf(Lookup.NotFound.class);
        assertThat(((Lookup.NotFound) missingValue).reason()).contains("pxelinux.ftl", dir.toString(), "noSuchValue");
        Lookup syntax = open(p, "ipxe/aa-bb-cc-dd-ee-ff.ipxe");
        assertThat(((Lookup.NotFound) syntax).reason()).contains("ipxe.ftl", "line");
    }

    @Test
    void inventoryFailureIsNotFoundNotTheWaitMenu() {
        MenuFileProvider p = new MenuFileProvider(new Templates(dir, "/pxe-menus"), mac -> { throw new IllegalStateException("db down"); }, "", 5,
                AdminLink.NONE, WaitingClients.forRetry(java.time.Clock.systemUTC(), 5));
        assertThat(open(p, "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff")).isInstanceOf(Lookup.NotFound.class);
    }

    /** The menus as served with HTTP on: GRUB and PXELINUX name the kernel and initrd on this server's HTTP boot files. */
    MenuFileProvider httpProvider() {
        return new MenuFileProvider(new Templates(dir.resolve("none"), "/pxe-menus"), booter("console=ttyS0")::bootFor, "console=ttyS0", 5,
                AdminLink.NONE, WaitingClients.forRetry(java.time.Clock.systemUTC(), 5), image -> Optional.empty(), mac -> {},
                (kind, client) -> kind == MenuKind.IPXE ? "" : "http://10.0.0.1:8080/boot/");
    }

    @Test
    void withHttpOnPxelinuxLoadsKernelAndInitrdByUrl() {
        String menu = text(open(httpProvider(), "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"));
        assertThat(menu).contains("KERNEL http://10.0.0.1:8080/boot/images/debian12/vmlinuz", "INITRD http://10.0.0.1:8080/boot/images/debian12/initrd.img",
                "APPEND netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=3.7 rw console=ttyS0");
        assertThat(text(open(httpProvider(), "pxelinux.cfg/01-52-54-00-00-00-01"))).as("a waiting PC runs lpxelinux.0 again").contains("KERNEL lpxelinux.0");
    }

    @Test
    void withHttpOnGrubLoadsOverHttpWhenItHasTheModuleElseByTftpPath() {
        String menu = text(open(httpProvider(), "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"));
        assertThat(menu).contains("if [ \"${grub_platform}\" = \"pc\" ]; then", "insmod http", "if linux \"(http,10.0.0.1:8080)/boot/images/debian12/vmlinuz\" netboot.mac=aa:bb:cc:dd:ee:ff",
                "initrd \"(http,10.0.0.1:8080)/boot/images/debian12/initrd.img\"", "if [ \"${netboot_http}\" = \"no\" ]; then",
                "linux /images/debian12/vmlinuz netboot.mac=aa:bb:cc:dd:ee:ff", "initrd /images/debian12/initrd.img");
        String off = text(open(provider(dir.resolve("none")), "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"));
        assertThat(off).as("HTTP off: TFTP paths as before").contains("linux /images/debian12/vmlinuz", "initrd /images/debian12/initrd.img")
                .doesNotContain("http");
    }
}
