package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.VerifyDigest;
import dev.netboot.replication.ReplicationMessage.VerifyRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class OnlineVerifyTest {

    /** DRBD's verify test: four blocks changed behind the replication's back, an adjacent pair among them. */
    @ParameterizedTest
    @EnumSource(RegionDigest.class)
    void findsExactlyTheBlocksChangedBehindItsBack(RegionDigest digest) {
        int region = 4096;
        byte[] primary = new byte[256 * region];
        new Random(7).nextBytes(primary);
        byte[] standby = primary.clone();
        for (int block : new int[] {3, 100, 101, 255}) standby[block * region + 17] ^= 0x01;   // one bit each

        DirtyBitmap bitmap = new DirtyBitmap(primary.length, region);
        OnlineVerify verify = new OnlineVerify("d", bitmap, 8 * region, 4, new TokenBucket(0, 1, 0));
        long now = 0;
        while (!verify.finished()) {
            List<VerifyRequest> asked = verify.next(now++);
            // Answers out of order: the peer's first, then ours, reversed.
            for (VerifyRequest r : asked.reversed()) {
                ByteBuffer theirs = digest.of(ByteBuffer.wrap(standby, (int) r.offset(), r.length()));
                assertThat(verify.peerDigest(new VerifyDigest("d", r.offset(), r.length(), theirs))).isTrue();
            }
            for (VerifyRequest r : asked) verify.localDigest(r.offset(), digest.of(ByteBuffer.wrap(primary, (int) r.offset(), r.length())));
        }
        assertThat(verify.mismatches()).containsExactly(
                new OnlineVerify.Mismatch(0, 8 * region), new OnlineVerify.Mismatch(96 * region, 8 * region), new OnlineVerify.Mismatch(248 * region, 8 * region));
        assertThat(bitmap.dirtyRegions()).isEqualTo(24);
        assertThat(verify.verifiedBytes()).isEqualTo(primary.length);
        assertThat(verify.peerDigest(new VerifyDigest("d", 0, 8 * region, ByteBuffer.allocate(4)))).isFalse();
    }
}
