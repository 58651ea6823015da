package dev.netboot.tftp;

/**
 * RFC 6298 smoothed RTT and variance, giving the retransmission timeout. Karn's rule is the
 * caller's job: feed only samples of blocks that were sent once.
 */
final class RoundTripEstimator {

    private final long minNanos;
    private final long maxNanos;
    private long srtt = -1;
    private long rttvar;
    private long rto;

    RoundTripEstimator(long initialNanos, long minNanos, long maxNanos) {
        this.minNanos = minNanos;
        this.maxNanos = maxNanos;
        this.rto = initialNanos;
    }

    void sample(long rttNanos) {
        if (srtt < 0) {
            srtt = rttNanos;
            rttvar = rttNanos / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - rttNanos)) / 4;
            srtt = (7 * srtt + rttNanos) / 8;
        }
        rto = clamp(srtt + 4 * rttvar);
    }

    /** Exponential back-off after a timeout. */
    void backOff() { rto = clamp(rto * 2); }

    long timeoutNanos() { return rto; }

    private long clamp(long nanos) { return Math.max(minNanos, Math.min(maxNanos, nanos)); }
}
