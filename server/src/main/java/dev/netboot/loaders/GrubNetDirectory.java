package dev.netboot.loaders;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * BIOS GRUB's network image, made once with the distribution's own {@code grub-mknetdir} from the
 * grub-pc-bin modules ({@code grub/i386-pc/core.0} and its modules, prefix {@code /grub}), kept under
 * a folder of the data directory and made again when the modules change.
 */
public final class GrubNetDirectory {

    private static final Logger log = LoggerFactory.getLogger(GrubNetDirectory.class);

    private GrubNetDirectory() {}

    /**
     * The net directory (holding {@code grub/i386-pc/core.0}) under {@code cache}, made when missing or
     * older than the modules; empty when grub-pc-bin or grub-mknetdir is missing or the tool fails (logged).
     */
    public static Optional<Path> ensure(BootLoaders loaders, Path cache) {
        Optional<Path> tool = loaders.file(Loader.GRUB_MKNETDIR);
        Optional<Path> marker = loaders.file(Loader.GRUB_PC);
        if (tool.isEmpty() || marker.isEmpty()) return Optional.empty();
        Path modules = marker.get().getParent();
        Path core = cache.resolve("grub/i386-pc/core.0");
        try {
            Path moddep = modules.resolve("moddep.lst");
            if (Files.isRegularFile(core) && Files.isRegularFile(moddep)
                    && Files.getLastModifiedTime(core).compareTo(Files.getLastModifiedTime(moddep)) >= 0) return Optional.of(cache);
            Files.createDirectories(cache);
            List<String> cmd = new ArrayList<>(List.of(tool.get().toString(), "-d", modules.toString(),
                    "--net-directory=" + cache, "--subdir=grub"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            // A dpkg -x tree's grub-mknetdir needs that tree's own libraries (libefivar).
            Path libs = loaders.root().resolve("usr/lib/x86_64-linux-gnu");
            if (!loaders.root().toAbsolutePath().normalize().equals(Path.of("/")) && Files.isDirectory(libs))
                pb.environment().put("LD_LIBRARY_PATH", libs.toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(core)) {
                log.warn("BIOS GRUB: {} failed, BIOS PCs cannot get GRUB: {}", String.join(" ", cmd), out);
                return Optional.empty();
            }
            log.info("BIOS GRUB: made the network image {} with {}", core, tool.get());
            return Optional.of(cache);
        } catch (IOException e) {
            log.warn("BIOS GRUB: cannot make the network image under {}: {}", cache, e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
