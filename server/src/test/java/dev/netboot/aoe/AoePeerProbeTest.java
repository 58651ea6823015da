package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.netboot.aoe.Harness.CLIENT;
import static dev.netboot.aoe.Harness.STRANGER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failover probe (docs/replication.md, "Failover"): the standby's config query reaches the primary's
 * targets although they are visible only to their clients, when and only when it carries the right
 * token; and the announcement after a takeover is a broadcast config response per target.
 */
class AoePeerProbeTest {

    final Harness h = new Harness();
    final byte[] token = new byte[16];

    AoePeerProbeTest() {
        Arrays.fill(token, (byte) 7);
        h.add(new TargetAddress(7, 1), 1000, Set.of(CLIENT));
        h.add(new TargetAddress(7, 2), 1000, Set.of(CLIENT));
    }

    private AoeFrame probe(MacAddress from, byte[] config) {
        AoeFrame f = h.request(from, AoeHeader.ANY_SHELF, AoeHeader.ANY_SLOT,
                new AoeMessage.QueryConfig(0, 0, 0, 0, AoeMessage.QueryConfig.READ, ByteBuffer.wrap(config)));
        return new AoeFrame(f.destination(), f.source(), new AoeHeader(1, false, false, 0, AoeHeader.ANY_SHELF, AoeHeader.ANY_SLOT,
                AoeCommand.QUERY_CONFIG, 42), f.message());
    }

    @Test
    void withoutTheCheckAStrangerLearnsNothing() {
        assertThat(h.send(probe(STRANGER, token))).isEmpty();
    }

    @Test
    void theProvenProbeIsAnsweredForEveryTargetAndAForgedOneIsNot() {
        h.responder.acceptPeerProbes((from, tag, config) -> from.equals(STRANGER) && tag == 42 && config.equals(ByteBuffer.wrap(token)));
        List<AoeFrame> answers = h.send(probe(STRANGER, token));
        assertThat(answers).hasSize(2).allSatisfy(f -> {
            assertThat(f.header().response()).isTrue();
            assertThat(f.header().tag()).isEqualTo(42);
            assertThat(f.destination()).isEqualTo(STRANGER);
        });
        byte[] forged = token.clone();
        forged[3] ^= 1;
        assertThat(h.send(probe(STRANGER, forged))).isEmpty();
        // Only config queries: the client's own view is unchanged.
        assertThat(h.send(probe(CLIENT, new byte[0]))).hasSize(2);
    }

    @Test
    void theAnnouncementIsABroadcastConfigResponseFromThePort() {
        AoeTarget t = h.responder.target(new TargetAddress(7, 1));
        Port port = Port.forMtu("nbservice0", MacAddress.parse("02:00:5e:10:00:01"), 1500, 64);
        AoeFrame f = AoeCodecTest.decodeUnchecked(AoeCodec.encode(AoeResponder.announcement(t, port)));
        assertThat(f.destination()).isEqualTo(MacAddress.BROADCAST);
        assertThat(f.source()).isEqualTo(port.mac());
        assertThat(f.header().response()).isTrue();
        assertThat(f.header().shelf()).isEqualTo(7);
        assertThat(f.header().slot()).isEqualTo(1);
        assertThat(f.header().command()).isEqualTo(AoeCommand.QUERY_CONFIG);
        assertThat(((AoeMessage.QueryConfig) f.message()).bufferCount()).isEqualTo(64);
    }
}
