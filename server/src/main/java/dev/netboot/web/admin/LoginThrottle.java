package dev.netboot.web.admin;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down guessing the admin password. Wrong logins are counted per address and account
 * ({@code maxFailures} in {@code window} refuses that pair with 429) and per account over all
 * addresses ({@code 10 × maxFailures}: ten thousand addresses do not get ten guesses each). A browser
 * that logged in once carries a device token: the lock-outs that others cause (from the admin's own,
 * shared address, or by locking the account) do not apply to it; its own wrong logins are counted
 * on the token. Every table is bounded and forgets its oldest entries, never all of them at once.
 * A browser's first request without credentials is no failure; only a wrong user or password counts.
 */
final class LoginThrottle {

    static final int MAX_PAIRS = 4096;
    static final int MAX_DEVICES = 256;

    private final int maxFailures;
    private final int maxAccountFailures;
    private final Duration window;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Bounded<String, Failures> pairs = new Bounded<>(MAX_PAIRS);
    private final Bounded<String, Failures> accounts = new Bounded<>(MAX_PAIRS);
    private final Bounded<String, Failures> devices = new Bounded<>(MAX_DEVICES);

    private record Failures(Instant since, int count) {}

    /** A LinkedHashMap in access order that drops its least recently used entry past {@code max}. */
    private static final class Bounded<K, V> extends LinkedHashMap<K, V> {
        private final int max;
        Bounded(int max) { super(16, 0.75f, true); this.max = max; }
        @Override protected boolean removeEldestEntry(Map.Entry<K, V> eldest) { return size() > max; }
    }

    LoginThrottle(int maxFailures, Duration window, Clock clock) {
        this.maxFailures = maxFailures;
        this.maxAccountFailures = 10 * maxFailures;
        this.window = window;
        this.clock = clock;
    }

    /** @param device the device token the browser sent, or null */
    synchronized boolean blocked(String address, String account, String device) {
        if (devices.containsKey(device)) return count(devices, device) >= maxFailures;
        return count(pairs, pair(address, account)) >= maxFailures || count(accounts, account) >= maxAccountFailures;
    }

    /** Records a wrong login; returns how many there were for this address and account (or this device) in the window. */
    synchronized int failed(String address, String account, String device) {
        if (devices.containsKey(device)) return add(devices, device);
        add(accounts, account);
        return add(pairs, pair(address, account));
    }

    /** A right login: clears this pair's count and returns the device token the browser should keep (new or its own). */
    synchronized String succeeded(String address, String account, String device) {
        pairs.remove(pair(address, account));
        if (devices.containsKey(device)) {
            devices.put(device, new Failures(clock.instant(), 0));
            return device;
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        devices.put(token, new Failures(clock.instant(), 0));
        return token;
    }

    synchronized int tableSizes() { return pairs.size() + accounts.size() + devices.size(); }

    private static String pair(String address, String account) { return address + "\u0000" + account; }

    private int count(Bounded<String, Failures> table, String key) {
        Failures f = table.get(key);
        if (f == null || expired(f)) return 0;
        return f.count();
    }

    private int add(Bounded<String, Failures> table, String key) {
        Failures f = table.get(key);
        Failures next = f == null || expired(f) ? new Failures(clock.instant(), 1) : new Failures(f.since(), f.count() + 1);
        table.put(key, next);
        return next.count();
    }

    private boolean expired(Failures f) { return f.since().plus(window).isBefore(clock.instant()); }
}
