package dev.netboot.web.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down guessing the admin password from the lab network: after {@code maxFailures} wrong logins
 * from one address within {@code window}, that address is refused (429) until the window has passed.
 * A browser's first request without credentials is no failure; only a wrong user or password counts.
 */
final class LoginThrottle {

    private final int maxFailures;
    private final Duration window;
    private final Clock clock;
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    private record Failures(Instant since, int count) {}

    LoginThrottle(int maxFailures, Duration window, Clock clock) {
        this.maxFailures = maxFailures;
        this.window = window;
        this.clock = clock;
    }

    boolean blocked(String address) {
        Failures f = failures.get(address);
        if (f == null) return false;
        if (f.since().plus(window).isBefore(clock.instant())) {
            failures.remove(address, f);
            return false;
        }
        return f.count() >= maxFailures;
    }

    /** Records a wrong login; returns how many there were from this address in the current window. */
    int failed(String address) {
        Instant now = clock.instant();
        if (failures.size() > 10_000) failures.clear(); // a flood of made-up addresses must not grow this without end
        return failures.compute(address, (a, f) -> f == null || f.since().plus(window).isBefore(now) ? new Failures(now, 1)
                : new Failures(f.since(), f.count() + 1)).count();
    }

    void succeeded(String address) { failures.remove(address); }
}
