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
 * <p>Polling pays only when the answer comes soon: a spin that waits most of {@code spinNanos} for it
 * costs that CPU every packet, and where the peer shares the CPUs (a PC under qemu TCG on the same host,
 * 80-200 µs a block) it takes that CPU from the very process that must produce the answer, so the answer
 * comes later still. Measured with bench/boot.sh's uefi-secure row and a packet capture: the spin made the
 * PC's own turnaround 142 µs (median) against 80 µs without it, its kernel took 3.0-3.5 s against 2.3 s,
 * and the server used 2.4 s of CPU per boot against 1.8 s. So the loop keeps a moving average of the time
 * between its I/O events (gaps longer than {@value #IDLE_GAPS} spins are idleness, not round trips, and are
 * left out) and spins only while that average is under half the spin: a peer that answers in tens of
 * microseconds (atftp on the same host: 36 MB/s with the spin, 27 without) is polled for, a slow one is not,
 * and one answer that happens to be quick does not start the spinning again. The average of a loop that
 * blocks includes its own wake-up, so a quick peer first met while blocking may stay unpolled (atftp then
 * gets what it gets with the spin off); probing it now and then was tried and made the qemu PCs' transfers
 * bimodal (2.2 or 3.9 s), since one quick answer caught by a probe started spins that slowed the PC again.
 * A spin that runs out without I/O (the peer went quiet) makes the loop skip spinning for the next 1, 3,
 * 7 ... up to {@value #MAX_SKIP} quiet periods, unless I/O comes back within the spin.
 *
 * <p>A loop that does not spin blocks without polling first (Netty's own strategy does the same): that poll
 * was one epoll_wait() system call per packet that found nothing, since the blocking wait returns the I/O
 * itself. A return from a blocking wait counts as I/O: in lock-step traffic it is the peer's answer, and a
 * wake-up for a task or timer at worst starts one spin that runs out.
 */
final class BriefSpinSelectStrategy implements SelectStrategy {

    /** At most this many quiet periods in a row go without a spin: then one spin probes again. */
    static final int MAX_SKIP = 63;
    /** Gaps between I/O events longer than this many spins are idleness and do not enter the average. */
    static final int IDLE_GAPS = 20;

    private final long spinNanos;
    private final LongSupplier clock;
    private long lastActivity = Long.MIN_VALUE / 2;
    /** Whether the current quiet period (since the last I/O) was decided: spin or not. No I/O yet: no period. */
    private boolean periodDecided = true;
    private boolean spinningThisPeriod;
    private int penalty;
    private int skip;
    private long spinsInVain;
    /** Moving average (weight 1/4) of the time between I/O events, idle gaps left out; 0: spin from the start. */
    private long averageGap;
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
            spinningThisPeriod = skip == 0 && peerIsQuick();
            if (skip > 0) skip--;
        }
        if (spinningThisPeriod) {
            if (now - lastActivity < spinNanos) {
                int ready = selectNow.get();
                if (ready > 0) activity(now);
                return ready;   // 0: the loop comes straight back, which is the spin
            }
            // The spin ran out with nothing to read: the peer went quiet or answers slower than we poll.
            spinningThisPeriod = false;
            spinsInVain++;
            penalty = Math.min(penalty * 2 + 1, MAX_SKIP);
            skip = penalty;
        }
        blocked = true;
        return SelectStrategy.SELECT;
    }

    private void activity(long now) {
        long gap = now - lastActivity;
        if (gap >= 0 && gap < IDLE_GAPS * spinNanos) averageGap += (gap - averageGap) / 4;
        if (gap < spinNanos && peerIsQuick()) {
            penalty = 0;
            skip = 0;
        }
        lastActivity = now;
        periodDecided = false;
        spinningThisPeriod = false;
    }

    /** Whether I/O has lately come within half a spin of the previous I/O: only then does polling pay. */
    private boolean peerIsQuick() {
        return averageGap < spinNanos / 2;
    }

    /** Spins that ran out without I/O so far (for tests). */
    long spinsInVain() { return spinsInVain; }
}
