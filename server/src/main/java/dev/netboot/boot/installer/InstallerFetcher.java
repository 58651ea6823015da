package dev.netboot.boot.installer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code netboot installers fetch NAME}: gets an installer's files the way its definition says, with
 * Debian's own tools: {@code apt-get download} of the installer package, {@code dpkg -x}, the kernel and
 * initrd copied into {@code <dataDir>/installers/NAME/}; then the kernel's version read from the kernel
 * itself, and {@code lib/modules/<version>} of the matching linux-image package into {@code modules/}; with
 * {@code fetch.udebs}, the installer's own components into a local mirror ({@link UdebMirror}, {@code mirror/}).
 * Everything is staged and moved into place at the end: an interrupted fetch leaves nothing half-done.
 */
public final class InstallerFetcher {

    private static final Logger log = LoggerFactory.getLogger(InstallerFetcher.class);

    private final InstallerCatalog catalog;
    private final Consumer<String> progress;

    /** @param progress told each step, for a person watching */
    public InstallerFetcher(InstallerCatalog catalog, Consumer<String> progress) {
        this.catalog = catalog;
        this.progress = progress;
    }

    public Installer fetch(String name) throws IOException, InterruptedException {
        Installer i = catalog.find(name).orElseThrow(() -> new InstallerException("no installer '" + name + "' (netboot installers list)"));
        Installer.Fetch f = i.fetch().orElseThrow(() -> new InstallerException("installer " + name
                + " says nowhere to fetch it from (no fetch.package): put its kernel at " + i.kernel() + ", its initrd at " + i.initrd()
                + " and its kernel's lib/modules/VERSION under " + i.modules()));
        Path home = catalog.filesOf(name);
        Files.createDirectories(home.getParent());
        Path staging = home.resolveSibling("." + name + ".fetching");
        deleteTree(staging);
        Files.createDirectories(staging);
        try {
            Path debs = Files.createDirectories(staging.resolve("debs"));
            Path unpacked = Files.createDirectories(staging.resolve("unpacked"));
            Path files = Files.createDirectories(staging.resolve("files"));
            progress.accept("downloading " + f.installerPackage());
            run(debs, List.of("apt-get", "download", f.installerPackage()));
            run(debs, List.of("dpkg", "-x", onlyDeb(debs, f.installerPackage()).toString(), unpacked.toString()));
            Path kernel = files.resolve(home.relativize(i.kernel()));
            Path initrd = files.resolve(home.relativize(i.initrd()));
            Files.createDirectories(kernel.getParent());
            Files.createDirectories(initrd.getParent());
            Files.copy(inside(unpacked, f.kernelInPackage()), kernel);
            Files.copy(inside(unpacked, f.initrdInPackage()), initrd);
            String version = KernelVersion.of(kernel);
            String modulesPackage = f.modulesPackage().replace("{version}", version);
            progress.accept("installer kernel is " + version + ": downloading " + modulesPackage + " for its aoe module");
            run(debs, List.of("apt-get", "download", modulesPackage));
            Path kernelPkg = Files.createDirectories(staging.resolve("kernel"));
            run(debs, List.of("dpkg", "-x", onlyDeb(debs, modulesPackage).toString(), kernelPkg.toString()));
            Path modules = files.resolve(home.relativize(i.modules())).resolve("lib/modules");
            Files.createDirectories(modules);
            Path from = kernelPkg.resolve("lib/modules").resolve(version);
            if (!Files.isDirectory(from)) from = kernelPkg.resolve("usr/lib/modules").resolve(version);
            if (!Files.isDirectory(from)) throw new IOException(modulesPackage + " has no lib/modules/" + version);
            Files.move(from, modules.resolve(version));
            if (!f.udebs().isEmpty()) {
                progress.accept("building the installer's local mirror of its own components (" + String.join(" ", f.udebs()) + " and what they need)");
                try {
                    List<String> got = UdebMirror.build(f.installerPackage(), initrd, version, f.udebs(), files.resolve(home.relativize(i.mirror())),
                            Files.createDirectories(staging.resolve("udeb-work")), progress);
                    log.info("installer {}: local mirror with {} udebs, served to its clients: {}", name, got.size(), String.join(" ", got));
                } catch (IOException | InstallerException e) {
                    // The mirror only spares the installer an internet mirror; kernel, initrd and aoe module are what it boots with.
                    progress.accept("no local mirror (the installer will need a Debian mirror for its partitioner and the rest): " + e.getMessage());
                    log.warn("installer {}: local udeb mirror not built: {}", name, e.getMessage());
                }
            }
            deleteTree(home);
            Files.move(files, home, StandardCopyOption.ATOMIC_MOVE);
            log.info("installer {} fetched into {}: kernel {} with modules of {}", name, home, version, modulesPackage);
            return catalog.ready(name);
        } finally {
            deleteTree(staging);
        }
    }

    private static Path inside(Path root, String relative) throws IOException {
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root) || !Files.isRegularFile(p)) throw new IOException("the package has no " + relative);
        return p;
    }

    private static Path onlyDeb(Path dir, String pkg) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(pkg + "_") && p.toString().endsWith(".deb")).findFirst()
                    .orElseThrow(() -> new IOException("apt-get download " + pkg + " left no .deb in " + dir));
        }
    }

    private static void run(Path dir, List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", argv) + " failed: " + out.strip());
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
