package dev.netboot.boot.installer;

import dev.netboot.boot.Booter;
import dev.netboot.boot.ClientBoot;
import dev.netboot.boot.DefaultImageClones;
import dev.netboot.boot.menus.AdminLink;
import dev.netboot.boot.menus.MenuFileProvider;
import dev.netboot.boot.menus.WaitingClients;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.files.ServedFile;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.templates.Templates;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Installer mode over a real H2 inventory, real files and the packaged templates: a definition whose
 * files are missing is refused with what to do, arming needs a disk, the Booter hands the installer out
 * once, the installer's initrd is the stock one with our cpio after it, and the next boot after its fetch
 * boots the disk.
 */
class InstallerModeTest {

    static final String MAC = "52:54:00:00:00:0a";
    static final String OTHER = "52:54:00:00:00:0b";
    static final String VERSION = "6.1.0-99-amd64";
    static final InetSocketAddress PC = new InetSocketAddress("192.0.2.10", 2000);

    @TempDir Path dir;
    Inventory inventory;
    InstallerCatalog catalog;
    Booter booter;
    final byte[] stockInitrd = "stock initrd bytes".getBytes(StandardCharsets.US_ASCII);

    @BeforeEach
    void setUp() {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
        catalog = new InstallerCatalog(dir.resolve("defs"), dir.resolve("files"));
        booter = new Booter(m -> BootPlan.NONE, mac -> inventory.assignment(mac), DefaultImageClones.NONE, "console=ttyS0",
                new InstallerModes(inventory, catalog, Clock.systemUTC()));
    }

    @AfterEach
    void tearDown() { inventory.close(); }

