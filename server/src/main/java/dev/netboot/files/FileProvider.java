package dev.netboot.files;

/**
 * The seam between the boot-file protocols (TFTP, HTTP) and what they serve. The plain provider
 * serves a directory; later ones generate menus and initrds per client. Implementations may block
 * (build an initrd, read a database): the protocol adapters call them off their event loops.
 */
@FunctionalInterface
public interface FileProvider {

    Lookup open(FileRequest request);

    /** Tries {@code this} first, then {@code next} when this one has no such file. */
    default FileProvider orElse(FileProvider next) {
        return request -> {
            Lookup first = open(request);
            return first instanceof Lookup.NotFound ? next.open(request) : first;
        };
    }
}
