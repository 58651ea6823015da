package dev.netboot.testlib;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

/**
 * Remembers which process owns which lab name, in files under /run (a tmpfs, so it is wiped together with
 * network namespaces on reboot). Two reasons: creating the file atomically makes a lab name unique across
 * concurrently running JVMs, and {@link NetLab#removeStale()} can tell a crashed run's leftovers from the live
 * lab of a parallel build, which it must not tear down.
 */
final class LabRegistry {

    private static final Path DIR = Path.of("/run/netboot-netlab");

    private LabRegistry() {
    }

    /** Claims {@code lab} for this process; false if someone already holds that name. */
    static boolean claim(String lab) {
        try {
            Files.createDirectories(DIR);
            Files.writeString(Files.createFile(DIR.resolve(lab)), identity(ProcessHandle.current()));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record lab ownership in " + DIR, e);
        }
    }

    static void release(String lab) {
        try {
            Files.deleteIfExists(DIR.resolve(lab));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * True if the process that claimed {@code lab} still runs. Pid plus start time, because a bare pid may have
     * been reused by an unrelated process since the crash.
     */
    static boolean isLive(String lab) {
        String owner;
        try {
            owner = Files.readString(DIR.resolve(lab)).trim();
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long pid = Long.parseLong(owner.substring(0, owner.indexOf(' ')));
        return ProcessHandle.of(pid).map(LabRegistry::identity).filter(owner::equals).isPresent();
    }

    /** Names of all claimed labs, live or not. */
    static List<String> claimed() {
        if (!Files.isDirectory(DIR)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(f -> f.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String identity(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().orElse(Instant.EPOCH);
    }
}
