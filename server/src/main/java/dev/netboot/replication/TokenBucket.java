package dev.netboot.replication;

/**
 * A rate limit in bytes per second, driven by the caller's clock (nanoseconds), so it is tested
 * without sleeping. Tokens accrue at {@code rate} up to {@code burst}; a take that does not fit waits.
 * A resync of 100 GiB must not starve clients' I/O, and must not take days either (DRBD users' two
 * complaints): the operator sets the rate, and the planner never sends faster.
 */
public final class TokenBucket {

    private final long rate;
    private final long burst;
    private double tokens;
    private long last;

    /** {@code rate} 0 means unlimited. */
    public TokenBucket(long bytesPerSecond, long burstBytes, long now) {
        if (bytesPerSecond < 0 || burstBytes <= 0) throw new IllegalArgumentException("rate " + bytesPerSecond + " B/s, burst " + burstBytes + " B");
        this.rate = bytesPerSecond;
        this.burst = burstBytes;
        this.tokens = burstBytes;
        this.last = now;
    }

    public long rate() { return rate; }

    private void refill(long now) {
        if (now > last) {
            tokens = Math.min(burst, tokens + (now - last) * (double) rate / 1e9);
            last = now;
        }
    }

    /** Takes {@code bytes} if they are there now. A take larger than the burst succeeds when the bucket is full. */
    public boolean tryTake(long bytes, long now) {
        if (rate == 0) return true;
        refill(now);
        double need = Math.min(bytes, burst);
        if (tokens < need) return false;
        tokens -= bytes;   // may go negative for a take over the burst: the debt is paid by waiting
        return true;
    }

    /** Nanoseconds from {@code now} until {@code bytes} can be taken (0 if now), for the adapter's timer. */
    public long nanosUntil(long bytes, long now) {
        if (rate == 0) return 0;
        refill(now);
        double missing = Math.min(bytes, burst) - tokens;
        return missing <= 0 ? 0 : (long) Math.ceil(missing * 1e9 / rate);
    }
}
