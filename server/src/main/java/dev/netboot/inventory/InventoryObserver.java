package dev.netboot.inventory;

import dev.netboot.boot.BootPlan;
import dev.netboot.boot.Machine;
import dev.netboot.dhcp.ClientObserver;
import dev.netboot.dhcp.Ipv4;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Registers network-boot clients in the inventory on first sight and records their boots. DHCP calls
 * this on its event loop, so every database write runs on one background thread; a client retrying
 * its DISCOVER every second is written once a minute, not per packet.
 */
public final class InventoryObserver implements ClientObserver, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InventoryObserver.class);
    private static final Duration SEEN_INTERVAL = Duration.ofMinutes(1);

    private final Inventory inventory;
    private final Runnable onNewClient;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("inventory-writer").factory());
    private final Map<String, Instant> lastWritten = new ConcurrentHashMap<>();

    /** @param onNewClient runs after a client was registered (e.g. to refresh caches) */
    public InventoryObserver(Inventory inventory, Runnable onNewClient) {
        this.inventory = inventory;
        this.onNewClient = onNewClient;
    }

    @Override
    public void seen(Machine m, Instant at) {
        Instant last = lastWritten.get(m.mac());
        if (last != null && last.plus(SEEN_INTERVAL).isAfter(at)) return;
        lastWritten.put(m.mac(), at);
        writer.execute(() -> {
            try {
                if (inventory.clientSeen(m.mac(), m.arch().name().toLowerCase(Locale.ROOT), m.uuid(), m.hostname(), at)) {
                    log.info("new client {} ({}{}) registered", m.mac(), m.arch().name().toLowerCase(Locale.ROOT), m.isIpxe() ? ", iPXE" : "");
                    onNewClient.run();
                }
                inventory.recordBootEvent(new BootEvent(m.mac(), at, "dhcp-discover", "", "", m.vendorClass()));
            } catch (RuntimeException e) {
                log.warn("could not record client {}: {}", m.mac(), e.getMessage());
            }
        });
    }

    @Override
    public void booted(Machine m, BootPlan plan, Ipv4 address, Instant at) {
        writer.execute(() -> {
            try {
                inventory.recordBootEvent(new BootEvent(m.mac(), at, "dhcp-boot", address.isAny() ? "" : address.toString(), plan.bootFile(), ""));
            } catch (RuntimeException e) {
                log.warn("could not record the boot of {}: {}", m.mac(), e.getMessage());
            }
        });
    }

    /** Waits for queued writes (tests). */
    public void sync() throws InterruptedException {
        try {
            writer.submit(() -> {}).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
