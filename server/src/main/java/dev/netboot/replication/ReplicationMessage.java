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

    /** The sync target asks for a range (it paces the resync, so a resumed resync starts where it stopped). */
    record ResyncRequest(String disk, long offset, int length) implements ReplicationMessage {
        public ResyncRequest { checkRange(offset, length); }
    }

    record ResyncData(String disk, long offset, ByteBuffer data) implements ReplicationMessage {
        public ResyncData {
            checkRange(offset, data.remaining());
            data = data.asReadOnlyBuffer();
        }
    }

    /** The range holds nothing of its own on the source (sparse, or still just the image's data): no bytes cross. */
    record ResyncSparse(String disk, long offset, int length) implements ReplicationMessage {
        public ResyncSparse { checkRange(offset, length); }
    }

    /**
     * The range is a clone's data that is still just its image's, and the peer holds the same image (checked by
     * SHA-256 through the catalog's mirror): no bytes cross; the target's clone reads the same from its own copy.
     */
    record ResyncBase(String disk, long offset, int length) implements ReplicationMessage {
        public ResyncBase { checkRange(offset, length); }
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
