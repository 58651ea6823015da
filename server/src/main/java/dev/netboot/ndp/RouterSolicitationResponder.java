package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.ndp.NdpMessage.RouterAdvertisement;
import dev.netboot.ndp.NdpMessage.RouterSolicitation;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;

/**
 * Decides whether a Router Solicitation gets an answer, and builds it: a Router Advertisement that
 * says "no default router here" (lifetime 0), no prefixes, M = O = 0. That is all iPXE waits for
 * before it calls the interface configured; hosts learn nothing from it (RFC 4861 6.3.4: a
 * lifetime of 0 puts no router in their default router list).
 *
 * <p>Sans I/O: a solicitation and the time in, an advertisement (or nothing) out. One instance per
 * interface; not thread-safe (one receive thread owns it). Rate limits keep a storm of solicitations,
 * forged sources included, from making us flood the link:
 * <ul>
 *   <li>per solicitor (Ethernet source + IPv6 source): at most one answer per {@code perSolicitorNanos};</li>
 *   <li>multicast answers (to a solicitor without an address): at most one per {@code multicastNanos}
 *       (RFC 4861 6.2.6: MIN_DELAY_BETWEEN_RAS, 3 s);</li>
 *   <li>in all: at most {@code burst} answers per second on the interface.</li>
 * </ul>
 * The RFC's random 0–0.5 s delay before answering exists so that several routers do not answer at
 * once; we are no router and answer alone, and waiting is what we are here to remove.
 */
public final class RouterSolicitationResponder {

    /** Why a solicitation got no answer, or that it got one; fixed labels for the metrics. */
    public enum Verdict { ANSWERED, RATE_LIMITED_SOLICITOR, RATE_LIMITED_MULTICAST, RATE_LIMITED_INTERFACE, OWN }

    /** The outcome for one solicitation: the advertisement to send when {@code verdict} is ANSWERED. */
    public record Decision(Verdict verdict, Optional<RouterAdvertisement> advertisement) {}

    public static final long DEFAULT_PER_SOLICITOR_NANOS = 1_000_000_000L;
    public static final long DEFAULT_MULTICAST_NANOS = 3_000_000_000L;
    public static final int DEFAULT_BURST = 20;
    /** Solicitors remembered at once; older entries go first (they are long past their limit anyway). */
    static final int MAX_REMEMBERED = 4096;

    private final long perSolicitorNanos;
    private final long multicastNanos;
    private final int burst;
    private final LinkedHashMap<Solicitor, Long> lastAnswer = new LinkedHashMap<>();
    private boolean multicastSent;
    private long lastMulticast;
    private long windowStart;
    private int inWindow;
    private boolean windowStarted;

    private record Solicitor(MacAddress mac, Ipv6Address address) {}

    public RouterSolicitationResponder() {
        this(DEFAULT_PER_SOLICITOR_NANOS, DEFAULT_MULTICAST_NANOS, DEFAULT_BURST);
    }

    public RouterSolicitationResponder(long perSolicitorNanos, long multicastNanos, int burst) {
        if (perSolicitorNanos < 0 || multicastNanos < 0 || burst < 1) throw new IllegalArgumentException("bad rate limits");
        this.perSolicitorNanos = perSolicitorNanos;
        this.multicastNanos = multicastNanos;
        this.burst = burst;
    }

    /**
     * @param ourMac   the MAC of the interface the solicitation came in on (our source, and our link-local address's origin)
     * @param nowNanos a monotonic clock ({@link System#nanoTime()})
     */
    public Decision handle(RouterSolicitation rs, MacAddress ourMac, long nowNanos) {
        if (rs.ethernetSource().equals(ourMac)) return new Decision(Verdict.OWN, Optional.empty());
        boolean multicast = rs.source().isUnspecified();
        Solicitor who = new Solicitor(rs.ethernetSource(), rs.source());
        Long last = lastAnswer.get(who);
        if (last != null && nowNanos - last < perSolicitorNanos) return new Decision(Verdict.RATE_LIMITED_SOLICITOR, Optional.empty());
        if (multicast && multicastSent && nowNanos - lastMulticast < multicastNanos)
            return new Decision(Verdict.RATE_LIMITED_MULTICAST, Optional.empty());
        if (!windowStarted || nowNanos - windowStart >= 1_000_000_000L) {
            windowStarted = true;
            windowStart = nowNanos;
            inWindow = 0;
        }
        if (inWindow >= burst) return new Decision(Verdict.RATE_LIMITED_INTERFACE, Optional.empty());
        inWindow++;
        remember(who, nowNanos);
        if (multicast) {
            multicastSent = true;
            lastMulticast = nowNanos;
        }
        return new Decision(Verdict.ANSWERED, Optional.of(advertisement(rs, ourMac)));
    }

    /**
     * The answer to {@code rs}: to ff02::1 when the solicitor has no address yet, else straight to it
     * (RFC 4861 6.2.6 allows a unicast answer), at the MAC it named in its option or sent from.
     */
    public static RouterAdvertisement advertisement(RouterSolicitation rs, MacAddress ourMac) {
        Ipv6Address to = rs.source().isUnspecified() ? Ipv6Address.ALL_NODES : rs.source();
        MacAddress toMac = rs.source().isUnspecified() ? to.multicastMac() : rs.sourceLinkLayer().orElse(rs.ethernetSource());
        return new RouterAdvertisement(ourMac, toMac, Ipv6Address.linkLocal(ourMac), to,
                0, false, false, 0, 0, 0, Optional.of(ourMac));
    }

    private void remember(Solicitor who, long nowNanos) {
        lastAnswer.remove(who);
        lastAnswer.put(who, nowNanos);
        // Insertion order = answer order: drop entries whose limit has passed, and the oldest beyond the cap.
        for (Iterator<Long> it = lastAnswer.values().iterator(); it.hasNext(); ) {
            long t = it.next();
            if (lastAnswer.size() > MAX_REMEMBERED || nowNanos - t >= perSolicitorNanos) it.remove();
            else break;
        }
    }

    /** Solicitors currently remembered (for tests: memory stays bounded). */
    int remembered() { return lastAnswer.size(); }
}
