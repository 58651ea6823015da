package dev.netboot.aoe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** AoE counters for /metrics: frames in and out, and every reason a frame got no or an error answer. */
public final class AoeMetrics {

    private final Counter received;
    private final Counter sent;

    public AoeMetrics(MeterRegistry registry, AoeResponder responder) {
        received = Counter.builder("netboot_aoe_frames_received").description("AoE frames received").register(registry);
        sent = Counter.builder("netboot_aoe_frames_sent").description("AoE frames sent").register(registry);
        for (AoeResponder.Drop d : AoeResponder.Drop.values())
            FunctionCounter.builder("netboot_aoe_frames_dropped", responder, r -> r.dropped(d))
                    .tag("reason", d.name().toLowerCase()).description("AoE frames not answered").register(registry);
        for (AoeError e : AoeError.values())
            FunctionCounter.builder("netboot_aoe_error_replies", responder, r -> r.errorReplies(e))
                    .tag("error", e.name().toLowerCase()).description("AoE replies with the error flag").register(registry);
        FunctionCounter.builder("netboot_aoe_ata_error_replies", responder, AoeResponder::ataErrorReplies)
                .description("ATA commands answered with an ATA error status").register(registry);
        Gauge.builder("netboot_aoe_targets", responder, r -> r.targets().size()).description("Exported AoE targets").register(registry);
    }

    void received(int n) { received.increment(n); }
    void sent(int n) { sent.increment(n); }
}
