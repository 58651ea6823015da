package dev.netboot.tftp;

import java.time.Duration;

/**
 * How a transfer recovers from loss. The timeout adapts to the measured round-trip time (as TCP's
 * RTO does, RFC 6298) so a lost block on a LAN costs milliseconds, not the classic fixed second;
 * each timeout in a row doubles it up to {@code max} (8 s by default: longer than the silence after which
 * clients such as atftp resend their ACK, so a lost ACK plus a lost re-ACK cannot stall a transfer forever). A transfer ends only after {@code giveUpAfter} without
 * progress: counting retries would give up within a second at LAN timeouts, before a client whose own
 * timer runs in seconds (atftp waits 5 s before re-ACKing) has had its chance.
 */
public record RetransmitPolicy(Duration initial, Duration min, Duration max, Duration giveUpAfter) {

    public RetransmitPolicy {
        if (min.isNegative() || min.isZero()) throw new IllegalArgumentException("min must be positive");
        if (initial.compareTo(min) < 0 || max.compareTo(initial) < 0) throw new IllegalArgumentException("need min <= initial <= max");
        if (giveUpAfter.compareTo(max) < 0) throw new IllegalArgumentException("giveUpAfter must be at least max");
    }

    public static RetransmitPolicy defaults() {
        return new RetransmitPolicy(Duration.ofSeconds(1), Duration.ofMillis(20), Duration.ofSeconds(8), Duration.ofSeconds(30));
    }
}
