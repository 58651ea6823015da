package dev.netboot.boot.initrd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A real Linux image for boot tests: Debian's cloud kernel package unpacked as a root tree, with modules.dep. */
public final class DebianKernel {

    private DebianKernel() {}

    public static String version(Path image) throws IOException {
        try (Stream<Path> s = Files.list(image.resolve("lib/modules"))) {
            return s.findFirst().orElseThrow().getFileName().toString();
        }
    }

    /** Debian's cloud kernel package unpacked: from apt's cache when it is there, else apt-get download. */
    public static Path unpack(Path dir) throws Exception {
        Path deb = null;
        try (Stream<Path> s = Files.list(Path.of("/var/cache/apt/archives"))) {
            deb = s.filter(p -> p.getFileName().toString().matches("linux-image-[0-9].*-cloud-amd64_.*_amd64\\.deb")).sorted().reduce((a, b) -> b).orElse(null);
        } catch (IOException ignored) {
            // no apt cache: download below
        }
        if (deb == null) {
            String depends = InitrdBootIT.run(Duration.ofSeconds(30), "apt-cache", "depends", "linux-image-cloud-amd64");
            String pkg = depends.lines().map(String::strip).filter(l -> l.matches("Depends: linux-image-[0-9].*-cloud-amd64"))
                    .map(l -> l.substring("Depends: ".length())).findFirst()
                    .orElseThrow(() -> new AssertionError("no cloud kernel package behind linux-image-cloud-amd64:\n" + depends));
            Path downloads = Files.createDirectories(dir.resolve("deb"));
            new ProcessBuilder("apt-get", "download", pkg).directory(downloads.toFile()).inheritIO().start().waitFor(5, TimeUnit.MINUTES);
            try (Stream<Path> s = Files.list(downloads)) {
                deb = s.filter(p -> p.toString().endsWith(".deb")).findFirst().orElseThrow(() -> new AssertionError("apt-get download " + pkg + " failed"));
            }
        }
        Path image = Files.createDirectories(dir.resolve("image"));
        InitrdBootIT.run(Duration.ofMinutes(2), "dpkg-deb", "-x", deb.toString(), image.toString());
        // The package ships no modules.dep: its postinst runs depmod.
        InitrdBootIT.run(Duration.ofMinutes(2), "depmod", "-b", image.toString(), version(image));
        return image;
    }

}
