package dev.netboot.boot;

import dev.netboot.inventory.Assignment;
import dev.netboot.metrics.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The one step that creates a disk without an operator: a machine with no disk whose network boot this
 * server just answered (its DHCP exchange with us) gets a clone of the default image ({@code
 * disks.defaultImage}). Reading a file never creates anything: a GET of a menu for a MAC nobody saw boot
 * only says that it waits. Clones are rate-limited ({@code disks.autoClonesPerMinute}) and capped
 * ({@code disks.maxAutoClones}, counting the disks of machines nobody assigned), and every clone and
 * every refusal is logged; a refused machine's console says why ({@link #refusal}).
 */
public final class DefaultImageClones {

    private static final Logger log = LoggerFactory.getLogger(DefaultImageClones.class);

    /** What the step needs from the disks: the clone itself and how many it made so far. */
    public interface Cloner {
        /** A clone of the default image for {@code mac}, or empty when it cannot have one (disabled, failed: logged there). */
        Optional<Assignment> cloneDefault(String mac);
    }

    /** Machines whose disk check or clone may be under way at once: DHCP floods of made-up MACs stay bounded. */
    private static final int MAX_IN_FLIGHT = 64;

    public static final DefaultImageClones NONE = new DefaultImageClones("", mac -> Optional.empty(), () -> 0, 0, 0, Clock.systemUTC());

    private final String image;
    private final Cloner cloner;
    private final IntSupplier autoCloned;
    private final int max;
    private final RateLimit rate;
    private final Map<String, CompletableFuture<Optional<Assignment>>> inFlight = new ConcurrentHashMap<>();
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    /** Refusals come by the thousand in a flood of made-up MACs: one line every 10 s tells it. */
    private final RateLimitedLog refusals = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));

    /**
     * @param image      the default image; "" = the step is off
     * @param autoCloned how many disks of machines nobody assigned exist now (the inventory)
     * @param max        at most this many such disks
     * @param perMinute  at most this many clones a minute
     */
    public DefaultImageClones(String image, Cloner cloner, IntSupplier autoCloned, int max, int perMinute, Clock clock) {
        this.image = image == null ? "" : image;
        this.cloner = cloner;
        this.autoCloned = autoCloned;
        this.max = max;
        this.rate = new RateLimit(perMinute, clock);
    }

    public boolean enabled() { return !image.isBlank(); }

    public String image() { return image; }

    /**
     * The machine's network boot was answered: if it has no disk, clone in the background (the DHCP
     * event loop must not wait for either). At most one clone per machine is under way.
     */
    public void networkBoot(String mac, BooleanSupplier hasDisk) {
        if (!enabled()) return;
        if (inFlight.size() >= MAX_IN_FLIGHT && !inFlight.containsKey(mac)) {
            refuse(mac, "too many PCs are getting a disk at this moment; it gets one on a later boot");
            return;
        }
        CompletableFuture<Optional<Assignment>> f = new CompletableFuture<>();
        if (inFlight.putIfAbsent(mac, f) != null) return;
        // Started only once the future is in the map, so its removal at the end cannot come first.
        Thread.ofVirtual().name("default-clone-" + mac).start(() -> {
            Optional<Assignment> result = Optional.empty();
            try {
                result = hasDisk.getAsBoolean() ? Optional.empty() : cloneIfAllowed(mac);
            } catch (RuntimeException e) {
                log.error("client {}: the clone of the default image {} failed: {}", mac, image, e.getMessage());
            } finally {
                // Out of the map before anyone waiting hears of it: the next boot of this machine starts afresh.
                inFlight.remove(mac, f);
                f.complete(result);
            }
        });
    }

    private Optional<Assignment> cloneIfAllowed(String mac) {
        int existing = autoCloned.getAsInt();
        if (existing >= max) {
            refuse(mac, "the server gives at most " + max + " PCs a disk by themselves (disks.maxAutoClones); an operator assigns this one");
            return Optional.empty();
        }
        if (!rate.tryAcquire()) {
            refuse(mac, "too many PCs asked for a disk within a minute (disks.autoClonesPerMinute); it gets one on a later boot");
            return Optional.empty();
        }
        Optional<Assignment> a = cloner.cloneDefault(mac);
        if (a.isPresent()) {
            refused.remove(mac);
            log.info("client {} booted with no disk: gave it a clone of the default image {} (AoE e{}; {} of at most {} such disks)",
                    mac, image, a.get().aoeAddress(), existing + 1, max);
        } else {
            refuse(mac, "the clone of the default image " + image + " failed (see the server's log)");
        }
        return a;
    }

    private void refuse(String mac, String why) {
        if (refused.size() > 10_000) refused.clear(); // only for consoles: a flood of MACs must not grow it without end
        if (!why.equals(refused.put(mac, why))) refusals.warn("client " + mac + " gets no clone of the default image " + image + ": " + why);
    }

    /** Waits (bounded) for a clone of this machine that is under way, so its first menu boots instead of waiting a round. */
    public void awaitPending(String mac, Duration max) {
        CompletableFuture<Optional<Assignment>> f = inFlight.get(mac);
        if (f == null) return;
        try {
            f.get(max.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // The menu says it waits; the clone lands for its next ask.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why this machine got no clone, if it was refused one. */
    public Optional<String> refusal(String mac) { return Optional.ofNullable(refused.get(mac)); }

    /** Token bucket of {@code perMinute} tokens, refilled continuously. */
    private static final class RateLimit {
        private final int perMinute;
        private final Clock clock;
        private double tokens;
        private Instant last;

        RateLimit(int perMinute, Clock clock) {
            this.perMinute = perMinute;
            this.clock = clock;
            this.tokens = perMinute;
            this.last = clock.instant();
        }

        synchronized boolean tryAcquire() {
            Instant now = clock.instant();
            double elapsedMinutes = Duration.between(last, now).toNanos() / 60e9;
            last = now;
            tokens = Math.min(perMinute, tokens + elapsedMinutes * perMinute);
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        }
    }
}
