package dev.netboot.aoe;

import dev.netboot.testlib.Fuzz;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 10^6 mutations of the AoE frames of a real boot (and random frames) at the decoder and, when they
 * decode, at the responder: refused as malformed or answered, never a crash.
 */
class AoeMillionInputsTest {

    @Test
    void aMillionInputsNeverCrashTheDecoderOrTheResponder() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        for (ByteBuffer f : AoeCodecTest.capturedAoeFrames()) {
            byte[] b = new byte[f.remaining()];
            f.duplicate().get(b);
            seeds.add(b);
        }
        Harness h = new Harness();
        // Every disk the captured boot talked to, open to any MAC, so mutated requests reach the ATA paths.
        java.util.Set<TargetAddress> disks = new java.util.HashSet<>();
        for (byte[] b : seeds) {
            AoeFrame f = AoeCodec.decode(ByteBuffer.wrap(b));
            if (!f.header().addressesAll()) disks.add(new TargetAddress(f.header().shelf(), f.header().slot()));
        }
        for (TargetAddress a : disks) {
            h.responder.add(new AoeTarget(new TargetDefinition(a, 1 << 15, java.util.Set.of(), true, false, "FUZZ" + a), TargetState.EMPTY));
            h.stores.put(a, new dev.netboot.storage.MemoryBlockStore((1 << 15) * 512));
        }
        FrameSink discard = new FrameSink() {
            @Override public ByteBuffer claim(int capacity) { return ByteBuffer.allocate(capacity); }
            @Override public void commit(ByteBuffer frame) {}
        };
        Fuzz.Outcome o = Fuzz.run(seeds, Fuzz.MILLION, 0xa0e_0001L, MalformedFrameException.class, b -> {
            AoeFrame frame = AoeCodec.decode(ByteBuffer.wrap(b));
            // What decodes goes through the one entry production uses: replies and effects, never an exception.
            if (!frame.header().response()) h.runner.run(h.responder.handle(ByteBuffer.wrap(b), Harness.PORT), discard);
        });
        assertThat(o.decoded()).isGreaterThan(Fuzz.MILLION / 20);
        assertThat(o.refused()).isGreaterThan(Fuzz.MILLION / 20);
    }
}
