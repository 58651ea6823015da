package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.Range;
import dev.netboot.replication.ReplicationMessage.ResyncRequest;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ResyncPlannerProperties {

    static final int REGION = 4096;
    static final long MS = 1_000_000L;

    /**
     * Whatever the dirty set, the order of answers, failed requests and an interruption halfway: every
     * dirty region is written exactly once more than it failed, no clean region is ever asked for, no
     * request is larger than the maximum (in bytes and in ranges), the rate limit holds at every moment,
     * and the run ends finished at 100 %.
     */
    @Property(tries = 500)
    void movesExactlyTheDirtyRegionsWithinTheRate(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = 999) Integer> marks,
                                                  @ForAll long seed, @ForAll @IntRange(min = 1, max = 8) int window,
                                                  @ForAll boolean interrupt) {
        long disk = 1000L * REGION + 1000;    // a short last region
        DirtyBitmap bitmap = new DirtyBitmap(disk, REGION);
        Random random = new Random(seed);
        for (int m : marks) bitmap.markRegions(m, Math.min(1 + random.nextInt(30), bitmap.regions() - m));
        BitSet dirty = new BitSet();
        for (long r = 0; r < bitmap.regions(); r++) if (bitmap.isDirty(r)) dirty.set((int) r);
        long total = bitmap.dirtyBytes();
        long rate = 4L << 20;            // 4 MiB/s
        long burst = 64 * 1024;
        int maxRequest = 16 * REGION;

        int[] written = new int[(int) bitmap.regions()];
        ResyncPlanner planner = new ResyncPlanner("d", bitmap, maxRequest, window, new TokenBucket(rate, burst, 0), 0);
        List<Range> open = new ArrayList<>();
        long requestedBytes = 0;
        long now = 0;
        boolean interrupted = false;
        for (int step = 0; step < 100_000 && !planner.finished(); step++) {
            now += MS;
            for (Range r : ranges(planner.next(now), maxRequest)) {
                assertThat(r.length()).isBetween(1, maxRequest);
                for (long o = r.offset(); o < r.offset() + r.length(); o += REGION) assertThat(dirty.get((int) (o / REGION))).as("clean region asked for").isTrue();
                requestedBytes += r.length();
                open.add(r);
            }
            assertThat(requestedBytes).isLessThanOrEqualTo(burst + maxRequest + rate * now / 1_000_000_000L);
            if (interrupt && !interrupted && requestedBytes > total / 2) {
                // Link lost: a new run starts from the persisted bitmap.
                interrupted = true;
                open.clear();
                planner = new ResyncPlanner("d", bitmap, maxRequest, window, new TokenBucket(rate, burst, now), now);
                continue;
            }
            if (open.isEmpty()) continue;
            Range r = open.remove(random.nextInt(open.size()));
            if (random.nextInt(10) == 0) {
                planner.failed(r.offset());
            } else {
                boolean sparse = random.nextInt(4) == 0;
                assertThat(planner.completed(r.offset(), r.length(), sparse ? 0 : r.length())).isTrue();
                for (long o = r.offset(); o < r.offset() + r.length(); o += REGION) written[(int) (o / REGION)]++;
            }
        }
        assertThat(planner.finished()).isTrue();
        assertThat(bitmap.isClean()).isTrue();
        if (!interrupted) assertThat(planner.progress(now).percent()).isEqualTo(100.0);
        for (int r = 0; r < written.length; r++) {
            if (dirty.get(r)) assertThat(written[r]).as("region %d", r).isEqualTo(1);
            else assertThat(written[r]).isZero();
        }
    }

    @Property(tries = 200)
    void anAnswerToNothingAskedIsRefused(@ForAll @IntRange(min = 0, max = 99) int region) {
        DirtyBitmap bitmap = new DirtyBitmap(100L * REGION, REGION);
        bitmap.markRegions(region, 1);
        ResyncPlanner planner = new ResyncPlanner("d", bitmap, REGION, 4, new TokenBucket(0, 1, 0), 0);
        assertThat(planner.completed((long) region * REGION, REGION, REGION)).isFalse();
        assertThat(bitmap.isDirty(region)).isTrue();
    }

    /**
     * With a byte window as well as a count: the bytes asked for and not answered never exceed the window
     * (one request alone may, if it is larger), the planner's own count agrees, scattered regions keep many
     * small requests in flight at once (up to the count), and every dirty region is still written exactly once.
     */
    @Property(tries = 300)
    void theByteWindowBoundsWhatIsInFlightAndScatteredRegionsFillTheCount(@ForAll @Size(max = 60) List<@IntRange(min = 0, max = 999) Integer> marks,
                                                                          @ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int count,
                                                                          @ForAll @IntRange(min = 16, max = 200) int windowRegions) {
        long disk = 1000L * REGION;
        DirtyBitmap bitmap = new DirtyBitmap(disk, REGION);
        Random random = new Random(seed);
        for (int m : marks) bitmap.markRegions(m, Math.min(1 + random.nextInt(40), bitmap.regions() - m));
        BitSet dirty = new BitSet();
        for (long r = 0; r < bitmap.regions(); r++) if (bitmap.isDirty(r)) dirty.set((int) r);
        int maxRequest = 16 * REGION;
        long window = (long) windowRegions * REGION;
        ResyncPlanner planner = new ResyncPlanner("d", bitmap, maxRequest, count, window, new TokenBucket(0, 1, 0), 0);
        List<Range> open = new ArrayList<>();
        int[] written = new int[(int) bitmap.regions()];
        int mostOpen = 0;
        for (int step = 0; step < 100_000 && !planner.finished(); step++) {
            open.addAll(ranges(planner.next(step), maxRequest));
            long openBytes = open.stream().mapToLong(Range::length).sum();
            assertThat(planner.inFlightBytes()).isEqualTo(openBytes);
            assertThat(open.size()).isLessThanOrEqualTo(count);
            if (open.size() > 1) assertThat(openBytes).isLessThanOrEqualTo(window);
            mostOpen = Math.max(mostOpen, open.size());
            if (open.isEmpty()) continue;
            // Answers come back in bursts, out of order, as a loaded peer's do.
            for (int k = 1 + random.nextInt(3); k > 0 && !open.isEmpty(); k--) {
                Range r = open.remove(random.nextInt(open.size()));
                assertThat(planner.completed(r.offset(), r.length(), r.length())).isTrue();
                for (long o = r.offset(); o < r.offset() + r.length(); o += REGION) written[(int) (o / REGION)]++;
            }
        }
        assertThat(planner.finished()).isTrue();
        for (int r = 0; r < written.length; r++) assertThat(written[r]).as("region %d", r).isEqualTo(dirty.get(r) ? 1 : 0);
        // Isolated single regions (the quick-resync case): the count, not one range, is what is in flight, and the
        // ranges travel many to a request (as many as fit the request size: 16 regions of 4 KiB here).
        if (marks.isEmpty()) return;
        DirtyBitmap scattered = new DirtyBitmap(disk, REGION);
        for (long r = 0; r < 1000; r += 7) scattered.markRegions(r, 1);
        ResyncPlanner p2 = new ResyncPlanner("d", scattered, maxRequest, count, window, new TokenBucket(0, 1, 0), 0);
        List<ResyncRequest> requests = p2.next(0);
        int asked = (int) Math.min(count, Math.min(windowRegions, 143));
        assertThat(ranges(requests, maxRequest)).hasSize(asked);
        assertThat(requests).hasSize((asked + 15) / 16);
    }

    /** Many regions far apart: requests of the most ranges one may carry, every region once, in disk order. */
    @Property(tries = 50)
    void scatteredRegionsTravelManyToARequest(@ForAll @IntRange(min = 1, max = 2000) int regions, @ForAll @IntRange(min = 2, max = 9) int stride) {
        DirtyBitmap bitmap = new DirtyBitmap((long) regions * stride * REGION, REGION);
        for (long r = 0; r < (long) regions * stride; r += stride) bitmap.markRegions(r, 1);
        ResyncPlanner planner = new ResyncPlanner("d", bitmap, 1 << 20, 100_000, Long.MAX_VALUE, new TokenBucket(0, 1, 0), 0);
        List<ResyncRequest> requests = planner.next(0);
        List<Range> all = ranges(requests, 1 << 20);
        assertThat(all).hasSize(regions);
        for (int i = 0; i < regions; i++) assertThat(all.get(i)).isEqualTo(new Range((long) i * stride * REGION, REGION));
        assertThat(requests).hasSize((regions + ResyncRequest.MAX_RANGES - 1) / ResyncRequest.MAX_RANGES);
    }

    /** The ranges of {@code requests}, each request checked: at most {@link ResyncRequest#MAX_RANGES} ranges and {@code maxRequest} bytes. */
    static List<Range> ranges(List<ResyncRequest> requests, int maxRequest) {
        List<Range> out = new ArrayList<>();
        for (ResyncRequest r : requests) {
            assertThat(r.ranges()).hasSizeBetween(1, ResyncRequest.MAX_RANGES);
            assertThat(r.ranges().stream().mapToLong(Range::length).sum()).isLessThanOrEqualTo(maxRequest);
            out.addAll(r.ranges());
        }
        return out;
    }
}
