package dev.netboot.transport;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * Keeps an event loop polling (epoll_wait with a zero timeout) for a short while after its last I/O
 * before it blocks. In a lock-step protocol the answer to our packet comes back within tens of
 * microseconds; blocking in between costs a sleep and a wake-up (an inter-processor interrupt, and a VM
 * exit on virtual machines) per packet, which is most of a lock-step TFTP block's round trip.
 * An idle loop blocks after {@code spinNanos}, so an idle server uses no CPU.
 */
final class BriefSpinSelectStrategy implements SelectStrategy {

    private final long spinNanos;
    private long lastActivity = Long.MIN_VALUE / 2;

    BriefSpinSelectStrategy(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        int ready = selectNow.get();
        if (ready > 0 || hasTasks) {
            if (ready > 0) lastActivity = System.nanoTime();
            return ready;
        }
        return System.nanoTime() - lastActivity < spinNanos ? 0 : SelectStrategy.SELECT;
    }
}
