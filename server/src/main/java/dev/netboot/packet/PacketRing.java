package dev.netboot.packet;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A PACKET_MMAP receive ring (TPACKET_V2) shared with the kernel: slots of {@code frameSize} bytes,
 * each starting with a {@code struct tpacket2_hdr} whose status word says who owns the slot. The
 * kernel copies each arriving frame into the next free slot and flips its status to "user"; we read
 * the frame in place and flip it back. No system call while frames keep coming; poll() only when
 * the ring is empty.
 *
 * <p>A transmit ring (PACKET_TX_RING) was tried too and dropped: against sendmmsg it measured
 * better on some rows and worse on others (docs/aoe.md), and its packets point into the ring pages.
 * As we read the kernel source, a slot is handed back when the sending skb is freed
 * (tpacket_destruct_skb), while a clone of it queued at a local packet socket behind a veth
 * (packet_rcv clones shared skbs) may still point into that page, so a reader lagging a whole
 * ring behind could see the slot rewritten.
 *
 * <p>TPACKET_V2 rather than V3: V3 hands received frames over in whole blocks, a partly filled one
 * only when its retire timer (at least 1 ms) fires, which would add a millisecond to every
 * request/response round trip of a lightly loaded AoE initiator. V2 hands over each frame at once.
 */
final class PacketRing {

    static final int TPACKET_V2 = 1;
    static final int PACKET_VERSION = 10;
    static final int PACKET_RX_RING = 5;
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    /** struct tpacket2_hdr: status, len, snaplen, mac (u16); struct sockaddr_ll follows at 32. */
    static final int STATUS = 0, SNAPLEN = 8, MAC = 12, SLL = 32;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Arena arena;
    private final MemorySegment ring;
    private final int frameSize;
    private final int framesPerBlock;
    private final int blockSize;
    private final int frameCount;
    private final ByteBuffer[] views;
    private int next;

    private PacketRing(Arena arena, MemorySegment ring, Geometry g) {
        this.arena = arena;
        this.ring = ring;
        this.blockSize = g.blockSize;
        this.frameSize = g.frameSize;
        this.framesPerBlock = g.blockSize / g.frameSize;
        this.frameCount = g.frameCount();
        this.views = new ByteBuffer[frameCount];
        for (int i = 0; i < frameCount; i++) views[i] = ring.asSlice(offset(i), frameSize).asByteBuffer().order(ByteOrder.BIG_ENDIAN);
    }

    record Geometry(int blockSize, int blocks, int frameSize) {
        /** About {@code bytes} of slots, each big enough for a frame of {@code mtu} plus the headers. */
        static Geometry of(int mtu, int bytes) {
            // A received frame starts TPACKET_ALIGN(52 + 16) - 14 = 66 bytes into its slot.
            int frameSize = Integer.highestOneBit(80 + 14 + 4 + Math.max(mtu, 1500) - 1) << 1; // 2048 for 1500, 16384 for 9000
            int blockSize = Math.max(frameSize, 1 << 16);
            return new Geometry(blockSize, Math.max(1, bytes / blockSize), frameSize);
        }

        int frameCount() { return blocks * (blockSize / frameSize); }
        long length() { return (long) blockSize * blocks; }
    }

    /** Sets up a receive ring of about {@code bytes} on a bound packet socket and maps it. */
    static PacketRing attachReceiveRing(int fd, int mtu, int bytes) throws IOException {
        Geometry g = Geometry.of(mtu, bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = PacketLibc.newCapture(arena);
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, TPACKET_V2);
            if ((int) PacketLibc.SETSOCKOPT.invokeExact(cap, fd, PacketLibc.SOL_PACKET, PACKET_VERSION, v, 4) < 0)
                throw new IOException("PACKET_VERSION TPACKET_V2: " + PacketLibc.strerror(PacketLibc.errno(cap)));
            MemorySegment req = arena.allocate(16, 4);
            req.set(ValueLayout.JAVA_INT, 0, g.blockSize());
            req.set(ValueLayout.JAVA_INT, 4, g.blocks());
            req.set(ValueLayout.JAVA_INT, 8, g.frameSize());
            req.set(ValueLayout.JAVA_INT, 12, g.frameCount());
            if ((int) PacketLibc.SETSOCKOPT.invokeExact(cap, fd, PacketLibc.SOL_PACKET, PACKET_RX_RING, req, 16) < 0)
                throw new IOException("PACKET_RX_RING: " + PacketLibc.strerror(PacketLibc.errno(cap)));
            long length = g.length();
            MemorySegment addr = (MemorySegment) PacketLibc.MMAP.invokeExact(cap, MemorySegment.NULL, length, 3 /* PROT_READ|WRITE */,
                    1 /* MAP_SHARED */, fd, 0L);
            if (addr.address() == -1L) throw new IOException("mmap of the receive ring: " + PacketLibc.strerror(PacketLibc.errno(cap)));
            // A shared arena unmaps on close; a thread still touching the ring then gets an exception, not a crash.
            Arena shared = Arena.ofShared();
            return new PacketRing(shared, addr.reinterpret(length, shared, PacketRing::unmap), g);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private static void unmap(MemorySegment ring) {
        try {
            int rc = (int) PacketLibc.MUNMAP.invokeExact(dev.netboot.posix.Libc.threadCapture(), ring, ring.byteSize());
        } catch (Throwable ignored) {
            // the mapping goes with the process
        }
    }

    private long offset(int i) {
        return (long) (i / framesPerBlock) * blockSize + (long) (i % framesPerBlock) * frameSize;
    }

    /** The slot {@code k} places after the cursor. */
    int ahead(int k) {
        return (next + k) % frameCount;
    }

    void advance(int k) {
        next = (next + k) % frameCount;
    }

    int status(int i) {
        return (int) INT.getAcquire(ring, offset(i));
    }

    void setStatus(int i, int status) {
        INT.setRelease(ring, offset(i), status);
    }

    /** Whether the slot at the cursor holds a frame for us. */
    boolean readable() {
        return (status(next) & TP_STATUS_USER) != 0;
    }

    /** The received frame in slot {@code i}: position 0, limit = its length. */
    ByteBuffer received(int i) {
        long o = offset(i);
        int mac = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT_UNALIGNED, o + MAC));
        int len = ring.get(ValueLayout.JAVA_INT_UNALIGNED, o + SNAPLEN);
        return views[i].clear().position(mac).limit(Math.min(mac + len, frameSize)).slice().order(ByteOrder.BIG_ENDIAN);
    }

    boolean outgoing(int i) {
        return (ring.get(ValueLayout.JAVA_BYTE, offset(i) + SLL + 10) & 0xFF) == PacketLibc.PACKET_OUTGOING;
    }

    void close() {
        arena.close();
    }
}
