package dev.netboot.boot.menus;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The PCs that are waiting right now for an image: each asked for its menu, got "no image assigned,
 * asking again", and asked again within {@code window}. The web admin shows them, so an operator sees
 * which PC at the other end of the room is waiting for them. In memory only: a PC that stopped asking
 * (switched off, or assigned and booting) drops out by itself.
 */
public final class WaitingClients {

    private final Clock clock;
    private final Duration window;
    private final Map<String, Instant> lastAsked = new ConcurrentHashMap<>();

    /** @param window how long after its last ask a PC still counts as waiting (a few of its retry periods) */
    public WaitingClients(Clock clock, Duration window) {
        this.clock = clock;
        this.window = window;
    }

    /** For a retry period of {@code retrySeconds}: three missed asks, at least 30 s, and it no longer counts. */
    public static WaitingClients forRetry(Clock clock, int retrySeconds) {
        return new WaitingClients(clock, Duration.ofSeconds(Math.max(30, 3L * retrySeconds)));
    }

    /** {@code mac} got the waiting menu just now. */
    public void waiting(String mac) {
        lastAsked.put(mac, clock.instant());
    }

    /** {@code mac} got a menu that boots: it waits no more. */
    public void booting(String mac) {
        lastAsked.remove(mac);
    }

    /** Waiting PCs by MAC (sorted) with when each last asked. */
    public Map<String, Instant> now() {
        Instant cutoff = clock.instant().minus(window);
        lastAsked.entrySet().removeIf(e -> e.getValue().isBefore(cutoff));
        return new TreeMap<>(lastAsked);
    }

    public boolean isWaiting(String mac) {
        return now().containsKey(mac);
    }
}
