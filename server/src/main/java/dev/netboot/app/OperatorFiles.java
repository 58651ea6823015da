package dev.netboot.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * The files through which the CLI and a running server talk (requests, answers, status): each one appears whole or
 * not at all. A reader polls for a file's existence and then reads it, so a file created empty and filled afterwards
 * can be read in between; the switchover request was, under load, and the server took the empty nonce for a bad
 * request and dropped it, leaving the operator's command to time out.
 */
public final class OperatorFiles {

    private OperatorFiles() {}

    /** Writes {@code text} beside {@code file} and renames it into place (atomic within one directory). */
    public static void put(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
