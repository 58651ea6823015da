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
        // Polling after every block would cost 100 polls a block (100 000): the first spin runs out, then none.
        assertThat(polls).isLessThan(2 * 100L);
        assertThat(s.spinsInVain()).isBetween(1L, 2L);
    }

    @Test
    void aPeerThatAnswersWithinTheSpinButSlowlyIsNotSpunFor() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        // A PC under qemu TCG on the same host: 80 µs a block. Each spin would catch the answer, after 80 polls
        // that take the CPU the PC needs to answer (bench/boot.sh, uefi-secure: its kernel 3.0-3.5 s against 2.3 s).
        long polls = wastedPolls(s, clock, 80, 1000);
        assertThat(polls).as("polls over 1000 blocks, against 80 000 for a spin every block: a few while the average learns").isLessThan(80L * 10);
    }

    @Test
    void oneQuickAnswerAmongSlowOnesDoesNotStartTheSpinning() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        wastedPolls(s, clock, 120, 100);
        long polls = 0;
        for (int i = 0; i < 100; i++) {
            polls += wastedPolls(s, clock, i % 10 == 0 ? 20 : 120, 1);
        }
        // A spin every block would cost 90 × 100 + 10 × 20 polls; the old rule spun after each quick answer.
        assertThat(polls).isLessThan(20L * 3);
    }

    @Test
    void aPeerThatTurnsQuickIsPolledForAgainWithinAFewRoundTrips() throws Exception {
        long[] clock = {1_000_000_000L};
        BriefSpinSelectStrategy s = new BriefSpinSelectStrategy(SPIN, () -> clock[0]);
        wastedPolls(s, clock, 300, 200);
        long inVain = s.spinsInVain();
        long polls = wastedPolls(s, clock, 30, 100);
        assertThat(s.spinsInVain()).isEqualTo(inVain);
        assertThat(polls).as("after a dozen quick answers, every wait is polled").isGreaterThan(29L * 85);
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
