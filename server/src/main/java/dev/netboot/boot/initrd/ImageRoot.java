package dev.netboot.boot.initrd;

import dev.netboot.files.ConfinedPath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An image's root filesystem tree as the initrd builder reads it. Every path taken from the image
 * (a modules.dep line, the image's busybox, its /boot) is confined to the tree: an absolute path, a
 * {@code ..} or a symbolic link that leads out of it is refused with the reason, because whatever the
 * builder reads ends up in an initrd any client can fetch (a link to the host's /etc/shadow would too).
 * Links that stay inside the tree (Debian's {@code lib -> usr/lib}) are followed.
 */
final class ImageRoot {

    private final Path given;
    private final Path real;

    ImageRoot(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + " is not a root filesystem tree");
        this.given = root;
        this.real = root.toRealPath();
    }

    Path root() { return given; }

    /**
     * Where {@code pathInImage} (relative to the image's root) really is, links followed, or a refusal.
     * A path that does not exist is returned as it is (the caller says what is missing).
     * @throws OutsideImageException when the path, or a link on the way, leads out of the image
     */
    Path resolve(String pathInImage) throws IOException {
        return switch (ConfinedPath.of(pathInImage, false)) {
            case ConfinedPath.Outside o -> throw new OutsideImageException(given, pathInImage, o.reason());
            case ConfinedPath.Relative r -> {
                Path candidate = real.resolve(r.joined());
                // A missing file is checked through the deepest part of its path that exists.
                Path existing = candidate;
                while (!existing.equals(real) && !Files.exists(existing)) existing = existing.getParent();
                Path target = existing.toRealPath();
                if (!target.startsWith(real)) throw new OutsideImageException(given, r.joined(), "a symbolic link leads out of the image");
                yield existing == candidate ? target : candidate;
            }
        };
    }

    /** A path from an image that would be read outside of it; the message names the image path, not the host file. */
    static final class OutsideImageException extends IOException {
        OutsideImageException(Path image, String pathInImage, String reason) {
            super("image " + image + ": refused " + pathInImage + ": " + reason);
        }
    }
}
