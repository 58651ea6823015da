package dev.netboot.storage;

import dev.netboot.aoe.GuestImage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A qemu TCG guest with Debian's kernel, device-mapper (thin pool) modules, the host's lvm2 tools
 * and one empty virtio disk (/dev/vda), driven through a {@link GuestCommandRunner} on its second
 * serial port. The host here has no device-mapper, so this is where LVM runs for real.
 */
public final class LvmGuest implements AutoCloseable {

    static final List<String> MODULES = List.of("virtio_pci", "virtio_blk", "crc32c_generic", "dm-thin-pool");
    // lvm dispatches on argv[0]: these are symlinks to it, as in the lvm2 package.
    static final List<String> LVM_COMMANDS = List.of("lvs", "lvcreate", "lvremove", "lvchange", "lvextend", "pvcreate", "pvs", "vgcreate", "vgs");

    /** lvm without udev, lvmetad, dmeventd or a devices file: it makes its own /dev nodes. */
    static final String LVM_CONF = """
            devices {
                obtain_device_list_from_udev = 0
                external_device_info_source = "none"
                use_devicesfile = 0
                global_filter = [ "a|^/dev/vd|", "r|.*|" ]
            }
            global {
                thin_check_executable = "/usr/sbin/thin_check"
                event_activation = 0
            }
            activation {
                udev_sync = 0
                udev_rules = 0
                monitoring = 0
            }
            backup {
                backup = 0
                archive = 0
            }
            """;

    /**
     * The command server: one request per line on ttyS1 (raw, no echo), see {@link GuestCommandRunner}.
     * stderr of the server itself goes to the console, never into the protocol.
     */
    static final String COMMAND_SERVER = """
            #!/bin/busybox sh
            set -f
            stty -F /dev/ttyS1 raw -echo
            exec </dev/ttyS1 >/dev/ttyS1 2>/dev/console
            US=$(printf '\\037')
            echo "@@NB-READY"
            while IFS=' ' read -r id secs b64; do
              args=$(echo "$b64" | base64 -d)
              IFS=$US
              set -- $args
              unset IFS
              timeout -s KILL "$secs" "$@" </dev/null >/tmp/nb.out 2>/tmp/nb.err
              rc=$?
              echo "@@NB-OUT $id"; base64 /tmp/nb.out
              echo "@@NB-ERR $id"; base64 /tmp/nb.err
              echo "@@NB-RC $id $rc"
            done
            """;

    private final Process qemu;
    private final GuestCommandRunner runner;
    private final List<String> console;
    private final Duration bootTime;

    private LvmGuest(Process qemu, GuestCommandRunner runner, List<String> console, Duration bootTime) {
        this.qemu = qemu;
        this.runner = runner;
        this.console = console;
        this.bootTime = bootTime;
    }

    public GuestCommandRunner runner() { return runner; }
    Duration bootTime() { return bootTime; }
    public String console() { return String.join("\n", console); }

    /**
     * What a test adds to the guest: kernel modules (with their dependencies), qemu arguments (a NIC, a 9p share),
     * the memory, and a command prefix qemu is started with (e.g. {@code ip netns exec NS}, so its user-mode NIC
     * reaches what that namespace reaches).
     */
    public record Extras(List<String> modules, List<String> qemuArgs, int memoryMiB, List<String> prefix) {
        public static final Extras NONE = new Extras(List.of(), List.of(), 384, List.of());
    }

    /** Builds the initramfs, boots the guest with a sparse disk of {@code diskBytes} and waits for its command server. */
    static LvmGuest boot(Path dir, long diskBytes) throws IOException, InterruptedException {
        return boot(dir, diskBytes, Extras.NONE);
    }

