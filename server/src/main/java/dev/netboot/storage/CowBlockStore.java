package dev.netboot.storage;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A copy-on-write clone: a read-only base image shared by many clients, plus this client's own
 * sparse overlay file of the same size, in which every chunk the client ever wrote lives at its
 * own offset. A sidecar {@code <overlay>.cow} holds a {@link CloneHeader} (the base's path and
 * identity) and the persistent {@link AllocationMap}; while the sidecar exists the overlay alone is
 * not the disk, so {@link #isClone} is decided by the sidecar's presence. {@link Flattener} fills the
 * overlay and deletes the sidecar, leaving a plain disk image at the same path.
 *
 * <p><b>Chunks of 4 KiB.</b> ext4, xfs and the page cache write 4 KiB blocks, so most guest writes
 * cover whole chunks and need no read of the base; the overlay's holes have the same granularity,
 * so a smaller chunk would save no space. Bigger chunks would make the map smaller (it is already
 * only 32 KiB per GiB) but turn each 4 KiB random write into a larger read-merge-write. The Linux
 * aoe driver at MTU 1500 sends 1 KiB per frame, so a 4 KiB block arrives as four writes: the first
 * copies the chunk up (base read, merge, one 4 KiB write) under the chunk's lock, the other three
 * find it allocated and go straight to the overlay.
 *
 * <p><b>Crash safety.</b> The sidecar holds two copies of the map. The <em>durable map</em> never
 * claims a chunk whose data is not on stable storage; the <em>live map</em> (after a
 * {@link LiveMapStamp} page) never claims a chunk whose data is not in the overlay, as far as the
 * kernel's page cache is concerned. Bits only go from 0 to 1, so it suffices to order their writes:
 * <ol>
 *   <li>write: the chunk's full data is written to the overlay (copy-up merged with the request),
 *       then the word of the live map that holds its bit is written to the sidecar (pwrite, no
 *       sync), and only then is the bit set in memory; reads and writes of that chunk go to the
 *       overlay from then on, and {@code write} returns. So a write that returned is in the kernel
 *       twice over (data, then the bit that points at it): it survives kill -9 of this process,
 *       which the Linux aoe driver needs, as it never sends FLUSH.
 *   <li>flush: take a snapshot of the map pages changed so far (every bit in it had its data written
 *       before), fdatasync the overlay, then write those pages to the durable map and fdatasync it.
 *       A write followed by a completed flush survives a power loss too.
 * </ol>
 * On open, the live map is believed only if its stamp names the current boot
 * ({@code /proc/sys/kernel/random/boot_id}): then the page cache it was written to never went away,
 * and its bits are ORed into the durable map's (and made durable by the next flush). After a power
 * loss or a reboot the stamp names another boot, the live map may hold bits whose data never reached
 * the disk (the kernel writes back the two files in any order), so only the durable map counts, and
 * writes after the last flush may be lost: their chunks read the base again (or the older overlay
 * data, for a chunk allocated earlier), never zeros or another chunk's data. A writable open then
 * rewrites the live map from the durable one before it stamps it with this boot. With
 * {@code syncWrites} the overlay is O_DSYNC and a new chunk's bit is written and synced to the
 * durable map before it is set in memory, so every write is durable when {@code write} returns and no
 * other thread can see (and write into) a chunk whose allocation is not yet durable. {@link #close}
 * flushes, as a clean shutdown would keep the page cache of a plain file.
 *
 * <p>Thread-safe like {@link FileBlockStore}: reads never lock; a write to an allocated chunk is a
 * plain pwrite; only the first write to a chunk takes that chunk's striped lock. An open clone
 * holds flock on its sidecar (exclusive when writable), so the server and {@code disk flatten}
 * cannot both modify it.
 */
public final class CowBlockStore implements ImageBacked {

    public static final int CHUNK_SIZE = 4096;
    private static final String SUFFIX = ".cow";
    private static final int STRIPES = 256;

    private final Path overlayPath;
    private final CloneHeader header;
    private final FileBlockStore base;
    private final PosixFile overlay;
    private final PosixFile sidecar;
    private final AllocationMap map;
    private final boolean readOnly;
    private final boolean syncWrites;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    /** Guards each word of the live map: its pwrite must carry every bit set in memory before it. */
    private final ReentrantLock[] liveWords = new ReentrantLock[STRIPES];
    private final long liveMapAt;
    private final ReentrantLock flushLock = new ReentrantLock();
    private final ThreadLocal<ByteBuffer> chunkBuffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK_SIZE));
    private final ThreadLocal<ByteBuffer> wordBuffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN));

    private CowBlockStore(Path overlayPath, CloneHeader header, FileBlockStore base, PosixFile overlay, PosixFile sidecar,
                          AllocationMap map, boolean readOnly, boolean syncWrites) {
        this.overlayPath = overlayPath;
        this.header = header;
        this.base = base;
        this.overlay = overlay;
        this.sidecar = sidecar;
        this.map = map;
        this.readOnly = readOnly;
        this.syncWrites = syncWrites;
        for (int i = 0; i < STRIPES; i++) stripes[i] = new ReentrantLock();
        for (int i = 0; i < STRIPES; i++) liveWords[i] = new ReentrantLock();
        this.liveMapAt = liveMapAt(map);
    }

    private static long stampAt(AllocationMap map) { return CloneHeader.BYTES + map.byteSize(); }
    private static long liveMapAt(AllocationMap map) { return stampAt(map) + LiveMapStamp.BYTES; }

    /** Where the header and allocation map of the clone whose overlay is {@code overlay} live. */
    public static Path sidecarOf(Path overlay) {
        return overlay.resolveSibling(overlay.getFileName() + SUFFIX);
    }

    /**
     * True when {@code path} is the overlay of a clone. Decided by the sidecar's presence alone (even
     * a damaged one): serving the overlay of a clone as a plain disk would show zeros wherever the
     * client never wrote.
     */
    public static boolean isClone(Path path) {
        return path.getFileName() != null && Files.exists(sidecarOf(path));
    }

    /**
     * Deletes a clone: the sidecar first, then the overlay. The other order could leave a sidecar
     * behind that would make the next image created at the same path look like a clone of the old
     * base. Refuses while the clone is open (flock).
     */
    public static void delete(Path overlay) throws IOException {
        Path side = sidecarOf(overlay);
        try (PosixFile sc = PosixFile.open(side, true, false)) {
            if (!sc.tryLock(true)) throw new CloneInUseException("clone " + overlay + " is in use by another process (exported by a running 'netboot serve'?)");
            Files.delete(side);
        }
        Files.deleteIfExists(overlay);
        syncDirectory(overlay.toAbsolutePath().getParent());
    }

    /**
     * Makes {@code overlay} a new clone of {@code base} and opens it (not syncWrites). Copies no data:
     * a sparse overlay and an empty map, so it takes milliseconds whatever the size. Refuses to
     * overwrite anything, and refuses a base that is itself a clone (flatten that one first).
     */
    public static CowBlockStore create(Path base, Path overlay) throws IOException {
        Path b = base.toAbsolutePath().normalize();
        Path o = overlay.toAbsolutePath().normalize();
        if (isClone(b)) throw new IOException(b + " is itself a clone; flatten it first ('netboot disk flatten') or clone its base");
        if (!Files.exists(b)) throw new NoSuchFileException(b.toString(), null, "base image not found");
        long size;
        try (FileBlockStore probe = FileBlockStore.open(b, true, false)) {
            size = probe.size();
        }
        CloneHeader header = new CloneHeader(CHUNK_SIZE, size, b, CloneHeader.BaseIdentity.of(b));
        Path side = sidecarOf(o);
        if (Files.exists(side)) throw new IOException(side + " exists already");
        Files.createDirectories(o.getParent());
        // The overlay first (CREATE_NEW refuses to overwrite); the sidecar appears atomically by
        // rename afterwards, so a crash in between leaves an unreferenced all-zero file, never a
        // clone with a half-written header.
        Files.createFile(o);
        try (RandomAccessFile raf = new RandomAccessFile(o.toFile(), "rw")) {
            raf.setLength(size); // ftruncate: a hole of the full size, no blocks allocated
            raf.getFD().sync();
        }
        Path tmp = side.resolveSibling(side.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(header.encode()), 0);
            ch.truncate(CloneHeader.BYTES);
            // the empty map is a hole: all zero bits, no blocks
            ch.write(ByteBuffer.allocate(1), CloneHeader.BYTES + new AllocationMap(header.chunks()).byteSize() - 1);
            ch.force(true);
        }
        try {
            Files.move(tmp, side, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot create " + side + " atomically: " + e.getMessage(), e);
        }
        syncDirectory(o.getParent());
        return open(o, false, false);
    }

    public static CowBlockStore open(Path overlay, boolean syncWrites) throws IOException {
        return open(overlay, false, syncWrites);
    }

    /**
     * Opens a clone. Fails with a message naming the cause when the sidecar is damaged, another
     * process has the clone open, or the base is missing or has changed since the clone was made (its
     * unwritten chunks would silently show the new base's data).
     */
    public static CowBlockStore open(Path overlay, boolean readOnly, boolean syncWrites) throws IOException {
        return open(overlay, readOnly, syncWrites, ReadTuning.DEFAULT);
    }

    /** @param tuning how reads of the base are served */
    public static CowBlockStore open(Path overlay, boolean readOnly, boolean syncWrites, ReadTuning tuning) throws IOException {
        return open(overlay, readOnly, syncWrites, LiveMapStamp.currentBootId(), tuning);
    }

    /** {@code bootId}: this boot, as the kernel names it; a test passes another to play a power loss. */
    static CowBlockStore open(Path overlay, boolean readOnly, boolean syncWrites, Optional<String> bootId) throws IOException {
        return open(overlay, readOnly, syncWrites, bootId, ReadTuning.DEFAULT);
    }

    private static CowBlockStore open(Path overlay, boolean readOnly, boolean syncWrites, Optional<String> bootId, ReadTuning tuning) throws IOException {
        Path o = overlay.toAbsolutePath().normalize();
        Path side = sidecarOf(o);
        if (!Files.exists(side)) throw new IOException(o + " is not a clone (no " + side.getFileName() + ")");
        PosixFile sc = PosixFile.open(side, readOnly, false);
        FileBlockStore base = null;
        PosixFile ov = null;
        try {
            if (!sc.tryLock(!readOnly)) throw new CloneInUseException("clone " + o + " is in use by another process (exported by a running 'netboot serve'?)");
            ByteBuffer hb = ByteBuffer.allocateDirect(CloneHeader.BYTES);
            if (!sc.readFully(0, hb)) throw new IOException(side + " is damaged (shorter than its header)");
            byte[] bytes = new byte[CloneHeader.BYTES];
            hb.flip().get(bytes);
            CloneHeader header = CloneHeader.decode(bytes, side);
            checkBase(header, o);
            base = FileBlockStore.open(header.base(), true, false, tuning);
            if (base.size() != header.diskSize()) throw new IOException("base " + header.base() + " of clone " + o + " has " + base.size() + " bytes, the clone " + header.diskSize());
            ov = PosixFile.open(o, readOnly, syncWrites && !readOnly);
            if (ov.size() != header.diskSize()) throw new IOException("overlay " + o + " has " + ov.size() + " bytes, expected " + header.diskSize() + " (truncated?)");
            long chunks = header.chunks();
            ByteBuffer pages = ByteBuffer.allocateDirect(Math.toIntExact(new AllocationMap(chunks).byteSize()));
            if (!sc.readFully(CloneHeader.BYTES, pages)) throw new IOException(side + " is damaged (allocation map truncated)");
            AllocationMap map = AllocationMap.load(chunks, pages.flip());
            adoptLiveMap(sc, map, readOnly, bootId);
            return new CowBlockStore(o, header, base, ov, sc, map, readOnly, syncWrites);
        } catch (IOException | RuntimeException e) {
            if (ov != null) ov.close();
            if (base != null) base.close();
            sc.close();
            throw e;
        }
    }

    /**
     * Same boot as the live map's stamp: its bits join the map (they are dirty now, the next flush
     * makes them durable). Then, writable, the live map becomes a full copy of the map (which also
     * allocates its blocks, so a full disk cannot fail a later bit's write) and only after that is
     * stamped with this boot: a crash in between leaves the old stamp, and so the durable map alone.
     */
    private static void adoptLiveMap(PosixFile sc, AllocationMap map, boolean readOnly, Optional<String> bootId) throws IOException {
        ByteBuffer stampPage = ByteBuffer.allocateDirect(LiveMapStamp.BYTES);
        Optional<LiveMapStamp> stamp = Optional.empty();
        if (sc.readFully(stampAt(map), stampPage)) {
            byte[] bytes = new byte[LiveMapStamp.BYTES];
            stampPage.flip().get(bytes);
            stamp = LiveMapStamp.decode(bytes);
        }
        if (bootId.isPresent() && stamp.isPresent() && stamp.get().bootId().equals(bootId.get())) {
            ByteBuffer live = ByteBuffer.allocateDirect(Math.toIntExact(map.byteSize()));
            if (sc.readFully(liveMapAt(map), live)) map.merge(live.flip());
        }
        if (readOnly || bootId.isEmpty()) return;
        sc.writeFully(liveMapAt(map), map.allPages());
        sc.writeFully(stampAt(map), new LiveMapStamp(bootId.get()).encode());
    }

    private static void checkBase(CloneHeader header, Path overlay) throws IOException {
        CloneHeader.BaseIdentity now;
        try {
            now = CloneHeader.BaseIdentity.of(header.base());
        } catch (NoSuchFileException e) {
            throw new IOException("base image " + header.base() + " of clone " + overlay + " is missing");
        }
        List<String> diff = header.baseIdentity().differencesTo(now);
        if (!diff.isEmpty())
            throw new IOException("base image " + header.base() + " changed since clone " + overlay + " was made (" + String.join(", ", diff)
                    + "); refusing to open it, its unwritten parts would show the new base. Restore the original base.");
    }

    public Path base() { return header.base(); }
    public Path overlay() { return overlayPath; }
    public int chunkSize() { return header.chunkSize(); }

    /** Bytes of the disk that live in the overlay (written by the client or flattened). */
    public long allocatedBytes() {
        long n = map.allocatedChunks();
        long bytes = n * header.chunkSize();
        // the last chunk may be short
        if (map.isAllocated(map.chunks() - 1)) bytes -= (long) header.chunkSize() * map.chunks() - header.diskSize();
        return bytes;
    }

    @Override
    public long size() { return header.diskSize(); }

    /** Whether any byte of the range is the clone's own (in the overlay); false: all of it still reads from the image. */
    public boolean ownsAny(long offset, int length) throws IOException {
        checkBounds(offset, length);
        if (length == 0) return false;
        long first = offset / CHUNK_SIZE;
        int chunks = (int) ((offset + length - 1) / CHUNK_SIZE - first + 1);
        return map.isAllocated(first) || map.run(first, chunks, false) < chunks;
    }

    /** The image's bytes of the range, whatever the clone wrote over them. */
    public void readBase(long offset, ByteBuffer dst) throws IOException {
        checkBounds(offset, dst.remaining());
        base.read(offset, dst);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        checkBounds(offset, length);
        long pos = offset, end = offset + length;
        while (pos < end) {
            // one pread per run of chunks in the same place
            long chunk = pos / CHUNK_SIZE;
            long lastChunk = (end - 1) / CHUNK_SIZE;
            boolean inOverlay = map.isAllocated(chunk);
            int run = map.run(chunk, (int) Math.min(Integer.MAX_VALUE, lastChunk - chunk + 1), inOverlay);
            long runEnd = Math.min(end, (chunk + run) * CHUNK_SIZE);
            int n = (int) (runEnd - pos);
            ByteBuffer part = dst.slice(dst.position(), n);
            if (inOverlay) {
                if (!overlay.readFully(pos, part)) throw new IOException(overlayPath + " ends before byte " + runEnd + " (truncated?)");
            } else {
                base.read(pos, part);
            }
            dst.position(dst.position() + n);
            pos = runEnd;
        }
    }

    /**
     * Data the clone still reads from its image is pinned in the image's mapping (see
     * {@link FileBlockStore#pin}); a range with any chunk of the clone's own is read instead.
     */
    @Override
    public Pinned pin(long offset, int length) throws IOException {
        checkBounds(offset, length);
        if (length == 0) return null;
        long first = offset / CHUNK_SIZE;
        int chunks = (int) ((offset + length - 1) / CHUNK_SIZE - first + 1);
        if (map.isAllocated(first) || map.run(first, chunks, false) < chunks) return null;
        return base.pin(offset, length);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) throw new IOException("clone " + overlayPath + " is open read-only");
        int length = src.remaining();
        checkBounds(offset, length);
        long pos = offset, end = offset + length;
        while (pos < end) {
            long chunk = pos / CHUNK_SIZE;
            long chunkEnd = Math.min((chunk + 1) * CHUNK_SIZE, header.diskSize());
            if (map.isAllocated(chunk)) {
                long lastChunk = (end - 1) / CHUNK_SIZE;
                int run = map.run(chunk, (int) Math.min(Integer.MAX_VALUE, lastChunk - chunk + 1), true);
                long runEnd = Math.min(end, (chunk + run) * CHUNK_SIZE);
                writeOverlay(pos, src, (int) (runEnd - pos));
                pos = runEnd;
            } else {
                long upTo = Math.min(end, chunkEnd);
                firstWrite(chunk, pos, src, (int) (upTo - pos));
                pos = upTo;
            }
        }
    }

    private void writeOverlay(long pos, ByteBuffer src, int n) throws IOException {
        overlay.writeFully(pos, src.slice(src.position(), n));
        src.position(src.position() + n);
    }

    /** The first write into a chunk: copy-up (unless it covers the whole chunk), then allocate. */
    private void firstWrite(long chunk, long pos, ByteBuffer src, int n) throws IOException {
        ReentrantLock lock = stripes[(int) (chunk % STRIPES)];
        lock.lock();
        try {
            if (map.isAllocated(chunk)) { // another writer got here first
                writeOverlay(pos, src, n);
                return;
            }
            long chunkStart = chunk * CHUNK_SIZE;
            int chunkLength = (int) (Math.min(chunkStart + CHUNK_SIZE, header.diskSize()) - chunkStart);
            if (pos == chunkStart && n == chunkLength) {
                writeOverlay(pos, src, n);
            } else {
                ByteBuffer merged = chunkBuffer.get().clear().limit(chunkLength);
                base.read(chunkStart, merged);
                merged.put((int) (pos - chunkStart), src, src.position(), n);
                overlay.writeFully(chunkStart, merged.flip());
                src.position(src.position() + n);
            }
            if (syncWrites) allocateDurably(chunk);
            else allocateLive(chunk);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The data is in the overlay (page cache); the live map's word with the new bit goes to the
     * sidecar before the bit is visible here, so neither this write nor another thread's write into
     * the same chunk can be acknowledged while a crash would still forget the chunk.
     */
    private void allocateLive(long chunk) throws IOException {
        ReentrantLock lock = liveWords[(int) ((chunk >>> 6) % STRIPES)];
        lock.lock();
        try {
            ByteBuffer word = wordBuffer.get().clear();
            word.putLong(0, map.wordWith(chunk));
            sidecar.writeFully(liveMapAt + AllocationMap.wordOffset(chunk), word);
            map.markAllocated(chunk);
        } finally {
            lock.unlock();
        }
    }

    /** syncWrites: the data is on disk (O_DSYNC); persist the bit before anyone can see it. */
    private void allocateDurably(long chunk) throws IOException {
        flushLock.lock();
        try {
            AllocationMap.Page page = map.pageWith(chunk);
            sidecar.writeFully(CloneHeader.BYTES + page.offsetInMap(), page.bytes());
            sidecar.fdatasync();
            map.markAllocated(chunk);
        } finally {
            flushLock.unlock();
        }
    }

    @Override
    public void flush() throws IOException {
        if (readOnly) return;
        flushLock.lock();
        try {
            List<AllocationMap.Page> pages = map.takeDirty();
            try {
                overlay.fdatasync(); // data before the map that points at it
                if (pages.isEmpty()) return;
                for (AllocationMap.Page p : pages) sidecar.writeFully(CloneHeader.BYTES + p.offsetInMap(), p.bytes().duplicate());
                sidecar.fdatasync();
            } catch (IOException | RuntimeException e) {
                map.redirty(pages);
                throw e;
            }
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * Flattener's step: copies the still unallocated chunks among {@code count} chunks from
     * {@code first} from the base into the overlay and allocates them. A chunk that is zero in the
     * base and a hole in the overlay needs no write (the hole reads as zeros), so flattening keeps
     * a sparse image sparse. The overlay must be checked for a hole, not assumed to be one: an
     * unflushed copy-up before a crash may have left data there that the map does not claim. Needs
     * the clone opened exclusively (flock) and no concurrent writers.
     */
    void copyUpFromBase(long first, int count, ByteBuffer scratch) throws IOException {
        long start = first * CHUNK_SIZE;
        long end = Math.min((first + count) * CHUNK_SIZE, header.diskSize());
        long baseData = base.nextData(start);
        boolean baseHoles = baseData < 0 || baseData >= end;
        scratch.clear().limit((int) (end - start));
        if (baseHoles) {
            // nothing to read; zeros only if some chunk needs writing (an overlay with stale data)
            scratch.limit(0);
        } else {
            base.read(start, scratch);
            scratch.flip();
        }
        long overlayData = overlay.nextData(start); // next stretch of data in the overlay, refreshed as we pass it
        long pendingFrom = -1; // start of a stretch of chunks to write in one pwrite
        for (long chunk = first; chunk * CHUNK_SIZE < end; chunk++) {
            long from = chunk * CHUNK_SIZE, to = Math.min(from + CHUNK_SIZE, end);
            boolean write = false;
            if (!map.isAllocated(chunk)) {
                if (overlayData >= 0 && overlayData < from) overlayData = overlay.nextData(from);
                boolean overlayHole = overlayData < 0 || overlayData >= to;
                boolean baseZero = baseHoles || isZero(scratch, (int) (from - start), (int) (to - from));
                write = !(overlayHole && baseZero);
            }
            if (write && pendingFrom < 0) pendingFrom = from;
            if (!write && pendingFrom >= 0) {
                writeFromScratch(scratch, start, pendingFrom, from);
                pendingFrom = -1;
            }
        }
        if (pendingFrom >= 0) writeFromScratch(scratch, start, pendingFrom, end);
        for (long chunk = first; chunk * CHUNK_SIZE < end; chunk++) map.markAllocated(chunk);
    }

    private void writeFromScratch(ByteBuffer scratch, long scratchAt, long from, long to) throws IOException {
        int length = (int) (to - scratchAt);
        if (scratch.limit() < length) { // the base was a hole here
            int filled = scratch.limit();
            scratch.limit(length);
            for (int i = filled; i < length; i++) scratch.put(i, (byte) 0);
        }
        overlay.writeFully(from, scratch.slice((int) (from - scratchAt), (int) (to - from)));
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK_SIZE).asReadOnlyBuffer();

    private static boolean isZero(ByteBuffer b, int at, int length) {
        return b.slice(at, length).mismatch(ZEROS.slice(0, length)) < 0;
    }

    /** Package-private for Flattener. */
    AllocationMap map() { return map; }
    Path sidecar() { return sidecarOf(overlayPath); }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            overlay.close();
            base.close();
            sidecar.close(); // releases the flock
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public String toString() { return overlayPath + " (clone of " + header.base() + ")"; }
}
