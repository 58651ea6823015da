package dev.netboot.aoe;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * A Debian kernel (apt-get download + dpkg -x, cached) and a tiny initramfs (busybox-static, the
 * kernel modules a guest needs, mke2fs with its libraries, an /init script) for qemu guests.
 * Public for the guest tests of other packages (storage.LvmStoreGuestIT).
 */
public final class GuestImage {

    public static Path cacheDir() {
        String env = System.getenv("NETBOOT_TEST_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "netboot-test");
    }

    /** The extracted kernel package's root (…/boot/vmlinuz-*, …/lib/modules/*), downloading it once. */
    public static Path debianKernel() throws IOException {
        Path cache = cacheDir();
        Files.createDirectories(cache);
        String find = "apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'";
        String pkg = HostCommands.run("sh", "-c", find).output().trim();
        if (pkg.isEmpty()) {
            // A fresh machine may have no package lists yet.
            HostCommands.runAllowingFailure(300, "apt-get", "update", "-qq");
            pkg = HostCommands.run("sh", "-c", find).output().trim();
        }
        if (pkg.isEmpty()) throw new IOException("apt-cache knows no linux-image-amd64 dependency (run apt-get update)");
        Path root = cache.resolve(pkg);
        if (!Files.isDirectory(root.resolve("boot"))) {
            HostCommands.Result dl = HostCommands.runAllowingFailure(300, "sh", "-c", "cd '" + cache + "' && apt-get download " + pkg);
            if (dl.exitCode() != 0) throw new IOException("apt-get download " + pkg + " failed: " + dl.output());
            Path tmp = cache.resolve(pkg + ".tmp");
            HostCommands.run("rm", "-rf", tmp.toString());
            HostCommands.run("sh", "-c", "dpkg -x '" + cache + "'/" + pkg + "_*.deb '" + tmp + "' && rm -f '" + cache + "'/" + pkg + "_*.deb");
            Files.move(tmp, root);
        }
        return root;
    }

    /**
     * A statically linked busybox from Debian's busybox-static package, fetched with apt-get download
     * into the cache (installing the package would replace the host's dynamic busybox and udhcpc).
     */
    public static Path staticBusybox() throws IOException {
        Path cache = cacheDir();
        Path root = cache.resolve("busybox-static");
        Path bin = root.resolve("bin/busybox");
        if (!Files.isExecutable(bin)) {
            Files.createDirectories(cache);
            HostCommands.Result dl = HostCommands.runAllowingFailure(120, "sh", "-c", "cd '" + cache + "' && apt-get download busybox-static");
            if (dl.exitCode() != 0) throw new IOException("apt-get download busybox-static failed: " + dl.output());
            HostCommands.run("sh", "-c", "rm -rf '" + root + "' && dpkg -x '" + cache + "'/busybox-static_*.deb '" + root + "' && rm -f '" + cache + "'/busybox-static_*.deb");
        }
        return bin;
    }

    /**
     * A Debian package's files (apt-get download + dpkg -x into the cache, once), for firmware and loaders
     * the tests run but the host need not have installed (ovmf, ipxe).
     */
    public static Path debianPackage(String pkg) throws IOException {
        Path cache = cacheDir();
        Path root = cache.resolve("pkg-" + pkg);
        if (!Files.isDirectory(root.resolve("usr"))) {
            Files.createDirectories(cache);
            String download = "cd '" + cache + "' && apt-get download " + pkg;
            HostCommands.Result dl = HostCommands.runAllowingFailure(300, "sh", "-c", download);
            if (dl.exitCode() != 0) {
                // A fresh machine may have no package lists yet.
                HostCommands.runAllowingFailure(300, "apt-get", "update", "-qq");
                dl = HostCommands.runAllowingFailure(300, "sh", "-c", download);
            }
            if (dl.exitCode() != 0) throw new IOException("apt-get download " + pkg + " failed: " + dl.output());
            Path tmp = cache.resolve("pkg-" + pkg + ".tmp");
            HostCommands.run("sh", "-c", "rm -rf '" + tmp + "' && dpkg -x '" + cache + "'/" + pkg + "_*.deb '" + tmp + "' && rm -f '" + cache + "'/" + pkg + "_*.deb");
            Files.move(tmp, root);
        }
        return root;
    }

    public static Path vmlinuz(Path kernelRoot) throws IOException {
        try (Stream<Path> s = Files.list(kernelRoot.resolve("boot"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElseThrow(() -> new IOException("no vmlinuz in " + kernelRoot));
        }
    }

    /** Finds a module by name under lib/modules/VERSION/kernel, with its dependencies first (from .modinfo). */
    public static List<Path> moduleWithDependencies(Path kernelRoot, String name) throws IOException {
        Path modules;
        try (Stream<Path> s = Files.list(kernelRoot.resolve("lib/modules"))) {
            modules = s.findFirst().orElseThrow();
        }
        Map<String, Path> byName = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(modules.resolve("kernel"))) {
            s.filter(p -> p.toString().endsWith(".ko")).forEach(p -> byName.put(p.getFileName().toString().replace(".ko", "").replace('-', '_'), p));
        }
        List<Path> order = new ArrayList<>();
        addWithDeps(byName, name.replace('-', '_'), order);
        return order;
    }

    private static void addWithDeps(Map<String, Path> byName, String name, List<Path> order) throws IOException {
        Path ko = byName.get(name);
        if (ko == null) throw new IOException("no module " + name + " (compressed modules are not handled)");
        if (order.contains(ko)) return;
        for (String dep : dependsOf(Files.readAllBytes(ko))) if (!dep.isEmpty()) addWithDeps(byName, dep.replace('-', '_'), order);
        order.add(ko);
    }

    /** The "depends=" entry of a module's .modinfo section (what depmod writes into modules.dep). */
    public static List<String> dependsOf(byte[] ko) {
        byte[] key = "\0depends=".getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + key.length < ko.length; i++) {
            for (int j = 0; j < key.length; j++) if (ko[i + j] != key[j]) continue outer;
            int start = i + key.length, end = start;
            while (end < ko.length && ko[end] != 0) end++;
            return List.of(new String(ko, start, end - start, StandardCharsets.US_ASCII).split(","));
        }
        return List.of();
    }

    /** Host libraries a dynamically linked binary needs (from ldd), so it runs in the initramfs. */
    public static List<Path> librariesOf(Path binary) throws IOException {
        List<Path> libs = new ArrayList<>();
        for (String line : HostCommands.run("ldd", binary.toString()).output().split("\n")) {
            String l = line.trim();
            int arrow = l.indexOf("=> ");
            String path = arrow >= 0 ? l.substring(arrow + 3) : l;
            int paren = path.indexOf(" (");
            if (paren >= 0) path = path.substring(0, paren);
            if (path.startsWith("/")) libs.add(Path.of(path));
        }
        return libs;
    }

    /** Writes a gzip-compressed newc cpio archive, the format the kernel unpacks as initramfs. */
    public static final class Cpio implements AutoCloseable {
        private final OutputStream out;
        private int inode = 1;
        private long written;

        public Cpio(Path file) throws IOException {
            this.out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16);
        }

        public void dir(String name) throws IOException { entry(name, 0040755, new byte[0]); }
        public void file(String name, byte[] data, boolean executable) throws IOException { entry(name, executable ? 0100755 : 0100644, data); }
        public void file(String name, Path from, boolean executable) throws IOException { file(name, Files.readAllBytes(from), executable); }
        public void symlink(String name, String target) throws IOException { entry(name, 0120777, target.getBytes(StandardCharsets.UTF_8)); }

        private void entry(String name, int mode, byte[] data) throws IOException {
            byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
            String header = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                    inode++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0);
            write(header.getBytes(StandardCharsets.US_ASCII));
            write(n);
            pad();
            write(data);
            pad();
        }

        private void write(byte[] b) throws IOException {
            out.write(b);
            written += b.length;
        }

        private void pad() throws IOException {
            while (written % 4 != 0) write(new byte[1]);
        }

        @Override
        public void close() throws IOException {
            entry("TRAILER!!!", 0, new byte[0]);
            out.close();
        }
    }

    public static Optional<Path> which(String tool) {
        try {
            HostCommands.Result r = HostCommands.runAllowingFailure(5, "sh", "-c", "command -v " + tool);
            return r.exitCode() == 0 ? Optional.of(Path.of(r.output().trim())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static byte[] bytes(ByteArrayOutputStream b) { return b.toByteArray(); }
}