    public static LvmGuest boot(Path dir, long diskBytes, Extras extras) throws IOException, InterruptedException {
        Path kernel = GuestImage.debianKernel();
        Path initrd = dir.resolve("initrd.gz");
        List<String> modules = new ArrayList<>(MODULES);
        modules.addAll(extras.modules());
        buildInitramfs(kernel, GuestImage.staticBusybox(), initrd, modules);
        Path disk = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(diskBytes);
        }
        Path socket = dir.resolve("cmd.sock");
        List<String> console = new CopyOnWriteArrayList<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            long start = System.nanoTime();
            List<String> cmd = new ArrayList<>(extras.prefix());
            cmd.addAll(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", String.valueOf(extras.memoryMiB()), "-smp", "1",
                    "-kernel", GuestImage.vmlinuz(kernel).toString(), "-initrd", initrd.toString(),
                    "-append", "console=ttyS0 panic=-1 no_timer_check loglevel=4",
                    "-drive", "file=" + disk + ",format=raw,if=virtio,cache=unsafe",
                    "-chardev", "socket,id=cmd,path=" + socket,
                    "-display", "none", "-monitor", "none", "-serial", "stdio", "-serial", "chardev:cmd", "-no-reboot"));
            if (extras.qemuArgs().isEmpty()) cmd.addAll(List.of("-nic", "none"));
            cmd.addAll(extras.qemuArgs());
            Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread.ofVirtual().name("guest-console").start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) console.add(line);
                } catch (IOException e) {
                    console.add("(console read failed: " + e + ")");
                }
            });
            try {
                SocketChannel channel = accept(server, qemu, console);
                GuestCommandRunner runner = new GuestCommandRunner(channel);
                runner.awaitReady(Duration.ofSeconds(120));
                return new LvmGuest(qemu, runner, console, Duration.ofNanos(System.nanoTime() - start));
            } catch (IOException | RuntimeException e) {
                stop(qemu);
                throw new IOException(e.getMessage() + "\nguest console:\n" + String.join("\n", console), e);
            }
        }
    }

    /** qemu connects to our socket as it starts; a qemu that fails to start must not leave us waiting forever. */
    private static SocketChannel accept(ServerSocketChannel server, Process qemu, List<String> console) throws IOException, InterruptedException {
        server.configureBlocking(false);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            SocketChannel ch = server.accept();
            if (ch != null) {
                ch.configureBlocking(true);
                return ch;
            }
            if (!qemu.isAlive()) throw new IOException("qemu exited with " + qemu.exitValue());
            Thread.sleep(50);
        }
        throw new IOException("qemu did not connect its serial port");
    }

    private static void buildInitramfs(Path kernel, Path busybox, Path initrd, List<String> moduleNames) throws IOException {
        List<Path> modules = new ArrayList<>();
        for (String m : moduleNames)
            for (Path p : GuestImage.moduleWithDependencies(kernel, m)) if (!modules.contains(p)) modules.add(p);
        Path lvm = GuestImage.which("lvm").orElseThrow(() -> new IOException("no lvm on the host: apt-get install lvm2"));
        Path dmsetup = GuestImage.which("dmsetup").orElseThrow(() -> new IOException("no dmsetup on the host: apt-get install dmsetup"));
        Path thinCheck = GuestImage.which("thin_check").orElseThrow(() -> new IOException("no thin_check on the host: apt-get install thin-provisioning-tools"));
        Set<String> dirs = new HashSet<>();
        try (GuestImage.Cpio cpio = new GuestImage.Cpio(initrd)) {
            for (String d : List.of("bin", "sbin", "usr/sbin", "etc/lvm", "proc", "sys", "dev", "tmp", "run/lock/lvm", "run/lvm", "mods"))
                mkdirs(cpio, dirs, d);
            cpio.file("bin/busybox", busybox, true);
            cpio.file("sbin/lvm", lvm.toRealPath(), true);
            for (String c : LVM_COMMANDS) cpio.symlink("sbin/" + c, "lvm");
            cpio.file("sbin/dmsetup", dmsetup.toRealPath(), true);
            // lvm runs thin_check at the path it was built with before activating a pool.
            cpio.file("usr/sbin/thin_check", thinCheck.toRealPath(), true);
            Set<Path> libs = new java.util.LinkedHashSet<>();
            for (Path bin : List.of(lvm, dmsetup, thinCheck)) libs.addAll(GuestImage.librariesOf(bin));
            for (Path lib : libs) {
                String name = lib.toString().substring(1);
                mkdirs(cpio, dirs, Path.of(name).getParent().toString());
                cpio.file(name, lib.toRealPath(), true);
            }
            cpio.file("etc/lvm/lvm.conf", LVM_CONF.getBytes(StandardCharsets.US_ASCII), false);
            cpio.file("bin/nb-cmdserver", COMMAND_SERVER.getBytes(StandardCharsets.US_ASCII), true);
            StringBuilder insmods = new StringBuilder();
            for (Path ko : modules) {
                String name = ko.getFileName().toString();
                cpio.file("mods/" + name, ko, false);
                insmods.append("insmod /mods/").append(name).append(" || echo NB-FAIL insmod ").append(name).append('\n');
            }
            cpio.file("init", initScript(insmods.toString()).getBytes(StandardCharsets.US_ASCII), true);
        }
    }

    private static void mkdirs(GuestImage.Cpio cpio, Set<String> made, String dir) throws IOException {
        Path p = Path.of(dir);
        for (int i = 1; i <= p.getNameCount(); i++) {
            String sub = p.subpath(0, i).toString();
            if (made.add(sub)) cpio.dir(sub);
        }
    }

    private static String initScript(String insmods) {
        return """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                export PATH=/sbin:/usr/sbin:/bin
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev
                %s
                i=0
                while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
                [ -b /dev/vda ] || echo NB-FAIL no /dev/vda
                echo NB-GUEST-UP
                /bin/nb-cmdserver
                echo NB-CMDSERVER-EXITED
                poweroff -f
                """.formatted(insmods);
    }

    @Override
    public void close() throws IOException {
        try {
            runner.close();
        } finally {
            stop(qemu);
        }
    }

    private static void stop(Process qemu) {
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
