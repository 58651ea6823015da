package dev.netboot.ndp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;

/** Router solicitations in, by what became of them, and advertisements out. Tags are fixed labels, never data. */
final class NdpMetrics {

    private final Map<RouterSolicitationResponder.Verdict, Counter> solicitations = new EnumMap<>(RouterSolicitationResponder.Verdict.class);
    private final Counter malformed;
    private final Counter sent;
    private final Counter sendFailed;
    private final Counter frames;

    NdpMetrics(MeterRegistry registry) {
        for (RouterSolicitationResponder.Verdict v : RouterSolicitationResponder.Verdict.values())
            solicitations.put(v, Counter.builder("netboot.ndp.solicitations").tag("outcome", v.name().toLowerCase())
                    .description("ICMPv6 router solicitations received, by outcome").register(registry));
        malformed = Counter.builder("netboot.ndp.solicitations").tag("outcome", "malformed")
                .description("ICMPv6 router solicitations received, by outcome").register(registry);
        frames = Counter.builder("netboot.ndp.frames.received").description("Frames the socket's filter let through (ICMPv6 type 133 only)").register(registry);
        sent = Counter.builder("netboot.ndp.advertisements.sent").description("Router advertisements sent (lifetime 0)").register(registry);
        sendFailed = Counter.builder("netboot.ndp.send.failures").description("Router advertisements the socket failed to send").register(registry);
    }

    void solicitation(RouterSolicitationResponder.Verdict v) { solicitations.get(v).increment(); }
    void malformed() { malformed.increment(); }
    void sent() { sent.increment(); }
    void frames(int n) { frames.increment(n); }
    void sendFailed() { sendFailed.increment(); }
}
