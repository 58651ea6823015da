package dev.netboot.storage;

import java.io.IOException;
import java.nio.file.Path;

/** Opens whatever a disk path holds: a copy-on-write clone or a plain file / block device. */
public final class BlockStores {

    private BlockStores() {}

    public static BlockStore open(Path path, boolean readOnly, boolean syncWrites) throws IOException {
        return open(path, readOnly, syncWrites, ReadTuning.DEFAULT);
    }

    /** As below; with {@code origin} (an LVM thin snapshot's image volume) a {@link SnapshotBlockStore} that can read the image's bytes. */
    public static BlockStore open(Path path, boolean readOnly, boolean syncWrites, ReadTuning tuning, java.util.Optional<Path> origin) throws IOException {
        return origin.isPresent() ? SnapshotBlockStore.open(path, origin.get(), readOnly, syncWrites, tuning) : open(path, readOnly, syncWrites, tuning);
    }

    public static BlockStore open(Path path, boolean readOnly, boolean syncWrites, ReadTuning tuning) throws IOException {
        return CowBlockStore.isClone(path) ? CowBlockStore.open(path, readOnly, syncWrites, tuning)
                : FileBlockStore.open(path, readOnly, syncWrites, tuning);
    }
}
