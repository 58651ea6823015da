package dev.netboot.replication;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The activity log against a list-based LRU model, and the crash guarantee it exists for. */
class ActivityLogProperties {

    static final long EXTENT = 4096;

    @Property(tries = 1500)
    void behavesLikeAnLruOfExtentsWithPinnedSlots(@ForAll @IntRange(min = 2, max = 8) int slots, @ForAll("ops") List<int[]> ops) {
        ActivityLog log = new ActivityLog(EXTENT, slots);
        List<Long> lru = new ArrayList<>();                  // least recently used first
        Map<Long, Integer> inFlight = new LinkedHashMap<>();
        List<long[]> writes = new ArrayList<>();              // admitted, not ended
        java.util.Set<Long> touchedSinceTidy = new java.util.HashSet<>();
        for (int[] op : ops) {
            if (op[0] % 11 == 10) {
                // Idle since the last tidy and nothing in flight: out, least recently used first.
                List<Long> idle = lru.stream().filter(e -> inFlight.getOrDefault(e, 0) == 0 && !touchedSinceTidy.contains(e)).toList();
                assertThat(log.tidy()).isEqualTo(idle);
                lru.removeAll(idle);
                touchedSinceTidy.clear();
            } else if (op[0] % 3 != 0 || writes.isEmpty()) {
                long offset = op[1] * (EXTENT / 2);
                long length = 1 + op[2] * 1024L;             // up to ~3 extents
                long first = offset / EXTENT, last = (offset + length - 1) / EXTENT;
                List<Long> touched = new ArrayList<>();
                for (long e = first; e <= last; e++) touched.add(e);
                int missing = (int) touched.stream().filter(e -> !lru.contains(e)).count();
                List<Long> evictable = lru.stream().filter(e -> inFlight.getOrDefault(e, 0) == 0 && !touched.contains(e)).toList();
                int need = Math.max(0, missing - (slots - lru.size()));
                Optional<ActivityLog.Admission> a = log.begin(offset, length);
                if (need > evictable.size()) {
                    assertThat(a).isEmpty();
                } else {
                    List<Long> evicted = evictable.subList(0, need);
                    assertThat(a).isPresent();
                    assertThat(a.get().evicted()).isEqualTo(evicted);
                    assertThat(a.get().added()).isEqualTo(touched.stream().filter(e -> !lru.contains(e)).toList());
                    lru.removeAll(evicted);
                    for (long e : touched) {
                        touchedSinceTidy.add(e);
                        lru.remove(e);
                        lru.add(e);
                        inFlight.merge(e, 1, Integer::sum);
                    }
                    writes.add(new long[] {offset, length});
                }
            } else {
                long[] w = writes.remove(op[1] % writes.size());
                log.end(w[0], w[1]);
                for (long e = w[0] / EXTENT; e <= (w[0] + w[1] - 1) / EXTENT; e++) inFlight.merge(e, -1, Integer::sum);
            }
            assertThat(log.extents()).isEqualTo(lru);
            assertThat(log.extents().size()).isLessThanOrEqualTo(slots);
            // The guarantee: every extent with a write in flight is logged.
            for (var e : inFlight.entrySet()) if (e.getValue() > 0) assertThat(log.contains(e.getKey())).isTrue();
        }
        // What a crash right now would resync covers every write in flight.
        DirtyBitmap afterCrash = new DirtyBitmap(64 * EXTENT, 512);
        ActivityLog.restore(ActivityLog.readTransaction(log.transaction(9)).orElseThrow(), slots).markIn(afterCrash);
        for (long[] w : writes) {
            long end = Math.min(w[0] + w[1], afterCrash.diskBytes());
            for (long o = w[0]; o < end; o += 512) assertThat(afterCrash.isDirty(afterCrash.regionOf(o))).isTrue();
        }
    }

    @Property(tries = 300)
    void aTornOrDamagedTransactionIsIgnoredAndTheNewestValidOneWins(@ForAll @IntRange(min = 0, max = 4095) int damaged, @ForAll("ops") List<int[]> ops) {
        ActivityLog log = new ActivityLog(EXTENT, 16);
        for (int[] op : ops) log.begin(op[1] * EXTENT, 1);
        var older = log.transaction(1);
        log.begin(1000 * EXTENT, 1);
        var newer = log.transaction(2);
        assertThat(ActivityLog.newest(List.of(older, newer)).orElseThrow().extents()).isEqualTo(log.extents());
        newer.put(damaged, (byte) (newer.get(damaged) ^ 0x10));
        var survivor = ActivityLog.newest(List.of(older, newer)).orElseThrow();
        // Bytes after the checksum are padding: damage there changes nothing.
        int used = 4 + 8 + 8 + 4 + 4 * log.extents().size() + 4;
        assertThat(survivor.number()).isEqualTo(damaged < used ? 1 : 2);
    }

    /** A log covering a 32 GiB disk (the most slots) fits one area; the first format's blocks are still read. */
    @net.jqwik.api.Example
    void theLargestLogFitsAnAreaAndTheFirstFormatStillReads() {
        assertThat(ActivityLog.slotsFor(1L << 30)).isEqualTo(ActivityLog.DEFAULT_SLOTS);
        assertThat(ActivityLog.slotsFor(8L << 30)).isEqualTo(2048);
        assertThat(ActivityLog.slotsFor(1L << 50)).isEqualTo(ActivityLog.MAX_SLOTS);
        ActivityLog full = new ActivityLog(ActivityLog.DEFAULT_EXTENT, ActivityLog.MAX_SLOTS);
        for (long e = 0; e < ActivityLog.MAX_SLOTS; e++) assertThat(full.begin(e * 1025 * ActivityLog.DEFAULT_EXTENT, 4096)).isPresent();
        var t = full.transaction(5);
        assertThat(t.remaining()).isLessThanOrEqualTo(ActivityLog.AREA_BYTES).isEqualTo(t.capacity());
        assertThat(ActivityLog.readTransaction(t).orElseThrow().extents()).isEqualTo(full.extents());
        assertThat(new ActivityLog(ActivityLog.DEFAULT_EXTENT, 3).transaction(1).remaining()).as("a small log is one block").isEqualTo(4096);

        // The first format: 8-byte extent numbers in one 4 KiB block.
        var v1 = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        v1.putInt(0x4E42414C).putLong(7).putLong(ActivityLog.DEFAULT_EXTENT).putInt(2).putLong(3).putLong(1L << 33);
        var crc = new java.util.zip.CRC32C();
        crc.update(v1.array(), 0, v1.position());
        v1.putInt((int) crc.getValue()).clear();
        var read = ActivityLog.readTransaction(v1).orElseThrow();
        assertThat(read.number()).isEqualTo(7);
        assertThat(read.extents()).containsExactly(3L, 1L << 33);
        // A restored log larger than this run's slots keeps every extent (a crash resyncs them all) and
        // gives up the surplus idle ones at the next admission.
        ActivityLog small = ActivityLog.restore(new ActivityLog.Transaction(8, EXTENT, List.of(1L, 2L, 3L, 4L)), 2);
        assertThat(small.extents()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(small.begin(9 * EXTENT, 1).orElseThrow().evicted()).containsExactly(1L, 2L, 3L);
        assertThat(small.extents()).containsExactly(4L, 9L);
    }

    @Provide
    Arbitrary<List<int[]>> ops() {
        return Combinators.combine(Arbitraries.integers().between(0, 99), Arbitraries.integers().between(0, 40), Arbitraries.integers().between(0, 11))
                .as((a, b, c) -> new int[] {a, b, c}).list().ofMaxSize(60);
    }
}
