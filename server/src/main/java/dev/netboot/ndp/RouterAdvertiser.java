package dev.netboot.ndp;

import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers ICMPv6 router solicitations on the interfaces the appliance serves DHCP on, with a Router
 * Advertisement of lifetime 0 and no prefixes. Why: iPXE calls an interface configured only when
 * its DHCP and its IPv6 router discovery are both done, and with no router answering the latter
 * waits ~16 s (Debian's 2019 iPXE) on every boot. See docs/dhcp.md.
 */
public final class RouterAdvertiser implements AutoCloseable {

    private final List<String> interfaceNames;
    private final NdpMetrics metrics;
    private final List<NdpInterface> interfaces = new ArrayList<>();

    public RouterAdvertiser(List<String> interfaceNames, MeterRegistry registry) {
        this.interfaceNames = List.copyOf(interfaceNames);
        this.metrics = new NdpMetrics(registry);
    }

    /** Opens a raw socket per interface (needs root or CAP_NET_RAW) and starts answering. */
    public RouterAdvertiser start() throws IOException {
        try {
            for (String name : interfaceNames) interfaces.add(new NdpInterface(name, metrics).start());
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** "eth0 (fe80::…)" for each interface, for the start-up log line. */
    public List<String> describe() {
        return interfaces.stream().map(i -> i.name() + " as " + Ipv6Address.linkLocal(i.mac())).toList();
    }

    @Override
    public void close() {
        for (NdpInterface i : interfaces) i.close();
        interfaces.clear();
    }
}
