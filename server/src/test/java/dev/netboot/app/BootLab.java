package dev.netboot.app;

import dev.netboot.config.ConfigLoader;
import dev.netboot.aoe.GuestImage;
import dev.netboot.demo.Firmware;
import dev.netboot.demo.QemuClient;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.TapDevice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The lab every whole-boot test stands on: a bridge with this server on it (full DHCP, AoE on the
 * bridge, packaged menus and initrd templates), configured from a YAML file and {@code --set}
 * overrides as an operator would, and qemu PCs with the iPXE ROM, each on a tap of its own. Everything
 * goes when it is closed (the server and the PCs, which the test closes, first), also when a test fails.
 */
public final class BootLab implements AutoCloseable {

    public final NetLab net;
    public final Bridge bridge;
    public final Path dir;
    public final Path data;
    public final Path config;
    public final String server;
    private final List<String> settings = new ArrayList<>();
    private Process capture;

    /**
     * @param extra settings on top of the lab's own ({@code key=value}, as {@code --set} takes them); the
     *              server's HTTP and TFTP ports are the test's to choose
     */
    public BootLab(Path dir, List<String> extra) throws Exception {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.net = NetLab.create();
        try {
            bridge = net.bridge(null);
            String prefix = bridge.subnet().dottedPrefix();
            server = bridge.address().getHostAddress();
            config = Files.writeString(dir.resolve("netboot.yaml"), """
                    dhcp:
                      mode: full
                      probeForeignServer: false
                      pools:
                        - subnet: %s0/24
                          range: %s100-%s119
                          leaseSeconds: 600
                    """.formatted(prefix, prefix, prefix));
            settings.addAll(List.of("dataDir=" + data, "networkInterface=" + bridge.name(),
                    "aoe.interfaces=[" + bridge.name() + "]", "aoe.catalogPollMillis=200",
                    "menus.dir=" + dir.resolve("no-menus"), "initrd.templates=" + dir.resolve("no-templates")));
            settings.addAll(extra);
            captureIfAsked();
        } catch (Exception e) {
            net.close();
            throw e;
        }
    }

    /** The settings the server and the CLI run with (the CLI beside the server needs the same). */
    public List<String> settings() { return List.copyOf(settings); }

    /** Starts the server (the test closes it: some check the disks once it has let go of them). */
    public Appliance start() throws Exception {
        return new Appliance(ConfigLoader.load(Optional.of(config), settings)).start();
    }

    /** Runs the CLI as an operator would, beside the running server: {stdout, stderr}. */
    public String[] cli(String... args) throws Exception {
        return EndToEndBootIT.cli(config, settings, args);
    }

    /** Powers on a PC with the iPXE ROM and this MAC on a tap of its own; its console goes to {@code <mac>.log}. */
    public QemuClient pc(String mac) throws Exception {
        return pc(mac, Firmware.BIOS_IPXE);
    }

    /** Powers on a PC with this firmware (see {@link #uefi}); UEFI PCs get 512 MiB (OVMF and the kernel's EFI stub want more). */
    public QemuClient pc(String mac, Firmware firmware) throws Exception {
        TapDevice tap = net.tap(null);
        bridge.attach(tap.name());
        return QemuClient.start(tap.name(), mac, dir.resolve(mac.replace(':', '-') + ".log"), firmware.isUefi() ? 512 : 256, null, firmware);
    }

    /** A UEFI PC's firmware: Debian's OVMF (package ovmf, fetched into the test cache), 4 MiB flash, no Secure Boot. */
    public static Firmware uefi(Firmware.Kind kind) throws Exception {
        Path ovmf = GuestImage.debianPackage("ovmf").resolve("usr/share/OVMF");
        return Firmware.uefi(kind, ovmf.resolve("OVMF_CODE_4M.fd"), ovmf.resolve("OVMF_VARS_4M.fd"));
    }

    /**
     * With NETBOOT_CAPTURE_DIR set, everything on the bridge goes to {@code <dir>/<bridge>.pcap} (tcpdump)
     * while the lab lives: how the firmware captures under src/test/resources/captures were taken.
     */
    private void captureIfAsked() throws java.io.IOException {
        String to = System.getenv("NETBOOT_CAPTURE_DIR");
        if (to == null || to.isBlank()) return;
        Path pcap = Files.createDirectories(Path.of(to)).resolve(bridge.name() + ".pcap");
        capture = new ProcessBuilder("tcpdump", "-i", bridge.name(), "-s", "0", "-U", "-w", pcap.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("tcpdump.log").toFile()).start();
        System.out.println("capturing the lab bridge to " + pcap);
    }

    /** A BIOS PC (iPXE ROM) with this much memory (an installer unpacks a large initrd into it). */
    public QemuClient pc(String mac, int memoryMiB) throws Exception {
        TapDevice tap = net.tap(null);
        bridge.attach(tap.name());
        return QemuClient.start(tap.name(), mac, dir.resolve(mac.replace(':', '-') + ".log"), memoryMiB);
    }

    @Override
    public void close() {
        if (capture != null) {
            capture.destroy();
            try {
                capture.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            capture.destroyForcibly();
        }
        net.close();
    }
}
