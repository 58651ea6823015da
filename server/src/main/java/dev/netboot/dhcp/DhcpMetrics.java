package dev.netboot.dhcp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The DHCP service's counters; tag values are fixed labels (message types, drop reasons), never data. */
final class DhcpMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    DhcpMetrics(MeterRegistry registry) { this.registry = registry; }

    void received(MessageType t) { counter("netboot.dhcp.received", "type", t == null ? "none" : t.name().toLowerCase(), "Requests received").increment(); }

    void sent(MessageType t) { counter("netboot.dhcp.sent", "type", t.name().toLowerCase(), "Replies sent").increment(); }

    void unanswered(String reason) { counter("netboot.dhcp.unanswered", "reason", reason, "Requests not answered, by reason").increment(); }

    void malformed(String reason) { counter("netboot.dhcp.malformed.packets", "reason", reason, "Datagrams that were not valid DHCP, dropped").increment(); }

    void sendFailed() { counter("netboot.dhcp.send.failures", "where", "socket", "Replies the socket failed to send").increment(); }

    private Counter counter(String name, String tag, String value, String description) {
        return counters.computeIfAbsent(name + '\0' + value,
                k -> Counter.builder(name).tag(tag, value).description(description).register(registry));
    }
}
