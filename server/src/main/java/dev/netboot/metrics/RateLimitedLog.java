package dev.netboot.metrics;

import org.slf4j.Logger;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One warning per interval for events that can arrive by the thousand (malformed packets from a
 * broken or hostile client): the person reading the log learns that it happens, how often and the
 * latest example, without the log being flooded. Counters keep the exact numbers.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextAllowed = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, long intervalNanos) {
        this.log = log;
        this.intervalNanos = intervalNanos;
    }

    public void warn(String message) {
        emit(message, log::warn);
    }

    /** The same at INFO, for events that are normal in numbers (boot loaders asking for optional files). */
    public void info(String message) {
        emit(message, log::info);
    }

    private void emit(String message, java.util.function.Consumer<String> sink) {
        long now = System.nanoTime();
        long allowed = nextAllowed.get();
        if ((allowed == Long.MIN_VALUE || now - allowed >= 0) && nextAllowed.compareAndSet(allowed, now + intervalNanos)) {
            long skipped = suppressed.getAndSet(0);
            sink.accept(skipped == 0 ? message : message + " (" + skipped + " similar events not logged since the last one)");
        } else {
            suppressed.incrementAndGet();
        }
    }
}
