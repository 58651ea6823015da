package dev.netboot.replication;

import dev.netboot.replication.RejectedFrameException.Reason;
import dev.netboot.replication.ReplicationMessage.*;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.util.List;

import static dev.netboot.replication.ReplicationCodecProperties.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ReplicationCodecTest {

    @Test
    void preambleCarriesTheNonceAndRefusesStrangers() throws Exception {
        ByteBuffer p = ReplicationCodec.preamble(A);
        assertThat(p.remaining()).isEqualTo(ReplicationCodec.PREAMBLE_LENGTH);
        assertThat(ReplicationCodec.readPreamble(p)).isEqualTo(A);
        assertThat(p.hasRemaining()).isFalse();

        ByteBuffer http = ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: standby\r\n\r\n....".getBytes());
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> ReplicationCodec.readPreamble(http)).reason()).isEqualTo(Reason.BAD_PREAMBLE);
        ByteBuffer future = ReplicationCodec.preamble(A);
        future.putShort(4, (short) (ReplicationCodec.PROTOCOL_VERSION + 1));
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> ReplicationCodec.readPreamble(future)))
                .hasMessageContaining("protocol " + (ReplicationCodec.PROTOCOL_VERSION + 1));
    }

    @Test
    void aPeerEchoingOurNonceIsRefused() {
        assertThat(catchThrowableOfType(RejectedFrameException.class,
                () -> ReplicationCodec.forConnection(SECRET, A, A.clone(), ReplicationCodec.DEFAULT_MAX_FRAME)).reason()).isEqualTo(Reason.BAD_PREAMBLE);
    }

    @Test
    void anOversizedFrameIsRefusedFromItsLengthAlone() throws Exception {
        ReplicationCodec small = ReplicationCodec.forConnection(SECRET, B, A, 4096);
        ByteBuffer header = ByteBuffer.allocate(4).putInt(4093).flip();   // 4097 bytes in all
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> small.frameLength(header)).reason()).isEqualTo(Reason.OVERSIZED);
        assertThat(small.frameLength(ByteBuffer.allocate(4).putInt(4092).flip())).isEqualTo(4096);
        assertThat(small.frameLength(ByteBuffer.allocate(3))).isEqualTo(-1);
        ReplicationCodec sender = ReplicationCodec.forConnection(SECRET, A, B, 4096);
        assertThatThrownBy(() -> sender.encode(new ResyncAnswer("d", List.of(new Piece(0, 4096, Holding.DATA)), ByteBuffer.allocate(4096)))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anAuthenticatedFrameOfAnUnknownTypeIsRefusedAsSuch() throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        ByteBuffer frame = l[0].encode(new Ping(7));
        frame.put(4, (byte) 200);
        resign(frame, senderKey());
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame)).reason()).isEqualTo(Reason.UNKNOWN_TYPE);
    }

    @Test
    void anAuthenticatedButInconsistentPayloadIsMalformedNotACrash() throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        ByteBuffer frame = l[0].encode(new WriteAck("disk-1", 5));
        frame.putShort(13, (short) 900);                     // string length beyond the payload
        resign(frame, senderKey());
        assertThat(catchThrowableOfType(RejectedFrameException.class, () -> l[1].decode(frame)).reason()).isEqualTo(Reason.MALFORMED);
        assertThat(l[1].received()).isZero();
    }

    @Test
    void frameLayoutIsLengthTypeSequencePayloadMac() throws Exception {
        ReplicationCodec[] l = link(SECRET, SECRET);
        l[0].encode(new Ping(1));
        ByteBuffer frame = l[0].encode(new Ping(0x0102030405060708L));
        assertThat(frame.remaining()).isEqualTo(ReplicationCodec.OVERHEAD + 8);
        assertThat(frame.getInt(0)).isEqualTo(frame.remaining() - 4);
        assertThat(frame.get(4)).isEqualTo((byte) 16);
        assertThat(frame.getLong(5)).isEqualTo(2);
        assertThat(frame.getLong(13)).isEqualTo(0x0102030405060708L);
    }

    /** A frame A's codec would send as its first, of any type and payload, signed with A's key (for inconsistent payloads). */
    static ByteBuffer signed(ReplicationCodec unused, int type, byte[] payload) throws Exception {
        ByteBuffer frame = ByteBuffer.allocate(ReplicationCodec.OVERHEAD + payload.length);
        frame.putInt(frame.capacity() - 4).put((byte) type).putLong(1).put(payload);
        frame.position(0);
        resign(frame, senderKey());
        return frame;
    }

    /** The key A sends with, derived the way the codec documents it. */
    private static byte[] senderKey() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        mac.update("netboot replication v1 key".getBytes());
        mac.update(A);
        mac.update(B);
        return mac.doFinal();
    }

    private static void resign(ByteBuffer frame, byte[] key) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        int end = frame.remaining() - ReplicationCodec.MAC_LENGTH;
        mac.update(frame.array(), 0, end);
        frame.put(end, mac.doFinal());
    }
}
