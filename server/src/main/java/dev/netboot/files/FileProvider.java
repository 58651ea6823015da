package dev.netboot.files;

import java.util.Optional;

/**
 * The seam between the boot-file protocols (TFTP, HTTP) and what they serve. The plain provider
 * serves a directory; later ones generate menus and initrds per client. Implementations may block
 * (build an initrd, read a database): the protocol adapters call {@link #open} off their event loops.
 */
@FunctionalInterface
public interface FileProvider {

    Lookup open(FileRequest request);

    /**
     * This provider's answer when it needs nothing but the local file system to give it (no database, no
     * template, no build), else empty: then only {@link #open} answers, off the event loop. TFTP asks this first
     * on the event loop that read the request, so a plain file's first block leaves in the same wake-up, as
     * dnsmasq's does; handing every request to another thread and back cost 2-10 ms per file on a host whose
     * CPUs the PCs share, over the ~24 files a GRUB boot fetches one after another (bench/boot.sh, bios-grub).
     * An answer given here is the one {@link #open} would give.
     */
    default Optional<Lookup> openAtOnce(FileRequest request) {
        return Optional.empty();
    }

    /** Tries {@code this} first, then {@code next} when this one has no such file. */
    default FileProvider orElse(FileProvider next) {
        return new FirstFound(this, next);
    }

    /** {@link #orElse}: the first provider's file, else the second's answer. */
    record FirstFound(FileProvider first, FileProvider next) implements FileProvider {
        @Override
        public Lookup open(FileRequest request) {
            Lookup found = first.open(request);
            return found instanceof Lookup.NotFound ? next.open(request) : found;
        }

        @Override
        public Optional<Lookup> openAtOnce(FileRequest request) {
            Optional<Lookup> found = first.openAtOnce(request);
            return found.isPresent() && found.get() instanceof Lookup.NotFound ? next.openAtOnce(request) : found;
        }
    }
}
