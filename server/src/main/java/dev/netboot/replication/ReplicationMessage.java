package dev.netboot.replication;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Everything the two servers say to each other over the replication link. {@code disk} is the disk
 * catalog's name of a disk; {@code seq} numbers a disk's writes and flushes so acknowledgements find
 * their request (it is not the link's frame sequence number, which {@link ReplicationCodec} adds).
 * Data buffers are read-only views; records compare them by content.
 */
public sealed interface ReplicationMessage {

    /** Per disk in a {@link Hello}: its size (must match on both nodes) and its identifiers. */
    record DiskGenerations(String disk, long sizeBytes, GenerationIds ids) {}

    /** First message on a connection, both ways: who I am, what I serve as, what each disk holds. */
    record Hello(long nodeId, int protocolVersion, Role role, List<DiskGenerations> disks) implements ReplicationMessage {
        public Hello { disks = List.copyOf(disks); }
    }

    /** Write {@code data} at {@code offset}; with {@code durable}, fdatasync before acknowledging (aoe.syncWrites). */
    record Write(String disk, long seq, long offset, ByteBuffer data, boolean durable) implements ReplicationMessage {
        public Write {
            checkRange(offset, data.remaining());
            data = data.asReadOnlyBuffer();
        }
    }

    /** The peer's write {@code seq} is on its disk (protocol C). */
    record WriteAck(String disk, long seq) implements ReplicationMessage {}

    /** The peer's write {@code seq} failed there; the primary marks the region dirty (DRBD's P_NEG_ACK). */
    record WriteNack(String disk, long seq, String reason) implements ReplicationMessage {}

    /** Make every write acknowledged so far durable, in order (fdatasync). */
    record Flush(String disk, long seq) implements ReplicationMessage {}

    record FlushAck(String disk, long seq) implements ReplicationMessage {}

    /** A disk's identifiers changed (e.g. a new current identifier after writing alone). */
    record GenerationUpdate(String disk, GenerationIds ids) implements ReplicationMessage {}

    /**
     * Part of a node's dirty bitmap, sent both ways before a bitmap resync so the resync covers the union:
     * the source's writes while apart and the target's activity-log extents after a crash.
     * {@code words} are 64-bit little-endian words starting at region {@code firstRegion} (a multiple of 64).
     */
    record BitmapChunk(String disk, long firstRegion, ByteBuffer words, boolean last) implements ReplicationMessage {
        public BitmapChunk {
            if (firstRegion < 0 || firstRegion % 64 != 0) throw new IllegalArgumentException("bitmap chunk starts at region " + firstRegion + ", not a multiple of 64");
            if (words.remaining() % 8 != 0) throw new IllegalArgumentException("bitmap chunk of " + words.remaining() + " bytes is not whole 64-bit words");
            words = words.asReadOnlyBuffer();
        }
    }

    /** A range of a disk: {@code length} bytes at {@code offset}. */
    record Range(long offset, int length) {
        public Range { checkRange(offset, length); }
    }

    /**
     * The sync target asks for ranges (it paces the resync, so a resumed resync starts where it stopped).
     * Scattered dirty regions travel many to a request and are answered in one {@link ResyncAnswer}: a quick
     * resync of 4 KiB regions then costs one message, one hand-over to the I/O thread and one answer per
     * request on each side, not per region (the per-region cost is what bounded it).
     */
    record ResyncRequest(String disk, List<Range> ranges) implements ReplicationMessage {
        /** Ranges one request may carry: the answer's frame stays bounded by the bytes the target asks for. */
        public static final int MAX_RANGES = 128;

        public ResyncRequest {
            ranges = List.copyOf(ranges);
            if (ranges.isEmpty() || ranges.size() > MAX_RANGES) throw new IllegalArgumentException("resync request of " + ranges.size() + " ranges (1 to " + MAX_RANGES + ")");
        }
    }

    /** What the source holds of an asked range. */
    enum Holding {
        /** Its bytes follow in the answer's data. */
        DATA,
        /** Nothing of its own (sparse, or zeros): the target makes the range zero; no bytes cross. */
        SPARSE,
        /**
         * A clone's data that is still just its image's, and the peer holds the same image (checked by SHA-256
         * through the catalog's mirror): no bytes cross; the target's clone reads the same from its own copy.
         */
        BASE
    }

    /** One asked range of a {@link ResyncAnswer}. */
    record Piece(long offset, int length, Holding holding) {
        public Piece {
            checkRange(offset, length);
            java.util.Objects.requireNonNull(holding);
        }
    }

    /**
     * The source's answer to one {@link ResyncRequest}: a piece per asked range, in the request's order, and the
     * bytes of the {@link Holding#DATA} pieces one after another in {@code data}.
     */
    record ResyncAnswer(String disk, List<Piece> pieces, ByteBuffer data) implements ReplicationMessage {
        public ResyncAnswer {
            pieces = List.copyOf(pieces);
            if (pieces.isEmpty() || pieces.size() > ResyncRequest.MAX_RANGES) throw new IllegalArgumentException("resync answer of " + pieces.size() + " pieces (1 to " + ResyncRequest.MAX_RANGES + ")");
            long bytes = 0;
            for (Piece p : pieces) if (p.holding() == Holding.DATA) bytes += p.length();
            if (bytes != data.remaining()) throw new IllegalArgumentException("resync answer's data pieces hold " + bytes + " bytes, its data " + data.remaining());
            data = data.asReadOnlyBuffer();
        }
    }

    /** The source's identifiers after the last range went out; the target adopts them once it has written everything. */
    record ResyncDone(String disk, GenerationIds ids) implements ReplicationMessage {}

    /** Online verify: hash this range and answer with the digest only. */
    record VerifyRequest(String disk, long offset, int length) implements ReplicationMessage {
        public VerifyRequest { checkRange(offset, length); }
    }

    record VerifyDigest(String disk, long offset, int length, ByteBuffer digest) implements ReplicationMessage {
        public VerifyDigest {
            checkRange(offset, length);
            digest = digest.asReadOnlyBuffer();
        }
    }

    /** "I am primary now" (term grows with every takeover, so an old announcement never wins) or "I stepped down". */
    record RoleAnnouncement(Role role, long term) implements ReplicationMessage {}

    record Ping(long token) implements ReplicationMessage {}

    record Pong(long token) implements ReplicationMessage {}

    /** Last message before closing, so the peer logs why instead of guessing from a reset. */
    record Disconnect(String reason) implements ReplicationMessage {}

    /**
     * Several messages in one frame (one MAC, one TCP send): what a node has to say within one turn of
     * its event loop — the client writes that came in meanwhile, the acks of a batch of applied writes,
     * a window of resync requests. Applied in order, exactly as if each had come in its own frame. Never
     * empty and never nested (the codec refuses both as malformed).
     */
    record Batch(List<ReplicationMessage> messages) implements ReplicationMessage {
        public Batch {
            messages = List.copyOf(messages);
            if (messages.isEmpty()) throw new IllegalArgumentException("empty batch");
            for (ReplicationMessage m : messages) if (m instanceof Batch) throw new IllegalArgumentException("batch inside a batch");
        }
    }

    /**
     * Part {@code index} of {@code count} of the primary's boot state number {@code version} ({@link BootStateCodec}
     * bytes, split so a large inventory fits the frame maximum). The standby applies a version only once all
     * its parts are in and every image it names is here and checked.
     */
    record CatalogPart(long version, int index, int count, ByteBuffer bytes) implements ReplicationMessage {
        public CatalogPart {
            if (version < 1 || count < 1 || index < 0 || index >= count) throw new IllegalArgumentException("catalog part " + index + " of " + count + " of version " + version);
            bytes = bytes.asReadOnlyBuffer();
        }
    }

    /** The standby applied boot state {@code version} ({@code problem} empty) or could not (why, for the primary's log and status). */
    record CatalogApplied(long version, String problem) implements ReplicationMessage {}

    /** The standby asks for a range of one image file it lacks ({@code file} relative to the image's folder). */
    record ImageRequest(String image, String file, long offset, int length) implements ReplicationMessage {
        public ImageRequest {
            BootState.checkName(image);
            BootState.checkRelative(file);
            checkRange(offset, length);
        }
    }

    record ImageData(String image, String file, long offset, ByteBuffer data) implements ReplicationMessage {
        public ImageData {
            BootState.checkName(image);
            BootState.checkRelative(file);
            checkRange(offset, data.remaining());
            data = data.asReadOnlyBuffer();
        }
    }

    private static void checkRange(long offset, int length) {
        if (offset < 0 || length < 0 || offset + length < 0) throw new IllegalArgumentException("range at " + offset + " of " + length + " bytes");
    }
}
