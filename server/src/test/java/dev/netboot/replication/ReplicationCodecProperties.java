package dev.netboot.replication;

import dev.netboot.replication.RejectedFrameException.Reason;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ReplicationCodecProperties {

    static final byte[] SECRET = "correct horse battery staple".getBytes();
    static final byte[] A = nonce(1);
    static final byte[] B = nonce(2);

    /** The two ends of one connection: A's sender pairs with B's receiver and the other way round. */
    static ReplicationCodec[] link(byte[] secretA, byte[] secretB) throws RejectedFrameException {
        return new ReplicationCodec[] {
                ReplicationCodec.forConnection(secretA, A, B, ReplicationCodec.DEFAULT_MAX_FRAME),
                ReplicationCodec.forConnection(secretB, B, A, ReplicationCodec.DEFAULT_MAX_FRAME) };
    }

    static byte[] nonce(int seed) {
        byte[] n = new byte[ReplicationCodec.NONCE_LENGTH];
        new java.util.Random(seed).nextBytes(n);
        return n;
    }

    @Provide
    Arbitrary<ReplicationMessage> messages() { return Messages.any(); }

    @Provide
    Arbitrary<List<ReplicationMessage>> conversations() { return Messages.any().list().ofMinSize(1).ofMaxSize(8); }

    @Property
    void everyMessageSurvivesEncodeThenDecodeInOrder(@ForAll("conversations") List<ReplicationMessage> messages) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        for (ReplicationMessage m : messages) {
            ByteBuffer frame = l[0].encode(m);
            assertThat(l[1].frameLength(frame)).isEqualTo(frame.remaining());
            assertThat(l[1].decode(frame)).isEqualTo(m);
        }
        assertThat(l[1].received()).isEqualTo(messages.size());
    }

    @Property(tries = 3000)
    void anySingleBitFlipIsRefused(@ForAll("messages") ReplicationMessage m, @ForAll @IntRange(min = 0) int where) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        ByteBuffer frame = l[0].encode(m);
        int bit = where % (frame.remaining() * 8);
        frame.put(bit / 8, (byte) (frame.get(bit / 8) ^ (1 << (bit % 8))));
        RejectedFrameException e = catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame));
        assertThat(e).as("flipped bit %d of %d-byte frame", bit, frame.remaining()).isNotNull();
        // The length field can turn the damage into a size complaint; anywhere else it is the MAC.
        if (bit >= 32) assertThat(e.reason()).isEqualTo(Reason.BAD_MAC);
        assertThat(l[1].received()).isZero();
    }

    @Property
    void aReplayedFrameIsRefusedAndTheNextOneStillGoesThrough(@ForAll("conversations") List<ReplicationMessage> messages, @ForAll @IntRange(min = 0) int pick) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        List<ByteBuffer> frames = messages.stream().map(l[0]::encode).toList();
        int replay = pick % frames.size();
        for (int i = 0; i < frames.size(); i++) {
            l[1].decode(frames.get(i));
            if (i >= replay) {
                ByteBuffer again = frames.get(replay);
                assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(again)).reason()).isEqualTo(Reason.REPLAYED);
            }
        }
        assertThat(l[1].received()).isEqualTo(frames.size());
    }

    @Property
    void aFrameThatSkipsAheadIsRefused(@ForAll("conversations") List<ReplicationMessage> messages) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        l[0].encode(new ReplicationMessage.Ping(0));        // this one never arrives
        ByteBuffer later = l[0].encode(messages.getFirst());
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(later)).reason()).isEqualTo(Reason.OUT_OF_ORDER);
    }

    @Property
    void aFrameFromAnEarlierConnectionIsRefused(@ForAll("messages") ReplicationMessage m) throws Exception {
        ByteBuffer recorded = link(SECRET, SECRET)[0].encode(m);
        ReplicationCodec newReceiver = ReplicationCodec.forConnection(SECRET, B, nonce(3), ReplicationCodec.DEFAULT_MAX_FRAME);
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> newReceiver.decode(recorded)).reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Property
    void aFrameReflectedToItsSenderIsRefused(@ForAll("messages") ReplicationMessage m) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        ByteBuffer mine = l[0].encode(m);
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[0].decode(mine)).reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Property
    void aPeerWithoutTheSecretIsRefused(@ForAll("messages") ReplicationMessage m) throws Exception {
        ReplicationCodec[] l = link("guessed".getBytes(), SECRET);
        ByteBuffer frame = l[0].encode(m);
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame)).reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Property(tries = 3000)
    void randomBytesAreRefusedWithTheTypedErrorOnly(@ForAll @Size(max = 300) byte[] junk) throws Exception {
        ReplicationCodec receiver = link(SECRET, SECRET)[1];
        assertThatThrownBy(() -> {
            receiver.frameLength(ByteBuffer.wrap(junk));
            receiver.decode(ByteBuffer.wrap(junk));
        }).isInstanceOf(RejectedFrameException.class).hasMessageContaining(":");
    }

    @Property(tries = 2000)
    void truncatedFramesAreRefusedAsTruncated(@ForAll("messages") ReplicationMessage m, @ForAll @IntRange(min = 0) int cut) throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        ByteBuffer frame = l[0].encode(m);
        int keep = cut % frame.remaining();
        ByteBuffer part = frame.limit(keep);
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(part)).reason()).isEqualTo(Reason.TRUNCATED);
    }
}
