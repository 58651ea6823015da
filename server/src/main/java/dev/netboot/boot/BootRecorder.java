package dev.netboot.boot;

import dev.netboot.dhcp.Machine;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.ClientObserver;
import dev.netboot.net.Ipv4;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Inventory;
import dev.netboot.metrics.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What DHCP's answers mean for the rest of the appliance: a network-boot client is registered in the
 * inventory on first sight, its boots are recorded as events, and an answered network boot is handed to
 * the {@link Booter} (the one moment a disk may be made without an operator). DHCP calls this on its
 * event loop, so every database write runs on one background thread.
 *
 * <p>Bounded against floods, since anyone on the segment can send DHCP: per MAC at most one sighting a
 * minute, and one boot event a minute per boot file and address it was answered with; at most {@code newClientsPerMinute} new clients registered a minute (made-up
 * MACs beyond that are not registered; a real PC asks again and is registered later); the write queue is
 * bounded and what does not fit is dropped with one log line a minute.
 */
public final class BootRecorder implements ClientObserver, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BootRecorder.class);
    /** One write per MAC and kind in this long: a ROM retrying its DISCOVER every second is written once. */
    static final Duration PER_MAC_INTERVAL = Duration.ofMinutes(1);
    private static final int RECENT_MACS = 100_000;

    private final Inventory inventory;
    private final Runnable onNewClient;
    private final Consumer<String> networkBootAnswered;
    private final int newClientsPerMinute;
    private final Clock clock;
    /** Bounded: a flood of made-up MACs must not queue writes without end; what does not fit is dropped and logged. */
    private final InventoryWriter writer = new InventoryWriter("inventory-writer", 10_000, this::dropped);
    private final RateLimitedLog droppedLog = new RateLimitedLog(log, TimeUnit.MINUTES.toNanos(1));
    private final RateLimitedLog newClientsLog = new RateLimitedLog(log, TimeUnit.MINUTES.toNanos(1));
    private final Map<String, Instant> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastBooted = new ConcurrentHashMap<>();
    private Instant minuteStarted = Instant.MIN;
    private int newThisMinute;

    /**
     * @param onNewClient         runs after a client was registered (e.g. to refresh caches)
     * @param networkBootAnswered told the MAC of each network boot DHCP answered with a boot file ({@link Booter#networkBootAnswered})
     * @param newClientsPerMinute at most this many clients registered a minute
     */
    public BootRecorder(Inventory inventory, Runnable onNewClient, Consumer<String> networkBootAnswered, int newClientsPerMinute, Clock clock) {
        this.inventory = inventory;
        this.onNewClient = onNewClient;
        this.networkBootAnswered = networkBootAnswered;
        this.newClientsPerMinute = newClientsPerMinute;
        this.clock = clock;
    }

    @Override
    public void seen(Machine m, Instant at) {
        if (!firstInInterval(lastSeen, m.mac(), at)) return;
        writer.execute(() -> {
            try {
                boolean known = inventory.client(m.mac()).isPresent();
                if (!known && !mayRegister()) {
                    newClientsLog.warn("more than " + newClientsPerMinute + " new clients a minute (inventory.newClientsPerMinute): "
                            + m.mac() + " and others are not registered now (a flood of made-up MACs? a real PC is registered when it asks again)");
                    lastSeen.remove(m.mac());
                    return;
                }
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
        if (!plan.isNone()) networkBootAnswered.accept(m.mac());
        // The same answer again (a ROM retrying) is written once a minute; a new stage of the boot (the ROM,
        // then iPXE with another boot file) is a new event of the timeline.
        if (!firstInInterval(lastBooted, m.mac() + " " + plan.bootFile() + " " + address, at)) return;
        writer.execute(() -> {
            try {
                if (inventory.client(m.mac()).isEmpty()) return; // not registered (flood limit): nothing to hang the event on
                inventory.recordBootEvent(new BootEvent(m.mac(), at, "dhcp-boot", address.isAny() ? "" : address.toString(), plan.bootFile(), ""));
            } catch (RuntimeException e) {
                log.warn("could not record the boot of {}: {}", m.mac(), e.getMessage());
            }
        });
    }

    private static boolean firstInInterval(Map<String, Instant> last, String mac, Instant at) {
        Instant previous = last.get(mac);
        if (previous != null && previous.plus(PER_MAC_INTERVAL).isAfter(at)) return false;
        if (last.size() > RECENT_MACS) last.clear(); // only a cache of recent writes
        last.put(mac, at);
        return true;
    }

    /** On the writer thread only. */
    private boolean mayRegister() {
        Instant now = clock.instant();
        if (now.isAfter(minuteStarted.plus(Duration.ofMinutes(1)))) {
            minuteStarted = now;
            newThisMinute = 0;
        }
        return newThisMinute++ < newClientsPerMinute;
    }

    private void dropped() {
        droppedLog.warn("the inventory cannot keep up with DHCP (a flood of new clients?): client sightings are being dropped");
    }

    /** Waits for queued writes (tests). */
    public void sync() throws InterruptedException { writer.sync(); }

    @Override
    public void close() { writer.close(); }
}
