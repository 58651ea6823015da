package dev.netboot.replication;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The extents of a disk a primary may be writing right now (DRBD's activity log). Before a write to
 * an extent that is not in the log goes ahead, the new set is made durable (one small transaction,
 * {@link #transaction}); an extent leaves the log only when no write to it is in flight. So after a
 * primary crash, a write that reached one copy and not the other lies in one of the logged extents,
 * and only those ({@link #extents()}) need comparing, not the disk.
 *
 * <p>Least recently used extents leave first, so a client's working set stays in the log and costs no
 * transactions. If every slot has writes in flight, {@link #begin} says no and the caller holds the
 * write until one completes (64 writes in flight per client can pin at most 128 of the 256 slots a small
 * disk gets).
 *
 * <p>How many slots: enough to cover the whole disk ({@link #slotsFor}, at least 256, at most
 * {@link #MAX_SLOTS}, 32 GiB of 4 MiB extents). With 256 slots (1 GiB) random writes across an 8 GiB disk
 * missed the log on 7 of 8 writes and each miss waited for a transaction: a primary alone did 0.23× the
 * IOPS of an unreplicated target (bench/replication.sh). DRBD's answer is the same knob (al-extents, up to
 * 65534). A large log would make the resync after a primary crash large, since an extent used to leave
 * only when evicted: so extents no write touched between two {@link #tidy} calls (the node calls it every
 * 30 s) leave as well, and after a crash only what was written in the last minute or so is resynced.
 */
public final class ActivityLog {

    public static final long DEFAULT_EXTENT = 4L << 20;
    /** The fewest slots a disk gets (a disk of up to 1 GiB). */
    public static final int DEFAULT_SLOTS = 256;
    /** The first format's block: one 4 KiB block of 8-byte extent numbers (still read, never written). */
    public static final int TRANSACTION_BYTES = 4096;
    /**
     * Room for one transaction of the current format: extents as 4-byte numbers, in as many 4 KiB blocks as
     * the log needs (one for up to 1017 extents). A torn write of several blocks fails the CRC, and the
     * other area still holds the previous transaction.
     */
    public static final int AREA_BYTES = 32 << 10;
    private static final int MAGIC = 0x4E42414C;  // "NBAL": the first format
    private static final int MAGIC2 = 0x4E424132; // "NBA2"
    private static final int HEADER = 4 + 8 + 8 + 4 + 4;
    public static final int MAX_SLOTS = (AREA_BYTES - HEADER) / 4;

    /** Slots to cover a disk of {@code diskBytes} with {@link #DEFAULT_EXTENT} extents, within 256..{@link #MAX_SLOTS}. */
    public static int slotsFor(long diskBytes) {
        long extents = (diskBytes + DEFAULT_EXTENT - 1) / DEFAULT_EXTENT;
        return (int) Math.clamp(extents, DEFAULT_SLOTS, MAX_SLOTS);
    }

    /** What {@link #begin} changed: extents that entered the log, and those that left to make room. */
    public record Admission(List<Long> added, List<Long> evicted) {
        public Admission { added = List.copyOf(added); evicted = List.copyOf(evicted); }
        /** Whether a transaction must be durable before the write goes ahead. */
        public boolean needsTransaction() { return !added.isEmpty(); }
    }

    /** A decoded transaction: its number (the larger wins on restore) and the extents it lists. */
    public record Transaction(long number, long extentSize, List<Long> extents) {
        public Transaction { extents = List.copyOf(extents); }
    }

    private final long extentSize;
    private final int slots;
    private long restoredNumber;
    /**
     * Extent → writes in flight, least recently used first. Insertion order, moved by hand on use
     * (remove + put), so that looking at the log never reorders it.
     */
    private final LinkedHashMap<Long, Integer> hot;
    /** Extents a write began in since the last {@link #tidy}. */
    private final HashSet<Long> touched = new HashSet<>();

    public ActivityLog(long extentSize, int slots) {
        if (extentSize < 4096 || Long.bitCount(extentSize) != 1) throw new IllegalArgumentException("extent size " + extentSize + " is not a power of two ≥ 4096");
        if (slots < 2 || slots > MAX_SLOTS) throw new IllegalArgumentException(slots + " slots, must be 2.." + MAX_SLOTS);
        this.extentSize = extentSize;
        this.slots = slots;
        this.hot = new LinkedHashMap<>(slots * 2);
    }

    public static ActivityLog restore(Transaction t, int slots) {
        ActivityLog log = new ActivityLog(t.extentSize(), slots);
        // Every extent, also beyond this run's slots (a log stored with more): begin() evicts the surplus first.
        for (long e : t.extents()) log.hot.put(e, 0);
        log.restoredNumber = t.number();
        return log;
    }

    /** The number of the transaction this log was restored from (0 for a new log): the next run's numbers must exceed it. */
    public long restoredNumber() { return restoredNumber; }

    public long extentSize() { return extentSize; }
    public int slots() { return slots; }

    /**
     * Admits a write of {@code length} bytes at {@code offset}: every extent it touches is in the log and
     * counts one more write in flight. Empty (and nothing changed) when there are not enough slots
     * without writes in flight to make room.
     */
    public Optional<Admission> begin(long offset, long length) {
        long first = offset / extentSize, last = (offset + Math.max(length, 1) - 1) / extentSize;
        int missing = 0;
        for (long e = first; e <= last; e++) if (!hot.containsKey(e)) missing++;
        int free = slots - hot.size();   // below 0 after a restore of a larger log
        List<Long> evicted = new ArrayList<>();
        if (missing > free) {
            for (Map.Entry<Long, Integer> entry : hot.entrySet()) {
                if (evicted.size() == missing - free) break;
                long e = entry.getKey();
                if (entry.getValue() == 0 && (e < first || e > last)) evicted.add(e);
            }
            if (evicted.size() < missing - free) return Optional.empty();
        }
        for (long e : evicted) hot.remove(e);
        List<Long> added = new ArrayList<>();
        for (long e = first; e <= last; e++) {
            Integer n = hot.remove(e);   // re-inserted below: now the most recently used
            if (n == null) added.add(e);
            hot.put(e, n == null ? 1 : n + 1);
            touched.add(e);
        }
        return Optional.of(new Admission(added, evicted));
    }

    /** The write admitted by {@link #begin} with the same range completed (on both copies, or marked dirty). */
    public void end(long offset, long length) {
        long first = offset / extentSize, last = (offset + Math.max(length, 1) - 1) / extentSize;
        for (long e = first; e <= last; e++) {
            Integer n = hot.get(e);
            if (n == null || n == 0) throw new IllegalStateException("end of a write to extent " + e + " that has none in flight");
            hot.put(e, n - 1);
        }
    }

    /**
     * Takes out the extents with no write in flight that no write began in since the last call, and returns
     * them (least recently used first). Non-empty means the log changed: the caller makes a transaction of it
     * durable, after the bits of those extents' dirty regions, as for an eviction.
     */
    public List<Long> tidy() {
        List<Long> idle = new ArrayList<>();
        for (Map.Entry<Long, Integer> entry : hot.entrySet())
            if (entry.getValue() == 0 && !touched.contains(entry.getKey())) idle.add(entry.getKey());
        for (long e : idle) hot.remove(e);
        touched.clear();
        return idle;
    }

    public boolean contains(long extent) { return hot.containsKey(extent); }

    public int inFlight(long extent) { return hot.getOrDefault(extent, 0); }

    /** The logged extents, least recently used first. */
    public List<Long> extents() { return List.copyOf(hot.keySet()); }

    /** Marks every logged extent in {@code bitmap}: what a node does on restart when it crashed as primary. */
    public void markIn(DirtyBitmap bitmap) {
        for (long e : hot.keySet()) {
            long start = e * extentSize;
            if (start >= bitmap.diskBytes()) continue;
            bitmap.markBytes(start, Math.min(extentSize, bitmap.diskBytes() - start));
        }
    }

    /**
     * The log as whole 4 KiB blocks (at most {@link #AREA_BYTES}): magic, number, extent size, count, extents
     * (4 bytes each), CRC32C of all before it. The adapter alternates between two areas, so a torn write
     * leaves the previous transaction valid.
     */
    public ByteBuffer transaction(long number) {
        int used = HEADER + 4 * hot.size();
        ByteBuffer b = ByteBuffer.allocate((used + 4095) / 4096 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC2).putLong(number).putLong(extentSize).putInt(hot.size());
        for (long e : hot.keySet()) b.putInt((int) e);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.clear();
    }

    /**
     * A stored block or area (either format), or empty if it is not a complete transaction (never written,
     * torn, damaged).
     */
    public static Optional<Transaction> readTransaction(ByteBuffer block) {
        if (block.remaining() < TRANSACTION_BYTES) return Optional.empty();
        ByteBuffer b = block.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        int magic = b.getInt();
        if (magic != MAGIC && magic != MAGIC2) return Optional.empty();
        int width = magic == MAGIC ? 8 : 4;
        long number = b.getLong();
        long extent = b.getLong();
        int count = b.getInt();
        if (count < 0 || (long) HEADER + (long) count * width > Math.min(b.limit() - base, magic == MAGIC ? TRANSACTION_BYTES : AREA_BYTES)) return Optional.empty();
        List<Long> extents = new ArrayList<>(count);
        for (int i = 0; i < count; i++) extents.add(width == 8 ? b.getLong() : Integer.toUnsignedLong(b.getInt()));
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(base).limit(b.position()));
        if (b.getInt() != (int) crc.getValue()) return Optional.empty();
        if (extent < 4096 || Long.bitCount(extent) != 1) return Optional.empty();
        return Optional.of(new Transaction(number, extent, extents));
    }

    /** Of the stored blocks, the valid transaction with the highest number. */
    public static Optional<Transaction> newest(List<ByteBuffer> blocks) {
        Transaction best = null;
        for (ByteBuffer block : blocks) {
            Optional<Transaction> t = readTransaction(block);
            if (t.isPresent() && (best == null || t.get().number() > best.number())) best = t.get();
        }
        return Optional.ofNullable(best);
    }

    int size() { return hot.size(); }

    @Override public String toString() {
        StringBuilder s = new StringBuilder("ActivityLog[");
        for (Iterator<Map.Entry<Long, Integer>> it = hot.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Integer> e = it.next();
            s.append(e.getKey()).append('×').append(e.getValue()).append(it.hasNext() ? " " : "");
        }
        return s.append(']').toString();
    }
}
