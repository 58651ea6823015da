package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.VerifyDigest;
import dev.netboot.replication.ReplicationMessage.VerifyRequest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of online verify ({@code netboot replication verify DISK}) on the node that started it: walk
 * the disk in ranges (rate-limited like a resync), ask the peer for each range's digest, hash the same
 * range here, compare. Only digests cross the link. A mismatch marks the range in the bitmap, so the
 * next resync repairs it, and is counted for the operator; verify itself never overwrites anything.
 */
public final class OnlineVerify {

    /** A range whose digests differ. */
    public record Mismatch(long offset, int length) {}

    private final String disk;
    private final long diskBytes;
    private final int rangeBytes;
    private final int maxInFlight;
    private final TokenBucket limiter;
    private final DirtyBitmap bitmap;
    private long cursor;
    private long verifiedBytes;
    private final Map<Long, ByteBuffer> local = new HashMap<>();
    private final Map<Long, ByteBuffer> peer = new HashMap<>();
    private final Map<Long, Integer> asked = new HashMap<>();
    private final List<Mismatch> mismatches = new ArrayList<>();

    public OnlineVerify(String disk, DirtyBitmap bitmap, int rangeBytes, int maxInFlight, TokenBucket limiter) {
        if (rangeBytes % bitmap.regionSize() != 0) throw new IllegalArgumentException("verify ranges must be whole regions");
        this.disk = disk;
        this.diskBytes = bitmap.diskBytes();
        this.bitmap = bitmap;
        this.rangeBytes = rangeBytes;
        this.maxInFlight = maxInFlight;
        this.limiter = limiter;
    }

    /** Ranges to verify now: send each request to the peer and hash the same range locally. */
    public List<VerifyRequest> next(long now) {
        List<VerifyRequest> out = new ArrayList<>();
        while (asked.size() < maxInFlight && cursor < diskBytes) {
            int length = (int) Math.min(rangeBytes, diskBytes - cursor);
            // Both sides read the range: that is the cost the rate limit is about, not the digest on the wire.
            if (!limiter.tryTake(length, now)) break;
            asked.put(cursor, length);
            out.add(new VerifyRequest(disk, cursor, length));
            cursor += length;
        }
        return out;
    }

    public void localDigest(long offset, ByteBuffer digest) { arrived(offset, digest, local, peer); }

    /** The peer's answer; false if we did not ask for it. */
    public boolean peerDigest(VerifyDigest d) {
        if (!Integer.valueOf(d.length()).equals(asked.get(d.offset()))) return false;
        arrived(d.offset(), d.digest(), peer, local);
        return true;
    }

    private void arrived(long offset, ByteBuffer digest, Map<Long, ByteBuffer> mine, Map<Long, ByteBuffer> other) {
        Integer length = asked.get(offset);
        if (length == null) return;
        ByteBuffer theirs = other.remove(offset);
        if (theirs == null) {
            mine.put(offset, digest);
            return;
        }
        asked.remove(offset);
        verifiedBytes += length;
        if (!theirs.equals(digest)) {
            bitmap.markBytes(offset, length);
            mismatches.add(new Mismatch(offset, length));
        }
    }

    public boolean finished() { return cursor >= diskBytes && asked.isEmpty(); }
    public long verifiedBytes() { return verifiedBytes; }
    public List<Mismatch> mismatches() { return List.copyOf(mismatches); }
    public double percent() { return diskBytes == 0 ? 100 : 100.0 * verifiedBytes / diskBytes; }
}
