package dev.netboot.replication;

import dev.netboot.replication.RejectedFrameException.Reason;
import dev.netboot.replication.ReplicationMessage.*;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Several messages per frame ({@link ReplicationCodec#encodeAll}): same messages, same order, fewer frames, same refusals. */
class BatchFramesProperties {

    static final byte[] SECRET = ReplicationCodecProperties.SECRET;

    static ReplicationCodec[] link(int maxFrame) throws RejectedFrameException {
        return new ReplicationCodec[] {
                ReplicationCodec.forConnection(SECRET, ReplicationCodecProperties.A, ReplicationCodecProperties.B, maxFrame),
                ReplicationCodec.forConnection(SECRET, ReplicationCodecProperties.B, ReplicationCodecProperties.A, maxFrame) };
    }

    @Provide
    Arbitrary<List<ReplicationMessage>> turns() { return Messages.any().list().ofMinSize(1).ofMaxSize(40); }

    /** Decodes frames and unpacks batches: what the receiving link handles, in order. */
    static List<ReplicationMessage> received(ReplicationCodec c, List<ByteBuffer> frames) throws RejectedFrameException {
        List<ReplicationMessage> out = new ArrayList<>();
        for (ByteBuffer f : frames) {
            ReplicationMessage m = c.decode(f);
            if (m instanceof Batch b) {
                assertThat(b.messages()).as("a batch frame carries at least two messages").hasSizeGreaterThan(1);
                out.addAll(b.messages());
            } else out.add(m);
        }
        return out;
    }

    @Property
    void anyTurnArrivesWholeInOrderWithinTheMaximumFrame(@ForAll("turns") List<ReplicationMessage> turn,
                                                          @ForAll @IntRange(min = 4096, max = 1 << 20) int maxFrame) throws Exception {
        ReplicationCodec[] l = link(maxFrame);
        // Messages that could never fit (a large generated payload under a small maximum) are not this property's business.
        List<ReplicationMessage> fitting = turn.stream().filter(m -> {
            try {
                link(maxFrame)[0].encode(m);
                return true;
            } catch (Exception e) {
                return false;
            }
        }).toList();
        if (fitting.isEmpty()) return;
        List<ByteBuffer> frames = l[0].encodeAll(fitting);
        for (ByteBuffer f : frames) assertThat(f.remaining()).isLessThanOrEqualTo(maxFrame);
        assertThat(frames.size()).isLessThanOrEqualTo(fitting.size());
        assertThat(received(l[1], frames)).isEqualTo(fitting);
        assertThat(l[1].received()).isEqualTo(frames.size());
    }

    @Property
    void smallMessagesOfOneTurnShareOneFrame(@ForAll @IntRange(min = 2, max = 200) int writes) throws Exception {
        ReplicationCodec[] l = link(ReplicationCodec.DEFAULT_MAX_FRAME);
        List<ReplicationMessage> turn = new ArrayList<>();
        for (int i = 0; i < writes; i++) turn.add(new Write("pc-1", i + 1, i * 1024L, ByteBuffer.allocate(1024), false));
        List<ByteBuffer> frames = l[0].encodeAll(turn);
        // 200 × 1 KiB fit in one 1 MiB frame: one MAC, one sequence number, one send.
        assertThat(frames).hasSize(1);
        assertThat(received(l[1], frames)).isEqualTo(turn);
    }

    @Property
    void aBitFlipAnywhereInABatchIsRefusedAndNothingOfItApplied(@ForAll @IntRange(min = 0) int where) throws Exception {
        ReplicationCodec[] l = link(ReplicationCodec.DEFAULT_MAX_FRAME);
        List<ReplicationMessage> turn = List.of(new WriteAck("pc-1", 1), new WriteAck("pc-1", 2), new Ping(3));
        ByteBuffer frame = l[0].encodeAll(turn).getFirst();
        int bit = where % (frame.remaining() * 8);
        frame.put(bit / 8, (byte) (frame.get(bit / 8) ^ (1 << (bit % 8))));
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame))).isNotNull();
        assertThat(l[1].received()).isZero();
    }

    @Property(tries = 200)
    void aSignedButInconsistentBatchIsMalformed(@ForAll("badBatches") byte[] payload) throws Exception {
        ReplicationCodec[] l = link(ReplicationCodec.DEFAULT_MAX_FRAME);
        ByteBuffer frame = ReplicationCodecTest.signed(l[0], ReplicationCodec.BATCH, payload);
        RejectedFrameException e = catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame));
        assertThat(e).isNotNull();
        assertThat(e.reason()).isIn(Reason.MALFORMED, Reason.UNKNOWN_TYPE);
    }

    /** Batch payloads the sender's MAC covers but that do not parse: nested, empty, one message, lying counts and lengths. */
    @Provide
    Arbitrary<byte[]> badBatches() {
        byte[] ping = {0, 0, 0, 0, 0, 0, 0, 7};
        return Arbitraries.of(
                batch(2, entry(ReplicationCodec.BATCH, batch(2, entry(16, ping), entry(16, ping))), entry(16, ping)),   // nested
                batch(0),                                                     // empty
                batch(1, entry(16, ping)),                                    // one message is a plain frame
                batch(1_000_000, entry(16, ping), entry(16, ping)),           // count beyond the frame
                batch(2, entry(16, ping), entry(16, new byte[3])),            // a Ping of 3 bytes
                batch(2, entry(16, ping), new byte[] {16, 0x7f, 0, 0, 0}),    // length beyond the frame
                batch(2, entry(16, ping), entry(99, ping)),                   // unknown type inside
                batch(2, entry(16, ping), entry(16, ping), new byte[] {1}));  // trailing byte
    }

    static byte[] entry(int type, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) type).putInt(payload.length).put(payload).array();
    }

    static byte[] batch(int count, byte[]... parts) {
        int n = 4;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n).putInt(count);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }
}
