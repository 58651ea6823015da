package dev.netboot.tftp;

import java.time.Duration;

/**
 * How a transfer recovers from loss. The timeout adapts to the measured round-trip time (as TCP's
 * RTO does, RFC 6298) so a lost block on a LAN costs milliseconds, not the classic fixed second;
 * each timeout in a row doubles it up to {@code max}, and {@code maxRetries} timeouts in a row end the transfer.
 */
public record RetransmitPolicy(Duration initial, Duration min, Duration max, int maxRetries) {

    public RetransmitPolicy {
        if (min.isNegative() || min.isZero()) throw new IllegalArgumentException("min must be positive");
        if (initial.compareTo(min) < 0 || max.compareTo(initial) < 0) throw new IllegalArgumentException("need min <= initial <= max");
        if (maxRetries < 1) throw new IllegalArgumentException("maxRetries must be at least 1");
    }

    public static RetransmitPolicy defaults() {
        return new RetransmitPolicy(Duration.ofSeconds(1), Duration.ofMillis(20), Duration.ofSeconds(4), 6);
    }
}
