package dev.netboot.replication;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokenBucketTest {

    static final long S = 1_000_000_000L;

    @Test
    void aGreedyTakerGetsTheRateAndNoMore() {
        TokenBucket b = new TokenBucket(1_000_000, 65536, 0);
        long taken = 0;
        for (long now = 0; now <= 10 * S; now += S / 1000) {
            while (b.tryTake(65536, now)) taken += 65536;
        }
        assertThat(taken).isBetween(10 * 1_000_000L - 65536, 10 * 1_000_000L + 65536);
    }

    @Test
    void itSaysHowLongToWait() {
        TokenBucket b = new TokenBucket(1_000_000, 100_000, 0);
        assertThat(b.tryTake(100_000, 0)).isTrue();
        assertThat(b.tryTake(1, 0)).isFalse();
        assertThat(b.nanosUntil(50_000, 0)).isEqualTo(S / 20);
        assertThat(b.tryTake(50_000, S / 20)).isTrue();
    }

    @Test
    void aTakeLargerThanTheBurstGoesThroughWhenFullAndIsPaidForAfterwards() {
        TokenBucket b = new TokenBucket(1_000_000, 1000, 0);
        assertThat(b.tryTake(1_000_000, 0)).isTrue();
        assertThat(b.tryTake(1000, S / 2)).isFalse();
        assertThat(b.tryTake(1000, S + S / 1000)).isTrue();
    }

    @Test
    void rateZeroIsUnlimited() {
        TokenBucket b = new TokenBucket(0, 1, 0);
        assertThat(b.tryTake(Long.MAX_VALUE / 2, 0)).isTrue();
        assertThat(b.nanosUntil(1 << 30, 0)).isZero();
    }
}
