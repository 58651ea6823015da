package dev.netboot.replication;

import java.util.Arrays;

/**
 * The writes the peer acknowledged but has not yet made durable: its {@code WriteAck} means the data was
 * written (pwrite), not synced; only a flush the peer answered makes them survive its machine's crash. This
 * is the part of DRBD's transfer log a lost connection needs: when the link goes before a flush covered
 * them, the peer may have lost them with its page cache, so they are marked for the resync
 * ({@code tl_clear} setting them out of sync in DRBD). Without it a standby whose machine crashed would come
 * back "up to date" under the same identifiers while missing writes the clients were told are replicated.
 *
 * <p>Entries are (highest sequence number, offset, length) in acknowledgement order; a write that continues
 * the last entry joins it (sequential writes stay one entry). A flush sent when the next sequence number was
 * {@code bound} covers every write numbered below it (sent before it, so written on the peer before its
 * fdatasync): {@link #durableBelow} drops those. A merged entry stays until its newest write is covered,
 * which only over-marks.
 */
final class UnflushedAtPeer {

    private long[] seqs = new long[64], offsets = new long[64], lengths = new long[64];
    private int size;

    void add(long seq, long offset, long length) {
        if (size > 0 && offsets[size - 1] + lengths[size - 1] == offset) {
            lengths[size - 1] += length;
            seqs[size - 1] = Math.max(seqs[size - 1], seq);
            return;
        }
        if (size == seqs.length) {
            seqs = Arrays.copyOf(seqs, size * 2);
            offsets = Arrays.copyOf(offsets, size * 2);
            lengths = Arrays.copyOf(lengths, size * 2);
        }
        seqs[size] = seq;
        offsets[size] = offset;
        lengths[size] = length;
        size++;
    }

    /** A flush the peer answered covered every write numbered below {@code bound}. */
    void durableBelow(long bound) {
        int kept = 0;
        for (int i = 0; i < size; i++) {
            if (seqs[i] >= bound) {
                seqs[kept] = seqs[i];
                offsets[kept] = offsets[i];
                lengths[kept] = lengths[i];
                kept++;
            }
        }
        size = kept;
        // A burst can grow the arrays far; once drained they shrink back, so an idle disk holds little.
        if (size == 0 && seqs.length > 4096) {
            seqs = new long[64];
            offsets = new long[64];
            lengths = new long[64];
        }
    }

    int size() { return size; }

    boolean isEmpty() { return size == 0; }

    /** Marks every range in {@code bitmap} and forgets them; returns the bytes marked (overlaps counted twice). */
    long markAndClear(DirtyBitmap bitmap) {
        long bytes = 0;
        for (int i = 0; i < size; i++) {
            bitmap.markBytes(offsets[i], lengths[i]);
            bytes += lengths[i];
        }
        clear();
        return bytes;
    }

    void clear() {
        durableBelow(Long.MAX_VALUE);
    }
}
