package dev.netboot.replication;

import dev.netboot.replication.RejectedFrameException.Reason;
import dev.netboot.replication.ReplicationMessage.*;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The replication link's framing, for one connection. Pure: bytes in, records out, no socket.
 *
 * <p>A connection starts with a preamble each way: magic {@code NBRP}, version, and 32 random bytes
 * (a nonce) from each side. Each direction then gets its own key, HMAC-SHA256(secret, label ‖ sender's
 * nonce ‖ receiver's nonce). Because both nonces are fresh, a frame recorded from an earlier connection
 * fails the MAC on a new one; because the direction is in the key, a frame reflected back to its sender
 * fails it too. A peer that echoes our own nonce is refused outright (it would make both keys equal).
 *
 * <p>Then frames: {@code u32 length | u8 type | u64 sequence | payload | 32-byte HMAC}, length counting
 * everything after itself, the HMAC covering everything before it. Sequence numbers start at 1 per
 * direction and go up by one: TCP neither loses nor reorders, so anything but the next number is a
 * replay or an injection. The length is checked against the maximum before anything is buffered.
 */
public final class ReplicationCodec {

    /**
     * 2: {@link Batch} frames (a version-1 peer would refuse them as unknown, so the preamble says so first).
     * 3: resync requests of many ranges, answered by one {@link ResyncAnswer} (types 20 and 21; 9, 10, 11 and 44,
     * one range each, are retired).
     */
    public static final int PROTOCOL_VERSION = 3;
    public static final int NONCE_LENGTH = 32;
    public static final int PREAMBLE_LENGTH = 4 + 2 + NONCE_LENGTH;
    public static final int MAC_LENGTH = 32;
    /** Length field, type, sequence number, MAC: what a frame costs besides its payload. */
    public static final int OVERHEAD = 4 + 1 + 8 + MAC_LENGTH;
    /** A resync or write chunk of 1 MiB plus headers fits; the adapter may configure another. */
    public static final int DEFAULT_MAX_FRAME = (1 << 20) + 4096;
    static final int MAX_STRING = 1024;
    private static final int MAGIC = 0x4E425250; // "NBRP"
    private static final byte[] LABEL = "netboot replication v1 key".getBytes(StandardCharsets.US_ASCII);

    private final Mac sendMac;
    private final Mac receiveMac;
    private final int maxFrame;
    private long nextSend = 1;
    private long nextReceive = 1;

    private ReplicationCodec(byte[] sendKey, byte[] receiveKey, int maxFrame) {
        this.sendMac = hmac(sendKey);
        this.receiveMac = hmac(receiveKey);
        this.maxFrame = maxFrame;
    }

    /** The codec of one connection once both preambles are known. */
    public static ReplicationCodec forConnection(byte[] secret, byte[] localNonce, byte[] remoteNonce, int maxFrame) throws RejectedFrameException {
        if (secret.length == 0) throw new IllegalArgumentException("empty replication secret");
        if (localNonce.length != NONCE_LENGTH || remoteNonce.length != NONCE_LENGTH) throw new IllegalArgumentException("nonces are " + NONCE_LENGTH + " bytes");
        if (maxFrame < OVERHEAD + 64) throw new IllegalArgumentException("maximum frame of " + maxFrame + " bytes is too small");
        if (MessageDigest.isEqual(localNonce, remoteNonce)) throw new RejectedFrameException(Reason.BAD_PREAMBLE, "peer sent our own nonce back (reflection)");
        return new ReplicationCodec(deriveKey(secret, localNonce, remoteNonce), deriveKey(secret, remoteNonce, localNonce), maxFrame);
    }

    public static ByteBuffer preamble(byte[] nonce) {
        if (nonce.length != NONCE_LENGTH) throw new IllegalArgumentException("nonce must be " + NONCE_LENGTH + " bytes");
        return ByteBuffer.allocate(PREAMBLE_LENGTH).putInt(MAGIC).putShort((short) PROTOCOL_VERSION).put(nonce).flip();
    }

    /** Refuses a connection whose first bytes (of a preamble still incomplete) are not ours. */
    public static void checkPreambleStart(ByteBuffer in) throws RejectedFrameException {
        if (in.remaining() >= 4 && in.getInt(in.position()) != MAGIC)
            throw new RejectedFrameException(Reason.BAD_PREAMBLE, "not a netboot replication peer (starts 0x" + Integer.toHexString(in.getInt(in.position())) + ")");
    }

    /** Reads the peer's preamble (exactly {@link #PREAMBLE_LENGTH} bytes) and returns its nonce. */
    public static byte[] readPreamble(ByteBuffer in) throws RejectedFrameException {
        // The magic first: a stranger (a port scan, an HTTP client) is named as such, not as "short".
        checkPreambleStart(in);
        if (in.remaining() < PREAMBLE_LENGTH) throw new RejectedFrameException(Reason.TRUNCATED, "preamble of " + in.remaining() + " bytes, need " + PREAMBLE_LENGTH);
        ByteBuffer b = in.duplicate();
        b.getInt();
        int version = b.getShort() & 0xFFFF;
        if (version != PROTOCOL_VERSION) throw new RejectedFrameException(Reason.BAD_PREAMBLE, "peer speaks replication protocol " + version + ", we speak " + PROTOCOL_VERSION);
        byte[] nonce = new byte[NONCE_LENGTH];
        b.get(nonce);
        in.position(in.position() + PREAMBLE_LENGTH);
        return nonce;
    }

    public int maxFrame() { return maxFrame; }
    /** Frames encoded so far (the last sequence number used). */
    public long sent() { return nextSend - 1; }
    /** Frames accepted so far. */
    public long received() { return nextReceive - 1; }

    // ---------------------------------------------------------------- encode

    /** One frame with the next sequence number. Refuses (a bug of the caller) a message over the maximum. */
    public ByteBuffer encode(ReplicationMessage message) {
        Payload p = payload(message);
        return frame(type(message), p.bytes(), p.length(), message.getClass().getSimpleName());
    }

    /** An encoded payload: the first {@code length} bytes of {@code bytes} (the encoder's own array, not a copy of it). */
    private record Payload(byte[] bytes, int length) {}

    /** A ByteArrayOutputStream whose array is read in place: toByteArray's copy of every payload showed in a profile. */
    private static final class PayloadStream extends ByteArrayOutputStream {
        PayloadStream(int size) { super(size); }
        Payload payload() { return new Payload(buf, count); }
    }

    /** Each entry of a {@link Batch}: type, payload length, payload. */
    static final int BATCH_ENTRY_OVERHEAD = 1 + 4;
    /** A batch payload's own header: the number of entries. */
    static final int BATCH_HEADER = 4;

    /**
     * Messages in order as few frames as the maximum allows: consecutive messages share a {@link Batch}
     * frame (one MAC, one sequence number) up to {@link #maxFrame}; a message that would be alone in
     * its batch gets its own plain frame. Decoding the frames yields the messages in the same order.
     */
    public List<ByteBuffer> encodeAll(List<ReplicationMessage> messages) {
        List<ByteBuffer> frames = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        List<Payload> payloads = new ArrayList<>();
        int batchBytes = OVERHEAD + BATCH_HEADER;
        for (ReplicationMessage m : messages) {
            if (m instanceof Batch b) throw new IllegalArgumentException("a batch is made here, not given");
            Payload p = payload(m);
            if (OVERHEAD + p.length() > maxFrame) throw new IllegalArgumentException(m.getClass().getSimpleName() + " of " + (OVERHEAD + p.length()) + " bytes exceeds the maximum frame of " + maxFrame);
            if (!payloads.isEmpty() && batchBytes + BATCH_ENTRY_OVERHEAD + p.length() > maxFrame) {
                frames.add(batchFrame(types, payloads));
                types.clear();
                payloads.clear();
                batchBytes = OVERHEAD + BATCH_HEADER;
            }
            types.add(type(m));
            payloads.add(p);
            batchBytes += BATCH_ENTRY_OVERHEAD + p.length();
        }
        if (!payloads.isEmpty()) frames.add(batchFrame(types, payloads));
        return frames;
    }

    /** The entries written straight into the frame: each payload is copied once, from its encoder's array. */
    private ByteBuffer batchFrame(List<Integer> types, List<Payload> payloads) {
        if (payloads.size() == 1) return frame(types.getFirst(), payloads.getFirst().bytes(), payloads.getFirst().length(), "message type " + types.getFirst());
        int length = BATCH_HEADER;
        for (Payload p : payloads) length += BATCH_ENTRY_OVERHEAD + p.length();
        ByteBuffer out = header(BATCH, length, "Batch").putInt(payloads.size());
        for (int i = 0; i < payloads.size(); i++) {
            Payload p = payloads.get(i);
            out.put((byte) (int) types.get(i)).putInt(p.length()).put(p.bytes(), 0, p.length());
        }
        return seal(out);
    }

    private ByteBuffer frame(int type, byte[] payload, int length, String what) {
        return seal(header(type, length, what).put(payload, 0, length));
    }

    /** A frame's buffer with its length, type and sequence number written; the payload follows, then {@link #seal}. */
    private ByteBuffer header(int type, int payloadLength, String what) {
        int total = OVERHEAD + payloadLength;
        if (total > maxFrame) throw new IllegalArgumentException(what + " of " + total + " bytes exceeds the maximum frame of " + maxFrame);
        return ByteBuffer.allocate(total).putInt(total - 4).put((byte) type).putLong(nextSend);
    }

    /** The MAC over everything before it, appended; the next frame gets the next sequence number. */
    private ByteBuffer seal(ByteBuffer out) {
        if (out.remaining() != MAC_LENGTH) throw new IllegalStateException("frame body of the wrong length: " + out.remaining() + " bytes left for the MAC");
        sendMac.update(out.array(), 0, out.position());
        out.put(sendMac.doFinal());
        nextSend++;
        return out.flip();
    }

    static final int BATCH = 19;

    // ---------------------------------------------------------------- decode

    /**
     * The size of the next frame in a receive buffer, so the adapter knows how much to wait for; -1 while
     * not even the length field is there. Refuses an oversized or impossible length at once.
     */
    public int frameLength(ByteBuffer stream) throws RejectedFrameException {
        if (stream.remaining() < 4) return -1;
        long length = Integer.toUnsignedLong(stream.getInt(stream.position()));
        if (length + 4 > maxFrame) throw new RejectedFrameException(Reason.OVERSIZED, "frame of " + (length + 4) + " bytes, maximum " + maxFrame);
        if (length + 4 < OVERHEAD) throw new RejectedFrameException(Reason.TRUNCATED, "frame length " + (length + 4) + " is shorter than any frame (" + OVERHEAD + ")");
        return (int) length + 4;
    }

    /** Decodes exactly one frame; on success the receive sequence number advances, on refusal nothing changes. */
    public ReplicationMessage decode(ByteBuffer frame) throws RejectedFrameException {
        ByteBuffer in = frame.duplicate();
        int length = frameLength(in);
        if (length < 0 || in.remaining() < length)
            throw new RejectedFrameException(Reason.TRUNCATED, in.remaining() + " bytes of a " + (length < 0 ? "frame" : length + "-byte frame"));
        if (in.remaining() > length) throw new RejectedFrameException(Reason.TRUNCATED, (in.remaining() - length) + " bytes after the frame's end (length field damaged)");
        byte[] bytes = new byte[length];
        in.get(bytes);
        receiveMac.update(bytes, 0, length - MAC_LENGTH);
        byte[] expected = receiveMac.doFinal();
        // Constant time: a timing difference must not tell an attacker how many MAC bytes were right.
        if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(bytes, length - MAC_LENGTH, length)))
            throw new RejectedFrameException(Reason.BAD_MAC, "frame MAC does not match (wrong secret, or changed in transit)");
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, length - MAC_LENGTH);
        b.position(4);
        int type = b.get() & 0xFF;
        long seq = b.getLong();
        if (Long.compareUnsigned(seq, nextReceive) < 0) throw new RejectedFrameException(Reason.REPLAYED, "sequence number " + seq + " seen already (next is " + nextReceive + ")");
        if (seq != nextReceive) throw new RejectedFrameException(Reason.OUT_OF_ORDER, "sequence number " + seq + ", expected " + nextReceive);
        ReplicationMessage m = parse(type, b.slice());
        nextReceive++;
        return m;
    }

    private static ReplicationMessage parse(int type, ByteBuffer in) throws RejectedFrameException {
        ReplicationMessage m;
        try {
            m = switch (type) {
                case BATCH -> batch(in);
                case 1 -> hello(in);
                case 2 -> write(in);
                case 3 -> new WriteAck(string(in), in.getLong());
                case 4 -> new WriteNack(string(in), in.getLong(), string(in));
                case 5 -> new Flush(string(in), in.getLong());
                case 6 -> new FlushAck(string(in), in.getLong());
                case 7 -> new GenerationUpdate(string(in), ids(in));
                case 8 -> bitmapChunk(in);
                case 12 -> new ResyncDone(string(in), ids(in));
                case 13 -> new VerifyRequest(string(in), in.getLong(), in.getInt());
                case 14 -> new VerifyDigest(string(in), in.getLong(), in.getInt(), rest(in));
                case 15 -> new RoleAnnouncement(role(in), in.getLong());
                case 16 -> new Ping(in.getLong());
                case 17 -> new Pong(in.getLong());
                case 18 -> new Disconnect(string(in));
                case 20 -> resyncRequest(in);
                case 21 -> resyncAnswer(in);
                case 40 -> new CatalogPart(in.getLong(), in.getInt(), in.getInt(), rest(in));
                case 41 -> new CatalogApplied(in.getLong(), string(in));
                case 42 -> new ImageRequest(string(in), string(in), in.getLong(), in.getInt());
                case 43 -> new ImageData(string(in), string(in), in.getLong(), rest(in));
                default -> throw new RejectedFrameException(Reason.UNKNOWN_TYPE, "message type " + type + " unknown to protocol " + PROTOCOL_VERSION);
            };
        } catch (BufferUnderflowException e) {
            throw new RejectedFrameException(Reason.MALFORMED, "message type " + type + " ends early");
        } catch (IllegalArgumentException e) {
            throw new RejectedFrameException(Reason.MALFORMED, "message type " + type + ": " + e.getMessage());
        }
        if (in.hasRemaining()) throw new RejectedFrameException(Reason.MALFORMED, "message type " + type + " has " + in.remaining() + " trailing bytes");
        return m;
    }

    private static Batch batch(ByteBuffer in) throws RejectedFrameException {
        int n = in.getInt();
        // Each entry takes at least its type and length: a count the frame cannot hold is malformed, not an allocation.
        if (n < 2 || (long) n * BATCH_ENTRY_OVERHEAD > in.remaining()) throw new IllegalArgumentException("batch of " + n + " messages in " + in.remaining() + " bytes");
        List<ReplicationMessage> messages = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int type = in.get() & 0xFF;
            int length = in.getInt();
            if (type == BATCH) throw new IllegalArgumentException("batch inside a batch");
            if (length < 0 || length > in.remaining()) throw new BufferUnderflowException();
            ByteBuffer payload = in.slice(in.position(), length);
            in.position(in.position() + length);
            messages.add(parse(type, payload));
        }
        return new Batch(messages);
    }

    private static Write write(ByteBuffer in) {
        String disk = string(in);
        long seq = in.getLong();
        long offset = in.getLong();
        boolean durable = bool(in);
        return new Write(disk, seq, offset, rest(in), durable);
    }

    private static ResyncRequest resyncRequest(ByteBuffer in) {
        String disk = string(in);
        int n = count(in);
        List<Range> ranges = new ArrayList<>(n);
        for (int i = 0; i < n; i++) ranges.add(new Range(in.getLong(), in.getInt()));
        return new ResyncRequest(disk, ranges);
    }

    private static ResyncAnswer resyncAnswer(ByteBuffer in) {
        String disk = string(in);
        int n = count(in);
        List<Piece> pieces = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long offset = in.getLong();
            int length = in.getInt();
            int h = in.get() & 0xFF;
            if (h >= Holding.values().length) throw new IllegalArgumentException("unknown holding " + h);
            pieces.add(new Piece(offset, length, Holding.values()[h]));
        }
        return new ResyncAnswer(disk, pieces, rest(in));
    }

    /** A count of ranges or pieces, checked before anything is allocated for it. */
    private static int count(ByteBuffer in) {
        int n = in.getShort() & 0xFFFF;
        if (n == 0 || n > ResyncRequest.MAX_RANGES) throw new IllegalArgumentException(n + " ranges (1 to " + ResyncRequest.MAX_RANGES + ")");
        return n;
    }

    private static BitmapChunk bitmapChunk(ByteBuffer in) {
        String disk = string(in);
        long first = in.getLong();
        boolean last = bool(in);
        return new BitmapChunk(disk, first, rest(in), last);
    }

    private static Hello hello(ByteBuffer in) {
        long node = in.getLong();
        int version = in.getShort() & 0xFFFF;
        Role role = role(in);
        int n = in.getShort() & 0xFFFF;
        List<DiskGenerations> disks = new ArrayList<>(Math.min(n, 256));
        for (int i = 0; i < n; i++) disks.add(new DiskGenerations(string(in), in.getLong(), ids(in)));
        return new Hello(node, version, role, disks);
    }

    private static GenerationIds ids(ByteBuffer in) {
        long current = in.getLong();
        long bitmap = in.getLong();
        int flags = in.get() & 0xFF;
        if ((flags & ~1) != 0) throw new IllegalArgumentException("unknown generation flags 0x" + Integer.toHexString(flags));
        int n = in.get() & 0xFF;
        if (n > GenerationIds.HISTORY) throw new IllegalArgumentException(n + " history entries, at most " + GenerationIds.HISTORY);
        List<Long> history = new ArrayList<>(n);
        for (int i = 0; i < n; i++) history.add(in.getLong());
        return new GenerationIds(current, bitmap, history, (flags & 1) != 0);
    }

    private static Role role(ByteBuffer in) {
        int r = in.get() & 0xFF;
        if (r >= Role.values().length) throw new IllegalArgumentException("unknown role " + r);
        return Role.values()[r];
    }

    private static boolean bool(ByteBuffer in) {
        int b = in.get() & 0xFF;
        if (b > 1) throw new IllegalArgumentException("flag byte " + b + " is neither 0 nor 1");
        return b == 1;
    }

    private static String string(ByteBuffer in) {
        int n = in.getShort() & 0xFFFF;
        if (n > MAX_STRING) throw new IllegalArgumentException("string of " + n + " bytes, at most " + MAX_STRING);
        if (n > in.remaining()) throw new BufferUnderflowException();
        ByteBuffer bytes = in.slice(in.position(), n);
        in.position(in.position() + n);
        // Disk names are ASCII: read them without a decoder object per message (a profile showed those).
        if (bytes.hasArray() && ascii(bytes.array(), bytes.arrayOffset(), n))
            return new String(bytes.array(), bytes.arrayOffset(), n, StandardCharsets.ISO_8859_1);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not UTF-8");
        }
    }

    private static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) >= 0x80) return false;
        return true;
    }

    private static boolean ascii(byte[] a, int from, int n) {
        for (int i = from; i < from + n; i++) if (a[i] < 0) return false;
        return true;
    }

    /** The rest of the payload as a read-only view; no copy, the frame's array is not reused. */
    private static ByteBuffer rest(ByteBuffer in) {
        ByteBuffer r = in.slice().asReadOnlyBuffer();
        in.position(in.limit());
        return r;
    }

    // ---------------------------------------------------------------- payloads

    /** Wire type of each message; numbers never change meaning (a new message gets a new number). */
    static int type(ReplicationMessage m) {
        return switch (m) {
            case Hello h -> 1;
            case Write w -> 2;
            case WriteAck a -> 3;
            case WriteNack n -> 4;
            case Flush f -> 5;
            case FlushAck a -> 6;
            case GenerationUpdate g -> 7;
            case BitmapChunk c -> 8;
            // 9, 10, 11 and 44 were the one-range resync messages of protocol 2
            case ResyncDone d -> 12;
            case VerifyRequest v -> 13;
            case VerifyDigest d -> 14;
            case RoleAnnouncement r -> 15;
            case Ping p -> 16;
            case Pong p -> 17;
            case Disconnect d -> 18;
            case ResyncRequest r -> 20;
            case ResyncAnswer a -> 21;
            case Batch b -> BATCH;
            // the catalog's messages (CatalogMirror) from 40 on, so messages the data path adds keep the low numbers
            case CatalogPart p -> 40;
            case CatalogApplied a -> 41;
            case ImageRequest r -> 42;
            case ImageData d -> 43;
        };
    }

    private static Payload payload(ReplicationMessage message) {
        // Sized for the data it carries: growing by doubling copied a 1 KiB write five times (seen in a profile).
        PayloadStream bytes = new PayloadStream(128 + switch (message) {
            case Write w -> w.data().remaining();
            case ResyncAnswer a -> a.data().remaining() + 13 * a.pieces().size();
            case BitmapChunk c -> c.words().remaining();
            default -> 0;
        });
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            switch (message) {
                case Hello h -> {
                    out.writeLong(h.nodeId());
                    out.writeShort(h.protocolVersion());
                    out.writeByte(h.role().ordinal());
                    if (h.disks().size() > 0xFFFF) throw new IllegalArgumentException("more than 65535 disks in one Hello");
                    out.writeShort(h.disks().size());
                    for (DiskGenerations d : h.disks()) {
                        string(out, d.disk());
                        out.writeLong(d.sizeBytes());
                        ids(out, d.ids());
                    }
                }
                case Write w -> {
                    string(out, w.disk());
                    out.writeLong(w.seq());
                    out.writeLong(w.offset());
                    out.writeBoolean(w.durable());
                    buffer(out, w.data());
                }
                case WriteAck a -> { string(out, a.disk()); out.writeLong(a.seq()); }
                case WriteNack n -> { string(out, n.disk()); out.writeLong(n.seq()); string(out, n.reason()); }
                case Flush f -> { string(out, f.disk()); out.writeLong(f.seq()); }
                case FlushAck a -> { string(out, a.disk()); out.writeLong(a.seq()); }
                case GenerationUpdate g -> { string(out, g.disk()); ids(out, g.ids()); }
                case BitmapChunk c -> {
                    string(out, c.disk());
                    out.writeLong(c.firstRegion());
                    out.writeBoolean(c.last());
                    buffer(out, c.words());
                }
                case ResyncRequest r -> {
                    string(out, r.disk());
                    out.writeShort(r.ranges().size());
                    for (Range x : r.ranges()) { out.writeLong(x.offset()); out.writeInt(x.length()); }
                }
                case ResyncAnswer a -> {
                    string(out, a.disk());
                    out.writeShort(a.pieces().size());
                    for (Piece x : a.pieces()) { out.writeLong(x.offset()); out.writeInt(x.length()); out.writeByte(x.holding().ordinal()); }
                    buffer(out, a.data());
                }
                case ResyncDone d -> { string(out, d.disk()); ids(out, d.ids()); }
                case VerifyRequest v -> { string(out, v.disk()); out.writeLong(v.offset()); out.writeInt(v.length()); }
                case VerifyDigest d -> { string(out, d.disk()); out.writeLong(d.offset()); out.writeInt(d.length()); buffer(out, d.digest()); }
                case RoleAnnouncement r -> { out.writeByte(r.role().ordinal()); out.writeLong(r.term()); }
                case Ping p -> out.writeLong(p.token());
                case Pong p -> out.writeLong(p.token());
                case Disconnect d -> string(out, d.reason());
                case Batch b -> throw new IllegalArgumentException("a Batch is encoded with encodeAll");
                case CatalogPart p -> { out.writeLong(p.version()); out.writeInt(p.index()); out.writeInt(p.count()); buffer(out, p.bytes()); }
                case CatalogApplied a -> { out.writeLong(a.version()); string(out, a.problem()); }
                case ImageRequest r -> { string(out, r.image()); string(out, r.file()); out.writeLong(r.offset()); out.writeInt(r.length()); }
                case ImageData d -> { string(out, d.image()); string(out, d.file()); out.writeLong(d.offset()); buffer(out, d.data()); }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.payload();
    }

    private static void ids(DataOutputStream out, GenerationIds ids) throws IOException {
        out.writeLong(ids.current());
        out.writeLong(ids.bitmap());
        out.writeByte(ids.crashedPrimary() ? 1 : 0);
        out.writeByte(ids.history().size());
        for (long h : ids.history()) out.writeLong(h);
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s.length() <= MAX_STRING && ascii(s)) {
            out.writeShort(s.length());
            out.writeBytes(s);   // ASCII: one byte per char, no encoder object per message
            return;
        }
        ByteBuffer utf8;
        try {
            utf8 = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not valid Unicode: " + s);
        }
        if (utf8.remaining() > MAX_STRING) throw new IllegalArgumentException("string of " + utf8.remaining() + " bytes, at most " + MAX_STRING);
        out.writeShort(utf8.remaining());
        buffer(out, utf8);
    }

    private static void buffer(DataOutputStream out, ByteBuffer b) throws IOException {
        ByteBuffer d = b.duplicate();
        if (d.hasArray()) {
            out.write(d.array(), d.arrayOffset() + d.position(), d.remaining());
        } else {
            byte[] copy = new byte[d.remaining()];
            d.get(copy);
            out.write(copy);
        }
    }

    private static byte[] deriveKey(byte[] secret, byte[] fromNonce, byte[] toNonce) {
        Mac mac = hmac(secret);
        mac.update(LABEL);
        mac.update(fromNonce);
        mac.update(toNonce);
        return mac.doFinal();
    }

    private static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK always has HmacSHA256", e);
        }
    }
}
