package dev.netboot.replication;

import dev.netboot.testlib.Fuzz;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 10^6 mutations of authenticated frames (and random bytes) at a fresh receiver each: only the
 * untouched frames decode, everything else is a typed refusal, nothing crashes.
 */
class ReplicationMillionInputsTest {

    static final byte[] SECRET = "a shared secret of the two servers".getBytes();

    @Test
    void aMillionInputsNeverCrashTheDecoder() throws Exception {
        ReplicationCodec sender = ReplicationCodecProperties.link(SECRET, SECRET)[0];
        List<byte[]> seeds = new ArrayList<>();
        for (ReplicationMessage m : List.of(new ReplicationMessage.Ping(42))) {
            ByteBuffer f = sender.encode(m);
            byte[] b = new byte[f.remaining()];
            f.get(b);
            seeds.add(b);
        }
        Fuzz.Outcome o = Fuzz.run(seeds, Fuzz.MILLION, 0x4e9_0001L, RejectedFrameException.class, b -> {
            ReplicationCodec receiver = ReplicationCodecProperties.link(SECRET, SECRET)[1];
            receiver.decode(ByteBuffer.wrap(b));
        });
        assertThat(o.refused()).isGreaterThan(Fuzz.MILLION * 9 / 10);
    }
}
