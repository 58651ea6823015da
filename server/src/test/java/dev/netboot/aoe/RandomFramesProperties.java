package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any sequence of frames, valid or not, from allowed and foreign MACs, leaves the disk exactly as a
 * model that applies only the valid writes: no write lands partly, out of bounds, or from someone
 * who may not write.
 */
class RandomFramesProperties {

    static final int SECTORS = 64;
    static final MacAddress OTHER = MacAddress.parse("52:54:00:00:00:02"); // allowed too, may reserve

    /** One step of the random script. */
    record Step(int kind, MacAddress from, int cmd, int count, long lba, int payloadBytes, int truncateTo, int version, byte fill) {}

    @Property(tries = 300)
    void diskEqualsModelOfValidWrites(@ForAll("scripts") List<Step> script) {
        Harness h = new Harness();
        TargetAddress a = new TargetAddress(1, 1);
        var disk = h.add(a, SECTORS, Set.of(Harness.CLIENT, OTHER));
        byte[] model = new byte[SECTORS * 512];
        List<MacAddress> reserved = List.of();
        for (Step s : script) {
            switch (s.kind()) {
                case 0 -> { // reserve / release by an allowed MAC
                    List<MacAddress> want = s.count() % 2 == 0 ? List.of() : List.of(s.from());
                    h.send(h.request(s.from(), 1, 1, new AoeMessage.ReserveRelease(1, want)));
                    if (s.from().equals(Harness.CLIENT) || s.from().equals(OTHER)) {
                        if (reserved.isEmpty() || reserved.contains(s.from())) reserved = want;
                    }
                }
                case 1 -> { // garbage after a valid AoE header
                    byte[] junk = new byte[s.payloadBytes() % 700];
                    Arrays.fill(junk, s.fill());
                    ByteBuffer f = ByteBuffer.allocate(24 + junk.length);
                    Harness.SERVER.write(f);
                    s.from().write(f);
                    f.putShort((short) 0x88A2).put((byte) (s.version() << 4)).put((byte) 0).putShort((short) 1).put((byte) 1)
                            .put((byte) (s.cmd() & 3)).putInt(1).put(junk).flip();
                    h.runner.run(h.responder.handle(f, Harness.PORT), sinkDiscarding());
                    // Garbage after a Reserve/Release header can be a valid (forced) reservation: the model
                    // does not predict those, it takes the target's list as it now is.
                    if ((s.cmd() & 3) == 3) reserved = h.responder.target(a).state().reserved();
                    // Only a well-formed, in-bounds write from an admitted MAC may change the disk; the
                    // garbage here is built so that the model can say when it is one.
                    if ((s.cmd() & 3) == 0 && junk.length >= 12 && s.version() == 1 && admitted(s.from(), reserved, masks(h, a))) {
                        ByteBuffer j = ByteBuffer.wrap(junk);
                        int cmd = j.get(3) & 0xFF, count = j.get(2) & 0xFF;
                        long lba = 0;
                        for (int i = 0; i < 6; i++) lba |= (long) (j.get(4 + i) & 0xFF) << (8 * i);
                        if (!Ata.isLba48(cmd)) lba &= (1L << 28) - 1;
                        if (Ata.isWrite(cmd) && count <= 2 && lba + count <= SECTORS && junk.length - 12 >= count * 512)
                            Arrays.fill(model, (int) lba * 512, (int) (lba + count) * 512, s.fill());
                    }
                }
                default -> { // an ATA read or write, possibly broken in one way
                    byte[] data = new byte[s.payloadBytes()];
                    Arrays.fill(data, s.fill());
                    AoeFrame req = h.request(s.from(), 1, 1, Harness.ata(s.cmd(), s.count(), s.lba(), data));
                    req = new AoeFrame(req.destination(), req.source(), new AoeHeader(s.version(), false, false, 0,
                            s.kind() == 3 ? 0xFFFF : 1, 1, AoeCommand.ATA, 77), req.message());
                    ByteBuffer bytes = AoeCodec.encode(req);
                    if (s.truncateTo() < bytes.limit()) bytes.limit(Math.max(0, s.truncateTo()));
                    h.runner.run(h.responder.handle(bytes, Harness.PORT), sinkDiscarding());
                    int payload = bytes.limit() - AoeCodec.ATA_FRAME_OVERHEAD;
                    long lba = Ata.isLba48(s.cmd()) ? s.lba() : s.lba() & ((1L << 28) - 1);
                    boolean valid = Ata.isWrite(s.cmd()) && s.kind() != 3 && s.version() == 1 && admitted(s.from(), reserved, masks(h, a))
                            && payload >= s.count() * 512 && s.count() <= 2 && lba + s.count() <= SECTORS;
                    if (valid) Arrays.fill(model, (int) lba * 512, (int) (lba + s.count()) * 512, s.fill());
                }
            }
            assertThat(disk.snapshot()).isEqualTo(model);
        }
    }

