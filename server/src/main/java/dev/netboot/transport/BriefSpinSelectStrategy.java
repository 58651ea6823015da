package dev.netboot.transport;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

import java.util.function.LongSupplier;

/**
 * Keeps an event loop polling (epoll_wait with a zero timeout) for a short while after its last I/O
 * before it blocks. In a lock-step protocol the answer to our packet comes back within tens of
 * microseconds; blocking in between costs a sleep and a wake-up (an inter-processor interrupt, and a VM
 * exit on virtual machines) per packet, which is most of a lock-step TFTP block's round trip.
 * An idle loop blocks after {@code spinNanos}, so an idle server uses no CPU.
 *
 * <p>Polling pays only when the answer comes within the spin. A PC that takes longer to answer each block
 * (a PC under qemu TCG: 0.2-2 ms) made every spin run out in vain: ~100 µs of CPU per block, taken from
 * that very PC when they share the CPUs ({@code bench/tftp-cpu.sh}). So a spin that runs out without I/O
 * makes the loop skip spinning for the next 1, 3, 7 ... up to {@value #MAX_SKIP} quiet periods; I/O that
 * comes within {@code spinNanos} of the previous I/O (a quick peer, whether we spun or blocked) ends the
 * skipping at once.
 *
 * <p>A loop that does not spin blocks without polling first (Netty's own strategy does the same): that poll
 * was one epoll_wait() system call per packet that found nothing, since the blocking wait returns the I/O
 * itself. A return from a blocking wait counts as I/O: in lock-step traffic it is the peer's answer, and a
 * wake-up for a task or timer at worst starts one spin that runs out.
 */
final class BriefSpinSelectStrategy implements SelectStrategy {

    /** At most this many quiet periods in a row go without a spin: then one spin probes again. */
    static final int MAX_SKIP = 63;

    private final long spinNanos;
    private final LongSupplier clock;
    private long lastActivity = Long.MIN_VALUE / 2;
    /** Whether the current quiet period (since the last I/O) was decided: spin or not. No I/O yet: no period. */
    private boolean periodDecided = true;
    private boolean spinningThisPeriod;
    private int penalty;
    private int skip;
    private long spinsInVain;
    /** The last answer was SELECT: the next call comes after a blocking wait. */
    private boolean blocked;

    BriefSpinSelectStrategy(long spinNanos) {
        this(spinNanos, System::nanoTime);
    }

    BriefSpinSelectStrategy(long spinNanos, LongSupplier clock) {
        this.spinNanos = spinNanos;
        this.clock = clock;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        long now = clock.getAsLong();
        if (blocked) {
            // Back from a blocking wait: it returned the I/O (or a task) itself, no poll would see it.
            blocked = false;
            activity(now);
        }
        if (hasTasks) {
            int ready = selectNow.get();
            if (ready > 0) activity(now);
            return ready;
        }
        if (!periodDecided) {
            periodDecided = true;
            spinningThisPeriod = skip == 0;
            if (skip > 0) skip--;
        }
        if (spinningThisPeriod) {
            if (now - lastActivity < spinNanos) {
                int ready = selectNow.get();
                if (ready > 0) activity(now);
                return ready;   // 0: the loop comes straight back, which is the spin
            }
            // The spin ran out with nothing to read: the peer answers slower than we poll.
            spinningThisPeriod = false;
            spinsInVain++;
            penalty = Math.min(penalty * 2 + 1, MAX_SKIP);
            skip = penalty;
        }
        blocked = true;
        return SelectStrategy.SELECT;
    }

    private void activity(long now) {
        if (now - lastActivity < spinNanos) {
            penalty = 0;
            skip = 0;
        }
        lastActivity = now;
        periodDecided = false;
        spinningThisPeriod = false;
    }

    /** Spins that ran out without I/O so far (for tests). */
    long spinsInVain() { return spinsInVain; }
}
