package dev.netboot.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The durable replication state of one disk on one node, in a folder of its own
 * ({@code <dataDir>/replication/<disk>/}, so it works for LVM volumes too, which have no "next to"):
 * <ul>
 *   <li>{@code ids}: the generation identifiers (one text line, replaced atomically);</li>
 *   <li>{@code bitmap}: the dirty bitmap's words (little-endian);</li>
 *   <li>{@code activity-log}: two 4 KiB transaction blocks written alternately (a torn write leaves the other);</li>
 *   <li>{@code primary}: present while this node serves the disk as primary; found at start it means the
 *       process died as primary, so the identifiers get the crashed flag and the log's extents are marked dirty.</li>
 *   <li>{@code backing}: which file the rest describes (its identity, see {@link ReplicationNode.DiskSpec}): a
 *       disk replaced under the same name (a PC re-imaged at its AoE address) must not inherit the old file's
 *       identifiers, or two different copies would count as in sync.</li>
 *   <li>{@code replaced}: the identities of files this one replaced under the name, newest last (at most
 *       {@value #REPLACED_KEPT}): the primary publishes them, so a standby can tell a re-imaged disk (its copy
 *       mirrors a file the primary itself replaced) from a primary that merely shows other data.</li>
 *   <li>{@code primary-file}: on a standby, the identity of the primary's file its copy mirrors (see
 *       {@link FileSuccession}).</li>
 * </ul>
 * Every write here is made durable (fsync) before the method returns: the effects contract lets an
 * acknowledgement that follows rely on it.
 */
public final class ReplicaFiles {

    /** How many replaced files' identities {@code replaced} keeps (a standby down through more re-images than this stays unrelated). */
    static final int REPLACED_KEPT = 16;

    private final Path dir;
    private FileChannel activityLog;
    /** The number of the newest activity-log transaction written (loop thread only). */
    private long lastLogNumber = -1;
    /**
     * Guarded by this: the last snapshot number handed out, the newest whole bitmap written, the newest
     * in-place write ({@link #saveBitmapWords}), a background save skipped for it, whether closed, and the
     * words as the bitmap file holds them (null: no file yet).
     */
    private long bitmapSnapshots, bitmapWritten, lastPartial;
    private boolean closed, skippedSave;
    private long[] durable;

    public ReplicaFiles(Path dir) {
        this.dir = dir;
    }

    public Path dir() { return dir; }

    /** What a restart finds: identifiers, bitmap (the activity log's extents marked in after a crash as primary), activity log. */
    public record Loaded(GenerationIds ids, DirtyBitmap bitmap, ActivityLog activityLog, boolean crashedPrimary, boolean fresh, boolean replaced) {}

    /** The state as it was before {@code backing} was recorded, or for a store without a file identity (LVM). */
    public Loaded load(long diskBytes, GenerationIds newIds, int alSlots) throws IOException {
        return load(diskBytes, newIds, alSlots, "");
    }

