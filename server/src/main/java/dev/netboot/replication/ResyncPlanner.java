package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.Range;
import dev.netboot.replication.ReplicationMessage.ResyncRequest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sync target's plan: which ranges to ask the source for, how fast, and how far it got. The plan
 * is the dirty bitmap itself (the merged one for a quick resync, all bits for a full sync): a range's
 * bits are cleared only when its data is written here, so the persisted bitmap is the resume point
 * after any interruption, and nothing is asked for twice within a run.
 *
 * <p>Ranges travel many to a request (up to {@link ResyncRequest#MAX_RANGES} and the request size in bytes):
 * a quick resync of scattered 4 KiB regions then costs a message per hundred regions, not per region. The
 * source answers each request with one {@code ResyncAnswer}: the bytes of each range or, for a range that holds
 * nothing of its own (sparse, or still just the image's data), no bytes. Before a full sync
 * the source may also send its allocation map, and {@link #skip} drops the ranges it does not hold.
 */
public final class ResyncPlanner {

    /** What {@code netboot replication status} shows. */
    public record Progress(long totalBytes, long doneBytes, long transferredBytes, double percent, double bytesPerSecond, long etaSeconds) {}

    private final String disk;
    private final DirtyBitmap plan;
    private final int maxRequest;
    private final int maxInFlight;
    private final long maxInFlightBytes;
    private long inFlightBytes;
    private final TokenBucket limiter;
    private final long startNanos;
    private final long totalBytes;
    private final Map<Long, Integer> inFlight = new HashMap<>();
    private final ArrayDeque<DirtyBitmap.Extent> retry = new ArrayDeque<>();
    private long cursor;           // byte offset: everything dirty before it is requested or done
    private long doneBytes;
    private long transferred;

    public ResyncPlanner(String disk, DirtyBitmap plan, int maxRequestBytes, int maxInFlight, TokenBucket limiter, long now) {
        this(disk, plan, maxRequestBytes, maxInFlight, Long.MAX_VALUE, limiter, now);
    }

    /**
     * {@code maxInFlight} requests and {@code maxInFlightBytes} bytes asked for and not yet answered, whichever
     * is reached first: scattered 4 KiB regions then keep many small requests in flight (the round trip
     * would otherwise bound a quick resync), large runs a few big ones (memory stays bounded).
     */
    public ResyncPlanner(String disk, DirtyBitmap plan, int maxRequestBytes, int maxInFlight, long maxInFlightBytes, TokenBucket limiter, long now) {
        if (maxRequestBytes < plan.regionSize() || maxRequestBytes % plan.regionSize() != 0)
            throw new IllegalArgumentException("request size " + maxRequestBytes + " must be whole regions of " + plan.regionSize());
        this.disk = disk;
        this.plan = plan;
        this.maxRequest = maxRequestBytes;
        this.maxInFlight = maxInFlight;
        if (maxInFlightBytes < maxRequestBytes) throw new IllegalArgumentException("window of " + maxInFlightBytes + " bytes holds no request of " + maxRequestBytes);
        this.maxInFlightBytes = maxInFlightBytes;
        this.limiter = limiter;
        this.startNanos = now;
        this.totalBytes = plan.dirtyBytes();
    }

    /**
     * Requests to send now: as many ranges as the window and the rate limit allow, grouped into requests of at
     * most {@link ResyncRequest#MAX_RANGES} ranges and the request size in bytes. Ranges that failed go first.
     */
    public List<ResyncRequest> next(long now) {
        Requests out = new Requests();
        while (inFlight.size() < maxInFlight && !retry.isEmpty()) {
            DirtyBitmap.Extent x = retry.peekFirst();
            if (!admits(x, now)) return out.done();
            retry.pollFirst();
            out.ask(x);
        }
        while (inFlight.size() < maxInFlight && inFlightBytes + Math.min(maxRequest, plan.regionSize()) <= maxInFlightBytes && cursor < plan.diskBytes()) {
            List<DirtyBitmap.Extent> e = plan.extents(cursor, maxRequest, 1);
            if (e.isEmpty()) {
                cursor = plan.diskBytes();
                break;
            }
            DirtyBitmap.Extent x = e.getFirst();
            if (!admits(x, now)) break;
            out.ask(x);
            cursor = x.end();
        }
        return out.done();
    }

    /** The window has room for {@code x} (one range always goes, however big) and the rate limit lets it go. */
    private boolean admits(DirtyBitmap.Extent x, long now) {
        if (inFlightBytes + x.length() > maxInFlightBytes && !inFlight.isEmpty()) return false;
        return limiter.tryTake(x.length(), now);
    }

    /** The requests of one {@link #next} call, filled range by range. */
    private final class Requests {
        private final List<ResyncRequest> out = new ArrayList<>();
        private List<Range> ranges = new ArrayList<>();
        private long bytes;

        void ask(DirtyBitmap.Extent x) {
            if (ranges.size() == ResyncRequest.MAX_RANGES || bytes + x.length() > maxRequest) close();
            inFlight.put(x.offset(), (int) x.length());
            inFlightBytes += x.length();
            ranges.add(new Range(x.offset(), (int) x.length()));
            bytes += x.length();
        }

        private void close() {
            if (ranges.isEmpty()) return;
            out.add(new ResyncRequest(disk, ranges));
            ranges = new ArrayList<>();
            bytes = 0;
        }

        List<ResyncRequest> done() {
            close();
            return out;
        }
    }

    /** Bytes asked for and not yet answered (at most the window given to the constructor). */
    public long inFlightBytes() { return inFlightBytes; }

    /** When the adapter should call {@link #next} again if it returned nothing while work remains. */
    public long nanosUntilNext(long now) { return limiter.nanosUntil(maxRequest, now); }

    /**
     * The answer to a request was written here (durably, if the disk is synced): its regions are in
     * sync. {@code bytesOnWire} is 0 for a sparse answer. False for an answer to nothing we asked.
     */
    public boolean completed(long offset, int length, long bytesOnWire) {
        Integer asked = inFlight.get(offset);
        if (asked == null || asked != length) return false;
        inFlight.remove(offset);
        inFlightBytes -= length;
        plan.clearRegions(plan.regionOf(offset), (length + plan.regionSize() - 1) / plan.regionSize());
        doneBytes += length;
        transferred += bytesOnWire;
        return true;
    }

    /** A range that failed (link lost, source read or target write error): its regions stay dirty and are asked for again. */
    public void failed(long offset) {
        Integer length = inFlight.remove(offset);
        if (length != null) inFlightBytes -= length;
        // Retried ahead of new ranges; moving the cursor back instead would ask again for ranges still in flight.
        if (length != null) retry.addLast(new DirtyBitmap.Extent(offset, length));
    }

    /** Link lost: everything in flight is asked for again in the next run (the bitmap still has it). */
    public void reset() {
        inFlight.clear();
        inFlightBytes = 0;
        retry.clear();
        cursor = 0;
    }

    /** Ranges the source does not hold (its allocation map before a full sync): nothing to move. */
    public void skip(long offset, long length) {
        if (length <= 0) return;
        long first = plan.regionOf(offset);
        long last = plan.regionOf(Math.min(offset + length, plan.diskBytes()) - 1);
        long before = plan.dirtyBytes();
        plan.clearRegions(first, last - first + 1);
        doneBytes += before - plan.dirtyBytes();
    }

    public boolean finished() { return plan.isClean() && inFlight.isEmpty() && retry.isEmpty(); }

    public Progress progress(long now) {
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = doneBytes / seconds;
        long remaining = totalBytes - doneBytes;
        long eta = remaining <= 0 ? 0 : rate <= 0 ? -1 : (long) Math.ceil(remaining / rate);
        double percent = totalBytes == 0 ? 100.0 : 100.0 * doneBytes / totalBytes;
        return new Progress(totalBytes, doneBytes, transferred, percent, transferred / seconds, eta);
    }
}
