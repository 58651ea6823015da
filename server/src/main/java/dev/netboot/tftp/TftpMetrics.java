package dev.netboot.tftp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** The TFTP service's counters, registered once; names follow Prometheus conventions on /metrics. */
final class TftpMetrics {

    final Counter completed;
    final Counter failed;
    final Counter refused;
    /** Read requests for files that do not exist (loaders' probes for optional files, mostly). */
    final Counter notFound;
    /** Transfers a client ended at our OACK after asking for tsize: PXE firmware's size query. */
    final Counter sizeQueries;
    final Counter bytesSent;
    final Counter malformed;
    final Counter retransmissions;
    final AtomicInteger active;
    private final Map<TftpError, Counter> errorsSent = new EnumMap<>(TftpError.class);

    TftpMetrics(MeterRegistry registry) {
        completed = transfers(registry, "completed");
        failed = transfers(registry, "failed");
        refused = transfers(registry, "refused");
        notFound = transfers(registry, "not-found");
        sizeQueries = transfers(registry, "size-query");
        bytesSent = Counter.builder("netboot.tftp.sent").baseUnit("bytes").description("DATA payload sent, resends included").register(registry);
        malformed = Counter.builder("netboot.tftp.malformed.packets").description("Datagrams that were not valid TFTP, dropped").register(registry);
        retransmissions = Counter.builder("netboot.tftp.retransmissions").description("Packets sent again after a timeout or a loss signal").register(registry);
        active = registry.gauge("netboot.tftp.transfers.active", new AtomicInteger());
        for (TftpError e : TftpError.values()) {
            errorsSent.put(e, Counter.builder("netboot.tftp.errors.sent").tag("code", Integer.toString(e.code()))
                    .tag("name", e.name().toLowerCase()).description("ERROR packets sent").register(registry));
        }
    }

    private static Counter transfers(MeterRegistry registry, String result) {
        return Counter.builder("netboot.tftp.transfers").tag("result", result).description("Read requests by outcome").register(registry);
    }

    void errorSent(TftpError code) { errorsSent.get(code).increment(); }
}
