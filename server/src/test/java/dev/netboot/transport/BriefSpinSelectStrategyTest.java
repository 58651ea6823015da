package dev.netboot.transport;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event loop's polling against a lock-step peer, on a fake clock: each poll costs 1 µs; a loop that
 * blocks sleeps until the peer's answer, which the blocking wait itself returns (as epoll_wait does: the loop
 * then handles it and asks the strategy again, with nothing left to poll). What it costs is the number of
 * polls that found nothing.
 */
class BriefSpinSelectStrategyTest {

    static final long US = 1_000, SPIN = 100 * US;

    /** Polls spent in vain over {@code blocks} round trips with a peer that answers after {@code answerUs}. */
    static long wastedPolls(BriefSpinSelectStrategy s, long[] clock, long answerUs, int blocks) throws Exception {
        return run(s, clock, answerUs, blocks)[0];
    }

    /** {polls that found nothing while spinning, polls made just before blocking anyway}. */
    static long[] run(BriefSpinSelectStrategy s, long[] clock, long answerUs, int blocks) throws Exception {
        long wasted = 0, beforeBlocking = 0;
        for (int b = 0; b < blocks; b++) {
            long answerAt = clock[0] + answerUs * US;
            while (true) {
                int[] polls = {0};
                int r = s.calculateStrategy(() -> {
                    polls[0]++;
                    return clock[0] >= answerAt ? 1 : 0;
                }, false);
                if (r == SelectStrategy.SELECT) {
                    beforeBlocking += polls[0];
                    clock[0] = Math.max(clock[0], answerAt);   // blocked in epoll_wait until the answer: no CPU
                    break;
                }
                if (r > 0) break;                              // a poll found the answer
                assertThat(r).isZero();
                wasted++;
                clock[0] += US;
            }
            clock[0] += 5 * US;                                // handling the answer and sending the next block
        }
        return new long[] {wasted, beforeBlocking};
    }

    @Test
    void aQuickPeerIsPolledForEveryTime() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        long polls = wastedPolls(s, clock, 30, 1000);
        assertThat(s.spinsInVain()).isZero();
        assertThat(polls).as("it polls until each answer: no sleep, no wake-up").isBetween(1000L * 29, 1000L * 31);
    }

    @Test
    void aSlowPeerStopsTheSpinningThatNeverCatchesItsAnswer() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        long polls = wastedPolls(s, clock, 300, 1000);
        // Polling after every block would cost 100 polls a block (100 000); one probe per 64 blocks remains.
        assertThat(polls).isLessThan(100L * 1000 / 20);
        assertThat(s.spinsInVain()).isBetween(1000L / 64, 1000L / 64 + 8);
    }

    @Test
    void aPeerThatTurnsQuickIsPolledForAgainAtOnce() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        wastedPolls(s, clock, 300, 200);
        long inVain = s.spinsInVain();
        long polls = wastedPolls(s, clock, 30, 100);
        assertThat(s.spinsInVain()).isEqualTo(inVain);
        assertThat(polls).as("from the first quick answer on, every wait is polled").isGreaterThan(29L * 98);
    }

    @Test
    void aLoopThatBlocksDoesNotPollFirst() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        long[] slow = run(s, clock, 300, 1000);
        // Such a poll is a system call that cannot find anything the blocking wait would not return.
        assertThat(slow[1]).as("polls made right before blocking").isZero();
    }

    @Test
    void anIdleLoopBlocks() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        assertThat(s.calculateStrategy(() -> 0, false)).isEqualTo(SelectStrategy.SELECT);
        assertThat(s.calculateStrategy(() -> 0, true)).as("tasks to run: no block").isZero();
    }
}
