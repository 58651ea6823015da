package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * An LVM thin snapshot opened with its origin (the image's volume), read-only beside it. I/O goes to the snapshot's
 * own device; the origin only answers what the image's bytes of a range are. The pool's mapping (which blocks the
 * snapshot still shares) is not visible from here, so {@link #ownsAny} compares the data: a range reads as the
 * image's or it does not.
 */
public final class SnapshotBlockStore implements ImageBacked {

    private final FileBlockStore volume;
    private final FileBlockStore origin;

    private SnapshotBlockStore(FileBlockStore volume, FileBlockStore origin) {
        this.volume = volume;
        this.origin = origin;
    }

    public static SnapshotBlockStore open(Path volume, Path origin, boolean readOnly, boolean syncWrites, ReadTuning tuning) throws IOException {
        FileBlockStore v = FileBlockStore.open(volume, readOnly, syncWrites, tuning);
        try {
            FileBlockStore o = FileBlockStore.open(origin, true, false);
            if (o.size() != v.size()) {
                o.close();
                throw new IOException(volume + " has " + v.size() + " bytes, its origin " + origin + " " + o.size() + ": not a snapshot of it");
            }
            return new SnapshotBlockStore(v, o);
        } catch (IOException | RuntimeException e) {
            v.close();
            throw e;
        }
    }

    public Path path() { return volume.path(); }

    @Override
    public boolean ownsAny(long offset, int length) throws IOException {
        checkBounds(offset, length);
        ByteBuffer mine = ByteBuffer.allocate(length);
        ByteBuffer base = ByteBuffer.allocate(length);
        volume.read(offset, mine);
        origin.read(offset, base);
        return !mine.flip().equals(base.flip());
    }

    @Override
    public void readBase(long offset, ByteBuffer dst) throws IOException {
        checkBounds(offset, dst.remaining());
        origin.read(offset, dst);
    }

    @Override public long size() { return volume.size(); }
    @Override public void read(long offset, ByteBuffer dst) throws IOException { volume.read(offset, dst); }
    @Override public void write(long offset, ByteBuffer src) throws IOException { volume.write(offset, src); }
    @Override public Pinned pin(long offset, int length) throws IOException { return volume.pin(offset, length); }
    @Override public void flush() throws IOException { volume.flush(); }

    @Override
    public void close() throws IOException {
        try {
            volume.close();
        } finally {
            origin.close();
        }
    }
}
