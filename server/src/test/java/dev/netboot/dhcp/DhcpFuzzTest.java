package dev.netboot.dhcp;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random mutations of the real captured DHCP packets thrown at the decoder: every result is either
 * a message that re-encodes to the same meaning, or a MalformedPacketException. Any other exception
 * (an index out of bounds, an IllegalArgumentException from a record) fails the test. Seeded, so a
 * failure reproduces; the seed and iteration are in the message.
 */
class DhcpFuzzTest {

    private static final int ITERATIONS = 1_000_000; // a million inputs per decoder (issue 16)

    @Test
    void mutatedCapturedPacketsNeverCrashTheDecoder() {
        List<byte[]> seeds = CapturedPackets.dhcp();
        long seed = 0x5eed_d4c9L;
        Random random = new Random(seed);
        int decoded = 0, malformed = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] p = mutate(seeds.get(random.nextInt(seeds.size())), random);
            try {
                DhcpMessage m = DhcpCodec.decode(ByteBuffer.wrap(p));
                decoded++;
                DhcpMessage again = DhcpCodec.decode(ByteBuffer.wrap(DhcpCodec.encode(m)));
                assertThat(again).as("round trip of mutation %d (seed %x)", i, seed).isEqualTo(m);
            } catch (MalformedPacketException e) {
                malformed++;
            } catch (RuntimeException e) {
                throw new AssertionError("mutation " + i + " (seed " + Long.toHexString(seed) + ") crashed the decoder: "
                        + java.util.HexFormat.of().formatHex(p), e);
            }
        }
        // Both outcomes must be common, or the mutations are too gentle or too brutal to test anything.
        assertThat(decoded).isGreaterThan(ITERATIONS / 10);
        assertThat(malformed).isGreaterThan(ITERATIONS / 10);
    }

    private static byte[] mutate(byte[] seed, Random r) {
        byte[] p = seed.clone();
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n; k++) {
            switch (r.nextInt(6)) {
                case 0 -> p[r.nextInt(p.length)] = (byte) r.nextInt(256);                  // any byte
                case 1 -> p[240 + r.nextInt(p.length - 240)] = (byte) r.nextInt(256);      // an option byte
                case 2 -> p = Arrays.copyOf(p, r.nextInt(p.length + 1));                  // truncate
                case 3 -> p = Arrays.copyOf(p, p.length + r.nextInt(64));                 // zero tail
                case 4 -> { if (p.length > 2) p[2] = (byte) r.nextInt(24); }               // hlen
                default -> {                                                               // overload option
                    if (p.length > 244) { p[240] = 52; p[241] = 1; p[242] = (byte) r.nextInt(5); }
                }
            }
            if (p.length < 241) break;
        }
        return p;
    }
}