    /**
     * @param masks the target's MAC mask list: garbage after a Mac Mask List header can be a valid edit
     *              (a 512-byte run of 0x01 adds 01:01:01:01:01:01), after which only listed MACs are served;
     *              its semantics are AoeResponderTest's, here it is only taken into account (likewise a
     *              reservation forced by garbage after a Reserve/Release header)
     */
    private static boolean admitted(MacAddress from, List<MacAddress> reserved, List<MacAddress> masks) {
        return (from.equals(Harness.CLIENT) || from.equals(OTHER)) && (reserved.isEmpty() || reserved.contains(from))
                && (masks.isEmpty() || masks.contains(from));
    }

    private static List<MacAddress> masks(Harness h, TargetAddress a) {
        return h.responder.target(a).state().masks();
    }

    private static FrameSink sinkDiscarding() {
        return new FrameSink() {
            @Override public ByteBuffer claim(int capacity) { return ByteBuffer.allocate(capacity); }
            @Override public void commit(ByteBuffer frame) { }
        };
    }

    @Provide
    Arbitrary<List<Step>> scripts() {
        Arbitrary<MacAddress> from = Arbitraries.of(Harness.CLIENT, OTHER, Harness.STRANGER, MacAddress.BROADCAST);
        Arbitrary<Integer> cmd = Arbitraries.of(Ata.WRITE_SECTORS, Ata.WRITE_SECTORS_EXT, Ata.WRITE_DMA, Ata.WRITE_DMA_EXT,
                Ata.READ_SECTORS_EXT, Ata.READ_SECTORS, Ata.FLUSH_CACHE, Ata.IDENTIFY_DEVICE, 0x00, 0x99);
        Arbitrary<Long> lba = Arbitraries.oneOf(Arbitraries.longs().between(0, SECTORS + 2),
                Arbitraries.longs().between(0, 0xFFFF_FFFF_FFFFL), Arbitraries.of((1L << 28) + 3, 0xFFFF_FFFF_FFFEL));
        Arbitrary<Integer> payload = Arbitraries.oneOf(Arbitraries.of(0, 512, 1024, 1025), Arbitraries.integers().between(0, 1100));
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.just(0)), net.jqwik.api.Tuple.of(2, Arbitraries.just(1)),
                        net.jqwik.api.Tuple.of(8, Arbitraries.just(2)), net.jqwik.api.Tuple.of(1, Arbitraries.just(3))),
                from, cmd, Arbitraries.integers().between(0, 4), lba, payload,
                Arbitraries.oneOf(Arbitraries.just(Integer.MAX_VALUE), Arbitraries.integers().between(0, 1100)),
                Arbitraries.frequency(net.jqwik.api.Tuple.of(9, 1), net.jqwik.api.Tuple.of(1, 0), net.jqwik.api.Tuple.of(1, 2)))
                .as((k, f, c, n, l, p, t, v) -> new Step(k, f, c, n, l, p, t, v, (byte) (l ^ p ^ n ^ 0x5A)));
        return step.list().ofMinSize(1).ofMaxSize(40);
    }
}