    /** A bzImage header good enough for the boot protocol fields the version is read from. */
    static byte[] kernel(String version) {
        byte[] k = new byte[4096];
        ByteBuffer b = ByteBuffer.wrap(k).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x202, 0x53726448);
        b.putShort(0x20E, (short) 0x300);
        byte[] v = (version + " (debian-kernel@lists.debian.org) #1 SMP").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, k, 0x500, v.length);
        return k;
    }

    /** A module file with only what the add-on reads of it: its .modinfo depends= entry. */
    static byte[] module(String depends) {
        return ("\u007fELF fake\0license=GPL\0depends=" + depends + "\0vermagic=" + VERSION + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    /** The packaged debian definition's files, as 'installers fetch debian' lays them out. */
    void fetched() throws Exception {
        Path home = Files.createDirectories(dir.resolve("files/debian"));
        Files.write(home.resolve("linux"), kernel(VERSION));
        Files.write(home.resolve("initrd.gz"), stockInitrd);
        Path mods = Files.createDirectories(home.resolve("modules/lib/modules/" + VERSION + "/kernel/drivers/block/aoe"));
        Files.write(mods.resolve("aoe.ko"), module("fake_dep"));
        Path lib = Files.createDirectories(home.resolve("modules/lib/modules/" + VERSION + "/kernel/lib"));
        Files.write(lib.resolve("fake-dep.ko"), module(""));
    }

    void clientWithDisk(String mac) {
        inventory.addClient(mac, "", "");
        long image = inventory.addImage(new Image(0, "base", dir.toString(), dir.resolve("disk.img").toString(), "6.1", 1 << 20, "", "", Instant.now())).id();
        long disk = inventory.addDisk("client-" + mac.replace(":", ""), image, dir.resolve("d").toString(), 1 << 20, "clone", Instant.now()).id();
        inventory.assign(mac, image, disk, 1, 0);
    }

    @Test
    void packagedDebianDefinitionSaysWhereItsFilesComeFrom() throws Exception {
        Installer debian = catalog.find("debian").orElseThrow();
        assertThat(debian.kernel()).isEqualTo(dir.resolve("files/debian/linux"));
        assertThat(debian.fetch().orElseThrow().installerPackage()).isEqualTo("debian-installer-12-netboot-amd64");
        assertThat(debian.fetch().orElseThrow().modulesPackage()).isEqualTo("linux-image-{version}");
        assertThat(catalog.names()).contains("debian");
    }

    @Test
    void aDefinitionWithAMissingKernelIsRefusedWithWhatToDo() throws Exception {
        assertThatThrownBy(() -> catalog.ready("debian")).isInstanceOf(InstallerException.class)
                .hasMessageContaining("its kernel " + dir.resolve("files/debian/linux") + " is missing")
                .hasMessageContaining("netboot installers fetch debian");
        fetched();
        Files.delete(dir.resolve("files/debian/modules/lib/modules/" + VERSION + "/kernel/drivers/block/aoe/aoe.ko"));
        assertThat(catalog.ready("debian").name()).isEqualTo("debian"); // modules folder there; the module itself is checked when built
        Files.writeString(Files.createDirectories(dir.resolve("defs")).resolve("mine.properties"), "kernel=/nowhere/linux\n");
        assertThatThrownBy(() -> catalog.ready("mine")).hasMessageContaining("its kernel /nowhere/linux is missing")
                .hasMessageContaining("see " + dir.resolve("defs/mine.properties"));
        Files.writeString(dir.resolve("defs/typo.properties"), "kernal=linux\n");
        assertThatThrownBy(() -> catalog.find("typo")).hasMessageContaining("unknown key 'kernal'");
        assertThatThrownBy(() -> catalog.ready("nosuch")).hasMessageContaining("no installer 'nosuch'");
    }

    @Test
    void armingRefusesAMissingKernelOrAClientWithoutDiskAndChangesNothing() throws Exception {
        clientWithDisk(MAC);
        assertThatThrownBy(() -> InstallerModes.arm(inventory, catalog, MAC, "debian")).hasMessageContaining("is missing");
        assertThat(inventory.installMode(MAC)).isEmpty();
        fetched();
        inventory.addClient(OTHER, "", "");
        assertThatThrownBy(() -> InstallerModes.arm(inventory, catalog, OTHER, "debian")).hasMessageContaining("has no disk to install onto");
        assertThat(inventory.installMode(OTHER)).isEmpty();
        assertThat(booter.bootFor(MAC).boots().orElseThrow().installing()).isFalse();
    }

    /**
     * The packaged preseed points the installer at this server's local udeb mirror by itself: the server
     * fills in the HTTP address the initrd request came in on; without a mirror, or when the address is
     * not known (TFTP), the preseed says nothing about a mirror.
     */
    @Test
    void thePreseedNamesThisServersLocalMirrorAtTheAddressTheClientReached() throws Exception {
        fetched();
        clientWithDisk(MAC);
        InstallerModes.arm(inventory, catalog, MAC, "debian");
        InstallerFileProvider files = new InstallerFileProvider(catalog, booter::bootFor, booter::installerFetched);
        java.net.InetSocketAddress server = new java.net.InetSocketAddress("192.0.2.1", 8080);
        String path = "installers/debian/52540000000a/preseed.cfg";

        assertThat(text(files.open(new FileRequest(path, PC, "http", server)))).as("no mirror fetched yet").doesNotContain("mirror/http");
        Files.createDirectories(dir.resolve("files/debian/mirror/dists/bookworm"));
        assertThat(text(files.open(new FileRequest(path, PC, "http", server))))
                .contains("d-i mirror/protocol string http\n")
                .contains("d-i mirror/http/hostname string 192.0.2.1:8080\n")
                .contains("d-i mirror/http/directory string /boot/installers/debian/mirror\n")
                .contains("d-i debian-installer/allow_unauthenticated boolean true\n");
        assertThat(text(files.open(new FileRequest(path, PC, "tftp", null)))).as("TFTP: the HTTP address is unknown").doesNotContain("mirror/http");
        assertThat(text(files.open(new FileRequest(path, PC, "http", new java.net.InetSocketAddress("0.0.0.0", 8080))))).doesNotContain("mirror/http");
    }

    @Test
    void theInstallerBootsOnceAndTheNextBootAfterItsInitrdWasFetchedBootsTheDisk() throws Exception {
        fetched();
        clientWithDisk(MAC);
        InstallerModes.arm(inventory, catalog, MAC, "debian");
        MenuFileProvider menus = new MenuFileProvider(new Templates(dir.resolve("menus"), "/pxe-menus"), booter::bootFor, "console=ttyS0", 5,
                AdminLink.NONE, WaitingClients.forRetry(Clock.systemUTC(), 5), image -> java.util.Optional.empty(), booter::loaderAsked);
        InstallerFileProvider files = new InstallerFileProvider(catalog, booter::bootFor, booter::installerFetched);

        String menu = text(menus.open(new FileRequest("ipxe/52-54-00-00-00-0a.ipxe", PC, "tftp")));
        assertThat(menu).contains("kernel ../installers/debian/52540000000a/linux initrd=initrd.img netboot.mac=" + MAC + " netboot.aoe=1.0\n")
                .contains("initrd --name initrd.img ../installers/debian/52540000000a/initrd.gz").doesNotContain("console=ttyS0");
        // A reset before the installer fetched its initrd: the installer again.
        assertThat(text(menus.open(new FileRequest("ipxe/52-54-00-00-00-0a.ipxe", PC, "tftp")))).contains("installers/debian");
        // Another client's installer files are not served.
        assertThat(files.open(new FileRequest("installers/debian/52540000000b/linux", PC, "tftp"))).isInstanceOf(Lookup.NotFound.class);

        assertThat(bytes(files.open(new FileRequest("installers/debian/52540000000a/linux", PC, "tftp")))).isEqualTo(kernel(VERSION));
        byte[] initrd = bytes(files.open(new FileRequest("installers/debian/52540000000a/initrd.gz", PC, "http")));
        assertThat(Arrays.copyOf(initrd, stockInitrd.length)).isEqualTo(stockInitrd);
        Map<String, byte[]> addon = cpio(Arrays.copyOfRange(initrd, stockInitrd.length, initrd.length));
        String mods = "lib/modules/" + VERSION + "/kernel/";
        assertThat(new String(addon.get("etc/netboot/aoe.modules"), StandardCharsets.US_ASCII))
                .isEqualTo("/" + mods + "lib/fake-dep.ko\n/" + mods + "drivers/block/aoe/aoe.ko\n");
        assertThat(addon.get(mods + "drivers/block/aoe/aoe.ko")).isEqualTo(module("fake_dep"));
        assertThat(new String(addon.get("lib/debian-installer-startup.d/S45netboot-aoe"), StandardCharsets.US_ASCII)).contains("/dev/etherd/discover");
        assertThat(new String(addon.get("lib/udev/rules.d/60-netboot-aoe.rules"), StandardCharsets.US_ASCII)).contains("ENV{ID_TYPE}=\"disk\"");
        assertThat(new String(addon.get("preseed.cfg"), StandardCharsets.US_ASCII)).contains("d-i partman-auto/disk string /dev/etherd/e1.0");
        assertThat(inventory.installMode(MAC).orElseThrow().started()).isPresent();

        // The installer reboots: from now on the PC boots its disk.
        String after = text(menus.open(new FileRequest("ipxe/52-54-00-00-00-0a.ipxe", PC, "tftp")));
        assertThat(after).contains("kernel ../images/base/vmlinuz").contains("console=ttyS0").doesNotContain("installers/");
        assertThat(inventory.installMode(MAC)).isEmpty();
        assertThat(files.open(new FileRequest("installers/debian/52540000000a/initrd.gz", PC, "http"))).isInstanceOf(Lookup.NotFound.class);
    }

    @Test
    void onlyABlankImageMeansBootWhatIsInstalledNotAnImageWhoseKernelVersionIsUnknown() {
        // An imported image whose kernel version could not be read (or a row made by hand) boots its own kernel;
        // CI caught the first version, which took every such image for an installed disk.
        InstallerModes modes = new InstallerModes(inventory, catalog, Clock.systemUTC());
        inventory.addImage(new Image(0, "unknown-kernel", dir.toString(), dir.resolve("u.img").toString(), null, 1 << 20, "", "folder", Instant.now()));
        inventory.addImage(new Image(0, "blank-1m", dir.toString(), dir.resolve("b.img").toString(), null, 1 << 20, "",
                dev.netboot.images.ImageLibrary.BLANK_SOURCE, Instant.now()));
        assertThat(modes.bootImage(MAC, new dev.netboot.inventory.Assignment(MAC, "unknown-kernel", "", 1, 0))).isEqualTo("unknown-kernel");
        assertThat(modes.bootImage(MAC, new dev.netboot.inventory.Assignment(MAC, "blank-1m", "", 1, 0)))
                .isEqualTo("installed-" + MAC.replace(":", ""));
    }

    @Test
    void aPreviewOfTheMenuEndsNothing() throws Exception {
        fetched();
        clientWithDisk(MAC);
        InstallerModes.arm(inventory, catalog, MAC, "debian");
        inventory.installStarted(MAC, Instant.now());
        MenuFileProvider menus = new MenuFileProvider(new Templates(dir.resolve("menus"), "/pxe-menus"), booter::bootFor, "", 5,
                AdminLink.NONE, WaitingClients.forRetry(Clock.systemUTC(), 5), image -> java.util.Optional.empty(), booter::loaderAsked);
        // netboot menu MAC renders without a client address: that is no boot.
        assertThat(text(menus.render(dev.netboot.boot.menus.MenuRequest.parse("ipxe/52-54-00-00-00-0a.ipxe").orElseThrow(), "x"))).contains("installers/debian");
        assertThat(inventory.installMode(MAC)).isPresent();
    }

    @Test
    void anInstallerWhoseFilesVanishedMakesThePcWaitSayingWhy() throws Exception {
        fetched();
        clientWithDisk(MAC);
        InstallerModes.arm(inventory, catalog, MAC, "debian");
        Files.delete(dir.resolve("files/debian/initrd.gz"));
        ClientBoot boot = booter.bootFor(MAC);
        assertThat(boot.isWaiting()).isTrue();
        assertThat(boot.waitingFor()).contains("its initrd").contains("is missing");
    }

    @Test
    void kernelVersionComesFromTheBootProtocolHeader() throws Exception {
        assertThat(KernelVersion.of(kernel("6.1.0-50-amd64"), "k")).isEqualTo("6.1.0-50-amd64");
        assertThatThrownBy(() -> KernelVersion.of(new byte[4096], "k")).hasMessageContaining("not a Linux x86 kernel image");
    }

    static String text(Lookup l) throws Exception {
        return new String(bytes(l), StandardCharsets.UTF_8);
    }

    static byte[] bytes(Lookup l) throws Exception {
        assertThat(l).isInstanceOf(Lookup.Found.class);
        try (ServedFile f = ((Lookup.Found) l).file()) {
            ByteBuffer b = ByteBuffer.allocate((int) f.size());
            int n = 0;
            while (b.hasRemaining()) {
                int r = f.read(n, b);
                if (r <= 0) break;
                n += r;
            }
            return b.array();
        }
    }

    static Map<String, byte[]> cpio(byte[] gz) throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        try (CpioArchiveInputStream in = new CpioArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(gz)))) {
            CpioArchiveEntry e;
            while ((e = in.getNextCPIOEntry()) != null) {
                if (e.isRegularFile()) out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }
}
