package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.*;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.nio.ByteBuffer;
import java.util.List;

/** Generators of every message, shared by the codec's properties. */
final class Messages {

    private Messages() {}

    static Arbitrary<ReplicationMessage> any() {
        Arbitrary<String> disk = disks();
        Arbitrary<Long> seq = Arbitraries.longs();
        Arbitrary<Long> off = Arbitraries.longs().between(0, 1L << 50);
        Arbitrary<Integer> len = Arbitraries.integers().between(0, 1 << 20);
        return Arbitraries.oneOf(List.of(
                Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(0, 0xFFFF), Arbitraries.of(Role.class),
                        Combinators.combine(disk, Arbitraries.longs().between(0, 1L << 50), ids()).as(DiskGenerations::new).list().ofMaxSize(4))
                        .as(Hello::new),
                Combinators.combine(disk, seq, off, bytes(), Arbitraries.of(true, false)).as(Write::new),
                Combinators.combine(disk, seq).as(WriteAck::new),
                Combinators.combine(disk, seq, text()).as(WriteNack::new),
                Combinators.combine(disk, seq).as(Flush::new),
                Combinators.combine(disk, seq).as(FlushAck::new),
                Combinators.combine(disk, ids()).as(GenerationUpdate::new),
                Combinators.combine(disk, Arbitraries.longs().between(0, 1L << 40).map(r -> r * 64),
                        Arbitraries.longs().list().ofMaxSize(16).map(Messages::words), Arbitraries.of(true, false)).as(BitmapChunk::new),
                Combinators.combine(disk, Combinators.combine(off, len).as(Range::new).list().ofMinSize(1).ofMaxSize(ResyncRequest.MAX_RANGES)).as(ResyncRequest::new),
                Combinators.combine(disk, Combinators.combine(off, Arbitraries.integers().between(0, 200), Arbitraries.of(Holding.class)).as(Piece::new)
                        .list().ofMinSize(1).ofMaxSize(12), Arbitraries.bytes()).as((d, pieces, fill) -> new ResyncAnswer(d, pieces, dataOf(pieces, fill))),
                Combinators.combine(disk, ids()).as(ResyncDone::new),
                Combinators.combine(disk, off, len).as(VerifyRequest::new),
                Combinators.combine(disk, off, len, bytes()).as(VerifyDigest::new),
                Combinators.combine(Arbitraries.of(Role.class), Arbitraries.longs()).as(RoleAnnouncement::new),
                Arbitraries.longs().map(Ping::new),
                Arbitraries.longs().map(Pong::new),
                text().map(Disconnect::new),
                Combinators.combine(Arbitraries.longs().between(1, Long.MAX_VALUE), Arbitraries.integers().between(1, 1000), bytes())
                        .as((v, count, b) -> new CatalogPart(v, (int) (Math.abs(v) % count), count, b)),
                Combinators.combine(Arbitraries.longs(), text()).as(CatalogApplied::new),
                Combinators.combine(disk, files(), off, len).as(ImageRequest::new),
                Combinators.combine(disk, files(), off, bytes()).as(ImageData::new)));
    }

    /** The bytes an answer of these pieces carries: its data pieces' lengths, one after another. */
    static ByteBuffer dataOf(List<Piece> pieces, byte fill) {
        int n = pieces.stream().filter(p -> p.holding() == Holding.DATA).mapToInt(Piece::length).sum();
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (fill + i);
        return ByteBuffer.wrap(b);
    }

    /** Relative paths inside an image folder ("boot/vmlinuz-6.1"). */
    static Arbitrary<String> files() {
        return disks().list().ofMinSize(1).ofMaxSize(4).map(parts -> String.join("/", parts));
    }

    static Arbitrary<GenerationIds> ids() {
        Arbitrary<Long> id = Arbitraries.longs().filter(l -> l != 0);
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), id.list().ofMaxSize(GenerationIds.HISTORY), Arbitraries.of(true, false))
                .as(GenerationIds::new);
    }

    static Arbitrary<String> disks() {
        return Arbitraries.strings().withCharRange('a', 'z').withChars('-', '0', '9', 'é').ofMinLength(1).ofMaxLength(40);
    }

    static Arbitrary<String> text() {
        return Arbitraries.strings().withCharRange(' ', '~').withChars('ü', '€').ofMaxLength(80);
    }

    static Arbitrary<ByteBuffer> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(600).map(ByteBuffer::wrap);
    }

    private static ByteBuffer words(List<Long> words) {
        ByteBuffer b = ByteBuffer.allocate(words.size() * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long w : words) b.putLong(w);
        return b.flip();
    }
}
