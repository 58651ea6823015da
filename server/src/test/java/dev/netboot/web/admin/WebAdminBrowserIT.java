package dev.netboot.web.admin;

import dev.netboot.app.Appliance;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.ClientArch;
import dev.netboot.dhcp.Machine;
import dev.netboot.config.ConfigLoader;
import dev.netboot.net.Ipv4;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.images.ImageLibrary;
import dev.netboot.images.TestRootfs;
import dev.netboot.inventory.Inventory;
import dev.netboot.boot.BootRecorder;
import dev.netboot.storage.Progress;
import dev.netboot.testlib.Chromium;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web admin as an operator meets it: the real appliance (HTTP on; DHCP, TFTP and AoE off), a real
 * imported image, and a real headless Chromium driven over the DevTools protocol filling and submitting
 * the forms. Checks what the browser shows and what landed in the inventory, the catalog and on disk.
 */
class WebAdminBrowserIT {

    static final String DISCOVERED = "52:54:00:aa:00:01";
    static final String CLONED = "52:54:00:aa:00:02";

    /** What each page looked like, for whoever reviews the pages (target/ is not committed). */
    static final Path SCREENSHOTS = Path.of("target/webadmin-screenshots");

    @TempDir Path tmp;

    @Test
    void anOperatorLogsInClonesAssignsFlattensAndRemovesInABrowser() throws Exception {
        long started = System.nanoTime();
        Path data = tmp.resolve("data");
        int port = NetLab.freeTcpPort();
        Path config = Files.writeString(tmp.resolve("netboot.yaml"), "{}\n");
        List<String> settings = List.of("dataDir=" + data, "dhcp.mode=off", "tftp.enabled=false", "http.address=127.0.0.1",
                "http.port=" + port, "menus.dir=" + tmp.resolve("no-menus"), "initrd.templates=" + tmp.resolve("no-templates"),
                "web.templates=" + tmp.resolve("no-webadmin"));

        try (Appliance appliance = new Appliance(ConfigLoader.load(Optional.of(config), settings)).start();
             Chromium chromium = Chromium.start(tmp.resolve("chromium-profile"))) {
            // The password nobody configured was generated at start, readable by its owner only.
            Path passwordFile = data.resolve("admin-password");
            assertThat(Files.getPosixFilePermissions(passwordFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            String password = Files.readString(passwordFile).strip();
            String base = "http://127.0.0.1:" + port;

            Inventory inventory = appliance.inventory();
            ImageLibrary library = new ImageLibrary(inventory, data, Clock.systemUTC());
            Path rootfs = TestRootfs.create(tmp.resolve("rootfs"));
            library.importImage("demo", rootfs, OptionalLong.empty(), "the test image", Progress.NONE);
            library.importImage("other", rootfs, OptionalLong.empty(), "another image", Progress.NONE);

            // A PC that PXE-boots: the DHCP server tells the inventory observer, as it does on the wire.
            BootRecorder observer = new BootRecorder(inventory, () -> {}, mac -> {}, 600, java.time.Clock.systemUTC());
            Machine pc = new Machine(DISCOVERED, ClientArch.BIOS, 0, List.of(), "", "PXEClient:Arch:00000", "lab-pc-1");
            observer.seen(pc, Instant.now());
            observer.booted(pc, new BootPlan("undionly.kpxe", ""), Ipv4.parse("10.9.0.101"), Instant.now());
            observer.sync();
            observer.close();

            // 1. Without the login the browser gets 401; cancelling its login dialog shows why, and nothing else.
            Chromium.Page anonymous = chromium.newPage(Map.of());
            anonymous.cancelLogins();
            assertThat(anonymous.navigate(base + "/admin/")).isEqualTo(401);
            assertThat(anonymous.text()).contains("Login required").doesNotContain(DISCOVERED);
            assertThat(anonymous.navigate(base + "/metrics")).as("metrics stay open").isEqualTo(200);

            Chromium.Page admin = chromium.newPage(Map.of("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8))));

            // 2. The client that booted by itself is listed as discovered.
            assertThat(admin.navigate(base + "/admin/")).isEqualTo(200);
            String row = admin.evaluate("document.querySelector('tr[data-mac=\"" + DISCOVERED + "\"]').innerText").asText();
            assertThat(row).contains("discovered", "lab-pc-1", "10.9.0.101 (at last boot)");
            admin.screenshot(SCREENSHOTS.resolve("1-clients.png"));

            // 3. Clone: a bad MAC is said in words and the form keeps it; a good one makes a client with a disk.
            assertThat(admin.click("a[href='/admin/clone']")).isEqualTo(200);
            admin.fill("input[name=mac]", "52:54:00:aa:00");
            admin.fill("select[name=image]", "demo");
            assertThat(admin.click("#clone button[type=submit]")).isEqualTo(400);
            assertThat(admin.text()).contains("not a MAC address: '52:54:00:aa:00'");
            admin.screenshot(SCREENSHOTS.resolve("2-clone-bad-mac.png"));
            assertThat(admin.evaluate("document.querySelector('input[name=mac]').value").asText()).isEqualTo("52:54:00:aa:00");

            admin.fill("input[name=mac]", CLONED.toUpperCase());
            assertThat(admin.click("#clone button[type=submit]")).isEqualTo(200);
            assertThat(admin.evaluate("location.pathname").asText()).isEqualTo("/admin/clients/" + CLONED);
            assertThat(admin.text()).contains("Image demo assigned");
            assertThat(inventory.assignment(CLONED)).hasValueSatisfying(a -> assertThat(a.imageName()).isEqualTo("demo"));
            Path disk = Path.of(inventory.diskOf(CLONED).orElseThrow().path());
            assertThat(disk).exists();
            assertThat(Files.size(disk)).isEqualTo(inventory.image("demo").orElseThrow().sizeBytes());
            assertThat(new DiskCatalog(data).list()).anySatisfy(e -> {
                assertThat(e.path()).isEqualTo(disk.toString());
                assertThat(e.allowedMacs()).containsExactly(CLONED);
            });

            // 4. Another image without "replace": refused in words, nothing changed.
            admin.fill("#assign select[name=image]", "other");
            assertThat(admin.click("#assign button[type=submit]")).isEqualTo(409);
            assertThat(admin.text()).contains("cloned from image demo", "discards what that client wrote").doesNotContain("Exception");
            assertThat(inventory.assignment(CLONED).orElseThrow().imageName()).isEqualTo("demo");
            admin.screenshot(SCREENSHOTS.resolve("3-client-refused.png"));

            // 5. A form without its token (as a page elsewhere on the network would post it): 403, nothing changed.
            assertThat(admin.navigateBy("(() => { const f = document.querySelector('#unassign'); f.querySelector('input[name=csrf]').remove(); f.submit(); })()"))
                    .isEqualTo(403);
            assertThat(admin.text()).contains("Form refused", "Nothing was changed");
            assertThat(disk).exists();
            HttpResponse<String> forged = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/admin/clients/" + CLONED + "/remove"))
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                    .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("csrf=guess")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(forged.statusCode()).isEqualTo(403);
            assertThat(inventory.client(CLONED)).isPresent();

            // 6. Flatten in the background: the page reloads itself (meta refresh, no JavaScript needed) until it is done.
            assertThat(admin.navigate(base + "/admin/clients/" + CLONED)).isEqualTo(200);
            assertThat(admin.click("#flatten button[type=submit]")).isEqualTo(200);
            admin.screenshot(SCREENSHOTS.resolve("4-client-flattening.png"));
            admin.awaitText(t -> t.contains("done: the disk is standalone"), Duration.ofSeconds(30));
            assertThat(inventory.diskOf(CLONED).orElseThrow().kind()).isEqualTo("standalone");
            admin.screenshot(SCREENSHOTS.resolve("5-client-flattened.png"));

            // 7. The images and disks pages say what is there.
            assertThat(admin.navigate(base + "/admin/images")).isEqualTo(200);
            assertThat(admin.evaluate("document.querySelector('tr[data-image=demo]').innerText").asText()).contains(TestRootfs.KERNEL, "the test image");
            admin.screenshot(SCREENSHOTS.resolve("7-images.png"));
            assertThat(admin.navigate(base + "/admin/disks")).isEqualTo(200);
            assertThat(admin.evaluate("document.querySelector('#disks tbody').innerText").asText())
                    .contains(disk.toString(), CLONED, "AoE is off in this server", "not configured");
            admin.screenshot(SCREENSHOTS.resolve("6-disks.png"));

            // 8. Remove the client with its disk.
            assertThat(admin.navigate(base + "/admin/clients/" + CLONED)).isEqualTo(200);
            assertThat(admin.click("#remove button[type=submit]")).isEqualTo(200);
            assertThat(admin.text()).contains("Client " + CLONED + " was removed.");
            assertThat(inventory.client(CLONED)).isEmpty();
            assertThat(disk).doesNotExist();
        }
        System.out.printf("WebAdminBrowserIT: %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    static final String INSTALLING = "52:54:00:aa:00:03";

    /** A bzImage header with what the installer catalog reads of it: the boot protocol magic and the version string. */
    static byte[] installerKernel(String version) {
        byte[] k = new byte[4096];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(k).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x202, 0x53726448);
        b.putShort(0x20E, (short) 0x300);
        byte[] v = (version + " (debian-kernel@lists.debian.org) #1 SMP").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, k, 0x500, v.length);
        return k;
    }

    @Test
    void anOperatorStartsAnInstallerForAClientSeesItListedAndCancelsIt() throws Exception {
        Path data = tmp.resolve("data");
        int port = NetLab.freeTcpPort();
        Path config = Files.writeString(tmp.resolve("netboot.yaml"), "{}\n");
        List<String> settings = List.of("dataDir=" + data, "dhcp.mode=off", "tftp.enabled=false", "http.address=127.0.0.1",
                "http.port=" + port, "menus.dir=" + tmp.resolve("no-menus"), "initrd.templates=" + tmp.resolve("no-templates"),
                "web.templates=" + tmp.resolve("no-webadmin"), "installers.dir=" + tmp.resolve("no-installers"));
        // The packaged debian installer, its files as 'netboot installers fetch debian' lays them out.
        Path home = Files.createDirectories(data.resolve("installers/debian"));
        Files.write(home.resolve("linux"), installerKernel("6.1.0-99-amd64"));
        Files.writeString(home.resolve("initrd.gz"), "initrd");
        Files.createDirectories(home.resolve("modules/lib/modules/6.1.0-99-amd64"));

        try (Appliance appliance = new Appliance(ConfigLoader.load(Optional.of(config), settings)).start();
             Chromium chromium = Chromium.start(tmp.resolve("chromium-profile"))) {
            String password = Files.readString(data.resolve("admin-password")).strip();
            String base = "http://127.0.0.1:" + port;
            Inventory inventory = appliance.inventory();
            inventory.addClient(INSTALLING, "lab-pc-3", "");
            Chromium.Page admin = chromium.newPage(Map.of("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8))));

            // 1. An installer that does not exist: refused in words, nothing changed.
            assertThat(admin.navigate(base + "/admin/clients/" + INSTALLING)).isEqualTo(200);
            admin.fill("#install input[name=installer]", "nosuch");
            admin.fill("#install input[name=size]", "64M");
            assertThat(admin.click("#install button[type=submit]")).isEqualTo(409);
            assertThat(admin.text()).contains("no installer 'nosuch'");
            assertThat(inventory.installMode(INSTALLING)).isEmpty();
            assertThat(inventory.diskOf(INSTALLING)).isEmpty();

            // 2. Debian onto a new 64 MiB disk: the page says what happens next, the client gets its empty disk.
            admin.fill("#install input[name=installer]", "debian");
            admin.fill("#install input[name=size]", "64M");
            assertThat(admin.click("#install button[type=submit]")).isEqualTo(200);
            assertThat(admin.evaluate("location.pathname").asText()).isEqualTo("/admin/clients/" + INSTALLING);
            assertThat(admin.text()).contains("Its next network boot starts the installer onto its disk")
                    .contains("Installer mode: debian, starts at its next network boot");
            assertThat(inventory.installMode(INSTALLING)).hasValueSatisfying(m -> assertThat(m.installer()).isEqualTo("debian"));
            assertThat(inventory.assignment(INSTALLING).orElseThrow().imageName()).isEqualTo("blank-64m");
            admin.screenshot(SCREENSHOTS.resolve("8-client-installing.png"));

            // 3. Listed as installing on the clients page.
            assertThat(admin.navigate(base + "/admin/")).isEqualTo(200);
            assertThat(admin.evaluate("document.querySelector('tr[data-mac=\"" + INSTALLING + "\"]').innerText").asText())
                    .contains("blank-64m", "installing: debian, starts at its next network boot");

            // 4. Cancelled from its page: installer mode off, the disk stays.
            assertThat(admin.navigate(base + "/admin/clients/" + INSTALLING)).isEqualTo(200);
            assertThat(admin.click("#cancel-install button[type=submit]")).isEqualTo(200);
            assertThat(admin.text()).contains("Installer mode ended: its next network boot boots its disk").doesNotContain("Installer mode: debian");
            assertThat(inventory.installMode(INSTALLING)).isEmpty();
            assertThat(inventory.diskOf(INSTALLING)).isPresent();
            assertThat(admin.navigate(base + "/admin/")).isEqualTo(200);
            assertThat(admin.evaluate("document.querySelector('tr[data-mac=\"" + INSTALLING + "\"]').innerText").asText()).doesNotContain("installing");
        }
    }
}