    /**
     * Loads the state, or makes a fresh one: {@code newIds} for a disk seen for the first time (the
     * primary's copy holds data: a new current identifier; a standby's new copy: blank).
     */
    public Loaded load(long diskBytes, GenerationIds newIds, int alSlots, String backing) throws IOException {
        Files.createDirectories(dir);
        Path backingFile = dir.resolve("backing");
        String had = Files.exists(backingFile) ? Files.readString(backingFile, StandardCharsets.UTF_8).strip() : "";
        boolean replaced = !backing.isEmpty() && !had.isEmpty() && !had.equals(backing);
        if (replaced) {
            // Another file under this disk's name: everything here describes the old one.
            for (String f : List.of("ids", "bitmap", "activity-log", "primary")) Files.deleteIfExists(dir.resolve(f));
            syncDir();
            // Kept before the new backing is written: a crash in between replaces again and finds it here.
            List<String> history = new ArrayList<>(replacedBackings(dir));
            if (!history.contains(had)) history.add(had);
            while (history.size() > REPLACED_KEPT) history.removeFirst();
            replace("replaced", (String.join("\n", history) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (!backing.isEmpty() && !backing.equals(had)) replace("backing", (backing + "\n").getBytes(StandardCharsets.UTF_8));
        Path idsFile = dir.resolve("ids");
        boolean fresh = !Files.exists(idsFile);
        GenerationIds ids = fresh ? newIds : parse(Files.readString(idsFile));
        DirtyBitmap bitmap;
        Path bitmapFile = dir.resolve("bitmap");
        if (Files.exists(bitmapFile)) {
            try {
                byte[] stored = Files.readAllBytes(bitmapFile);
                bitmap = DirtyBitmap.fromBytes(diskBytes, DirtyBitmap.DEFAULT_REGION, ByteBuffer.wrap(stored));
                synchronized (this) {
                    durable = longs(stored);
                }
            } catch (IllegalArgumentException e) {
                // A bitmap that does not fit the disk cannot say what is clean: everything is dirty.
                bitmap = new DirtyBitmap(diskBytes, DirtyBitmap.DEFAULT_REGION);
                bitmap.markAll();
            }
        } else {
            bitmap = new DirtyBitmap(diskBytes, DirtyBitmap.DEFAULT_REGION);
        }
        activityLog = FileChannel.open(dir.resolve("activity-log"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        List<ByteBuffer> blocks = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            // The first format's two blocks (a log written before the areas), then the two areas.
            ByteBuffer b = ByteBuffer.allocate(ActivityLog.TRANSACTION_BYTES);
            activityLog.read(b, (long) i * ActivityLog.TRANSACTION_BYTES);
            blocks.add(b.flip());
            ByteBuffer a = ByteBuffer.allocate(ActivityLog.AREA_BYTES);
            activityLog.read(a, areaOffset(i));
            blocks.add(a.flip());
        }
        Optional<ActivityLog.Transaction> last = ActivityLog.newest(blocks);
        boolean crashed = Files.exists(dir.resolve("primary"));
        ActivityLog al = last.isPresent() && last.get().extentSize() == ActivityLog.DEFAULT_EXTENT
                ? ActivityLog.restore(last.get(), alSlots) : new ActivityLog(ActivityLog.DEFAULT_EXTENT, alSlots);
        if (crashed) {
            al.markIn(bitmap);
            ids = ids.withCrashedPrimary(true);
        }
        if (fresh || crashed) {
            saveIds(ids);
            saveBitmap(bitmap);
        }
        return new Loaded(ids, bitmap, al, crashed, fresh, replaced);
    }

    /** The folder of one disk's state under the node's state folder ({@code <dataDir>/replication/}). */
    public static Path dirOf(Path stateDir, String disk) {
        return stateDir.resolve(ReplicationNode.safeName(disk));
    }

    /** The identities of the files that {@code disk}'s current file replaced on this node, oldest first (empty when none). */
    public static List<String> replacedBackings(Path stateDir, String disk) throws IOException {
        return replacedBackings(dirOf(stateDir, disk));
    }

    private static List<String> replacedBackings(Path dir) throws IOException {
        Path f = dir.resolve("replaced");
        if (!Files.exists(f)) return List.of();
        return Files.readAllLines(f, StandardCharsets.UTF_8).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** Standby: the identity of the primary's file that this node's copy of {@code disk} mirrors, "" when none is recorded. */
    public static String mirroredPrimaryFile(Path stateDir, String disk) throws IOException {
        Path f = dirOf(stateDir, disk).resolve("primary-file");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : "";
    }

    /** Standby: records durably which primary file the copy of {@code disk} mirrors ("" forgets it: the copy is gone). */
    public static void recordMirroredPrimaryFile(Path stateDir, String disk, String identity) throws IOException {
        ReplicaFiles f = new ReplicaFiles(dirOf(stateDir, disk));
        Files.createDirectories(f.dir);
        if (identity.isEmpty()) {
            if (Files.deleteIfExists(f.dir.resolve("primary-file"))) f.syncDir();
        } else {
            f.replace("primary-file", (identity + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Drops the replica state of a copy that is discarded (its file deleted; the disk out of the data path
     * first): identifiers, bitmap, activity log, markers, and the records of which file it was. A new copy
     * made under the name starts blank.
     */
    public static void discard(Path stateDir, String disk) throws IOException {
        ReplicaFiles f = new ReplicaFiles(dirOf(stateDir, disk));
        if (!Files.isDirectory(f.dir)) return;
        for (String name : List.of("ids", "bitmap", "activity-log", "primary", "backing", "replaced", "primary-file"))
            Files.deleteIfExists(f.dir.resolve(name));
        f.syncDir();
    }

    public void saveIds(GenerationIds ids) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(Long.toUnsignedString(ids.current(), 16)).append(' ').append(Long.toUnsignedString(ids.bitmap(), 16)).append(' ');
        s.append(ids.crashedPrimary() ? "crashed" : "clean");
        for (long h : ids.history()) s.append(' ').append(Long.toUnsignedString(h, 16));
        replace("ids", s.append('\n').toString().getBytes(StandardCharsets.US_ASCII));
    }

    static GenerationIds parse(String text) throws IOException {
        String[] f = text.strip().split(" ");
        try {
            List<Long> history = new ArrayList<>();
            for (int i = 3; i < f.length; i++) history.add(Long.parseUnsignedLong(f[i], 16));
            return new GenerationIds(Long.parseUnsignedLong(f[0], 16), Long.parseUnsignedLong(f[1], 16), history, f[2].equals("crashed"));
        } catch (RuntimeException e) {
            throw new IOException("damaged generation identifiers '" + text.strip() + "': " + e.getMessage(), e);
        }
    }

    public void saveBitmap(DirtyBitmap bitmap) throws IOException {
        writeBitmap(snapshotBitmap(bitmap));
    }

    /** The bitmap's words at one moment, numbered in the order they were taken. */
    public record BitmapSnapshot(long number, byte[] words) {}

    /**
     * A copy of the bitmap now, for {@link #writeBitmap} on another thread: the bitmap belongs to the event loop,
     * and the write's fsync can take seconds while the disk drains other writes (it stalled a resync in bursts
     * when the loop did it). Take it on the thread that owns the bitmap.
     */
    public BitmapSnapshot snapshotBitmap(DirtyBitmap bitmap) {
        ByteBuffer b = bitmap.toBytes();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        synchronized (this) {
            return new BitmapSnapshot(++bitmapSnapshots, bytes);
        }
    }

    /**
     * Writes a snapshot durably, from any thread; one older than a snapshot already written is skipped, so a
     * slow background save can never put back bits that a later save (e.g. one an acknowledgement relies on)
     * had changed. False when skipped or after {@link #close}.
     */
    public synchronized boolean writeBitmap(BitmapSnapshot s) throws IOException {
        if (closed || s.number() <= bitmapWritten) return false;
        if (s.number() < lastPartial) {
            // Older than words written in place since: it would put back bits from before them.
            skippedSave = true;
            return false;
        }
        replace("bitmap", s.words());
        bitmapWritten = s.number();
        durable = longs(s.words());
        return true;
    }

    /** Whether a background save was skipped since the last call (a newer in-place write had landed): save again. */
    public synchronized boolean takeSkippedSave() {
        boolean b = skippedSave;
        skippedSave = false;
        return b;
    }

    /**
     * Makes the bitmap's words {@code [firstWord, firstWord + count)} durable, in place: one small write and an
     * fdatasync, not the whole bitmap (megabytes for a big disk) renamed into place. This is what an activity-log
     * eviction needs before its transaction (DRBD writes the bitmap pages of the evicted extents the same way).
     * Nothing is written when the file already holds those words (a disk in sync evicts clean extents for free).
     * Call it on the thread that owns the bitmap.
     */
    public void saveBitmapWords(DirtyBitmap bitmap, int firstWord, int count) throws IOException {
        saveBitmapWords(bitmap, List.of(firstWord), count);
    }

    /** {@link #saveBitmapWords(DirtyBitmap, int, int)} for several ranges of {@code count} words: one fdatasync for all. */
    public void saveBitmapWords(DirtyBitmap bitmap, List<Integer> firstWords, int count) throws IOException {
        synchronized (this) {
            if (closed) throw new IOException("the replica state of " + dir + " is closed");
            if (durable == null || durable.length != bitmap.wordCount()) {
                // No file yet (or one that did not fit): the whole bitmap, once.
                saveBitmap(bitmap);
                return;
            }
            FileChannel c = null;
            try {
                for (int firstWord : firstWords) {
                    int n = Math.min(count, bitmap.wordCount() - firstWord);
                    if (n <= 0) continue;
                    ByteBuffer words = bitmap.words(firstWord, n);
                    long[] now = longs(words.duplicate());
                    if (java.util.Arrays.equals(now, 0, n, durable, firstWord, firstWord + n)) continue;
                    if (c == null) c = FileChannel.open(dir.resolve("bitmap"), StandardOpenOption.WRITE);
                    long at = (long) firstWord * 8;
                    while (words.hasRemaining()) at += c.write(words, at);
                    System.arraycopy(now, 0, durable, firstWord, n);
                }
                if (c == null) return;
                c.force(false);
            } finally {
                if (c != null) c.close();
            }
            lastPartial = ++bitmapSnapshots;
        }
    }

    private static long[] longs(byte[] wordsLe) { return longs(ByteBuffer.wrap(wordsLe)); }

    private static long[] longs(ByteBuffer wordsLe) {
        long[] out = new long[wordsLe.remaining() / 8];
        wordsLe.order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    /**
     * Where area {@code i} of the activity-log file starts: after the first format's two blocks, which stay
     * as they were until the first transaction of the new format is durable (a torn first write then still
     * finds the old log).
     */
    private static long areaOffset(long i) {
        return 2L * ActivityLog.TRANSACTION_BYTES + i * ActivityLog.AREA_BYTES;
    }

    /** One transaction into the area its number selects, made durable. */
    public void saveActivityLog(ByteBuffer transaction) throws IOException {
        ActivityLog.Transaction t = ActivityLog.readTransaction(transaction.duplicate()).orElseThrow(() -> new IOException("invalid activity-log transaction"));
        // A newer one is durable already (a group committed after it): it names every extent with writes in
        // flight, and writing this one into the block of its parity could overwrite it.
        if (t.number() <= lastLogNumber) return;
        lastLogNumber = t.number();
        long at = areaOffset(t.number() & 1);
        ByteBuffer b = transaction.duplicate();
        while (b.hasRemaining()) at += activityLog.write(b, at);
        activityLog.force(false);
    }

    /** This node serves the disk as primary from now on (the marker makes a crash visible at the next start). */
    public void markPrimary(boolean primary) throws IOException {
        Path marker = dir.resolve("primary");
        if (primary) {
            if (!Files.exists(marker)) {
                Files.write(marker, new byte[0]);
                syncDir();
            }
        } else if (Files.deleteIfExists(marker)) {
            syncDir();
        }
    }

    public void close() throws IOException {
        synchronized (this) {
            closed = true;
        }
        if (activityLog != null) activityLog.close();
    }

    private void replace(String name, byte[] bytes) throws IOException {
        Path tmp = dir.resolve(name + ".tmp");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) c.write(b);
            c.force(true);
        }
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDir();
    }

    private void syncDir() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** A random identifier source for new disks and new current identifiers. */
    public static LongSupplier random() {
        java.security.SecureRandom r = new java.security.SecureRandom();
        return r::nextLong;
    }
}
