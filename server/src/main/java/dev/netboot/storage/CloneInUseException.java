package dev.netboot.storage;

import java.io.IOException;

/** Another open store (a running server exporting it) holds the clone: wait for it to let go, or stop exporting it. */
public final class CloneInUseException extends IOException {
    public CloneInUseException(String message) { super(message); }
}
