package dev.netboot.packet;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A Linux AF_PACKET SOCK_RAW socket for one ethertype on one interface, through the FFM API.
 * Frames are received and sent in batches (recvmmsg/sendmmsg) so one system call moves many
 * frames each way. Receiving and batch sending belong to one thread (the one that owns the
 * batches); {@link #sendOne} may be called from any thread.
 */
public final class PacketSocket implements AutoCloseable {

    private final int fd;
    private final String interfaceName;
    private final int ifindex;
    private final int mtu;
    private final byte[] mac;
    private volatile boolean closed;
    /** With a receive ring (see PacketRing) frames arrive through it instead of recvmmsg. */
    private PacketRing rx;
    private int timeoutMillis;
    private final Arena pollArena = Arena.ofAuto();
    private final MemorySegment pollFd = pollArena.allocate(8, 4);
    private final MemorySegment pollCapture = PacketLibc.newCapture(pollArena);


    private PacketSocket(int fd, String interfaceName, int ifindex, int mtu, byte[] mac) {
        this.fd = fd;
        this.interfaceName = interfaceName;
        this.ifindex = ifindex;
        this.mtu = mtu;
        this.mac = mac;
    }

    /**
     * Opens and binds the socket. Needs CAP_NET_RAW.
     *
     * @param receiveTimeoutMillis how long {@link #receive} blocks at most before returning 0
     */
    public static PacketSocket open(String interfaceName, int ethertype, int bufferBytes, int receiveTimeoutMillis) throws IOException {
        return open(interfaceName, ethertype, bufferBytes, receiveTimeoutMillis, false);
    }

    /**
     * Like {@link #open(String, int, int, int)}; with {@code rxRing} frames are received through a
     * PACKET_MMAP ring of about {@code bufferBytes} (see {@link PacketRing}) instead of recvmmsg:
     * no system call per batch while frames keep coming.
     */
    public static PacketSocket open(String interfaceName, int ethertype, int bufferBytes, int receiveTimeoutMillis, boolean rxRing)
            throws IOException {
        // From sysfs rather than java.net.NetworkInterface, which lists only interfaces that have an
        // IP address (a tap whose guest is not running yet has none).
        if (interfaceName.isBlank() || interfaceName.contains("/") || interfaceName.startsWith("."))
            throw new IOException("bad network interface name '" + interfaceName + "'");
        Path sys = Path.of("/sys/class/net", interfaceName);
        if (!Files.isDirectory(sys)) throw new IOException("network interface '" + interfaceName + "' does not exist");
        int ifindex = Integer.parseInt(Files.readString(sys.resolve("ifindex")).trim());
        int mtu = Integer.parseInt(Files.readString(sys.resolve("mtu")).trim());
        String address = Files.readString(sys.resolve("address")).trim();
        byte[] mac = HexFormat.ofDelimiter(":").parseHex(address);
        if (mac.length != 6) throw new IOException("network interface '" + interfaceName + "' has no Ethernet address");
        return open(interfaceName, ifindex, mtu, mac, ethertype, bufferBytes, receiveTimeoutMillis, rxRing);
    }

    private static PacketSocket open(String name, int ifindex, int mtu, byte[] mac, int ethertype, int bufferBytes, int timeoutMillis,
                                     boolean rxRing) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = PacketLibc.newCapture(arena);
            int fd = (int) PacketLibc.SOCKET.invokeExact(cap, PacketLibc.AF_PACKET, PacketLibc.SOCK_RAW, (int) PacketLibc.htons(ethertype));
            if (fd < 0) {
                int errno = PacketLibc.errno(cap);
                throw new IOException("socket(AF_PACKET) failed: " + PacketLibc.strerror(errno) + (errno == 1 ? " (raw sockets need root or CAP_NET_RAW)" : ""));
            }
            PacketSocket s = new PacketSocket(fd, name, ifindex, mtu, mac);
            try {
                MemorySegment sll = arena.allocate(PacketLibc.SOCKADDR_LL_SIZE);
                sll.set(ValueLayout.JAVA_SHORT, 0, (short) PacketLibc.AF_PACKET);
                sll.set(ValueLayout.JAVA_SHORT, 2, PacketLibc.htons(ethertype));
                sll.set(ValueLayout.JAVA_INT, 4, ifindex);
                int rc = (int) PacketLibc.BIND.invokeExact(cap, fd, sll, PacketLibc.SOCKADDR_LL_SIZE);
                if (rc < 0) throw new IOException("bind to " + name + " failed: " + PacketLibc.strerror(PacketLibc.errno(cap)));
                // Large buffers: a burst of jumbo frames from many initiators must not be dropped
                // (vblade's known weakness). FORCE ignores rmem_max when we are root.
                if (setInt(arena, cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_RCVBUFFORCE, bufferBytes) < 0)
                    setInt(arena, cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_RCVBUF, bufferBytes);
                if (setInt(arena, cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_SNDBUFFORCE, bufferBytes) < 0)
                    setInt(arena, cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_SNDBUF, bufferBytes);
                // Our own replies need not come back to us (Linux 4.20+; harmless where unknown).
                setInt(arena, cap, fd, PacketLibc.SOL_PACKET, PacketLibc.PACKET_IGNORE_OUTGOING, 1);
                MemorySegment tv = arena.allocate(16);
                tv.set(ValueLayout.JAVA_LONG, 0, timeoutMillis / 1000);
                tv.set(ValueLayout.JAVA_LONG, 8, (timeoutMillis % 1000) * 1000L);
                rc = (int) PacketLibc.SETSOCKOPT.invokeExact(cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_RCVTIMEO, tv, 16);
                if (rc < 0) throw new IOException("SO_RCVTIMEO failed: " + PacketLibc.strerror(PacketLibc.errno(cap)));
                s.timeoutMillis = timeoutMillis;
                s.pollFd.set(ValueLayout.JAVA_INT, 0, fd);
                s.pollFd.set(ValueLayout.JAVA_SHORT, 4, (short) 1 /* POLLIN */);
                if (rxRing) s.rx = PacketRing.attachReceiveRing(fd, mtu, bufferBytes);
                return s;
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private static int setInt(Arena arena, MemorySegment cap, int fd, int level, int option, int value) throws Throwable {
        MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
        v.set(ValueLayout.JAVA_INT, 0, value);
        return (int) PacketLibc.SETSOCKOPT.invokeExact(cap, fd, level, option, v, 4);
    }

    /**
     * Joins a fanout group: the kernel then spreads the frames arriving on the interface over all
     * sockets of the group, round robin, so several threads serve one interface.
     */
    public void joinFanoutRoundRobin(int groupId) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = PacketLibc.newCapture(arena);
            int rc = setInt(arena, cap, fd, PacketLibc.SOL_PACKET, PacketLibc.PACKET_FANOUT, (groupId & 0xFFFF) | (PacketLibc.PACKET_FANOUT_LB << 16));
            if (rc < 0) throw new IOException("PACKET_FANOUT on " + interfaceName + ": " + PacketLibc.strerror(PacketLibc.errno(cap)));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /**
     * Attaches a classic BPF filter (SO_ATTACH_FILTER): from now on the kernel hands this socket only
     * the frames the program accepts. Frames queued before the call may still arrive, so readers
     * check what they get anyway.
     */
    public void attachFilter(SocketFilter filter) throws IOException {
        var insns = filter.instructions();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = PacketLibc.newCapture(arena);
            MemorySegment program = arena.allocate(8L * insns.size(), 8);
            for (int i = 0; i < insns.size(); i++) {
                SocketFilter.Instruction in = insns.get(i);
                program.set(ValueLayout.JAVA_SHORT, 8L * i, (short) in.code());
                program.set(ValueLayout.JAVA_BYTE, 8L * i + 2, (byte) in.jt());
                program.set(ValueLayout.JAVA_BYTE, 8L * i + 3, (byte) in.jf());
                program.set(ValueLayout.JAVA_INT, 8L * i + 4, in.k());
            }
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer at offset 8 on LP64.
            MemorySegment fprog = arena.allocate(16, 8);
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) insns.size());
            fprog.set(ValueLayout.ADDRESS, 8, program);
            int rc = (int) PacketLibc.SETSOCKOPT.invokeExact(cap, fd, PacketLibc.SOL_SOCKET, PacketLibc.SO_ATTACH_FILTER, fprog, 16);
            if (rc < 0) throw new IOException("SO_ATTACH_FILTER on " + interfaceName + ": " + PacketLibc.strerror(PacketLibc.errno(cap)));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    public String interfaceName() { return interfaceName; }
    public int mtu() { return mtu; }
    public byte[] mac() { return mac.clone(); }
    public int ifindex() { return ifindex; }

    /**
     * Receives up to {@code batch.capacity()} frames, blocking until at least one arrived or the
     * receive timeout passed (then 0).
     */
    public int receive(Batch batch) throws IOException {
        return receive(batch, false);
    }

    /** Like {@link #receive(Batch)}; with {@code poll} it returns 0 at once when nothing is waiting. */
    public int receive(Batch batch, boolean poll) throws IOException {
        if (rx != null) return receiveFromRing(batch, poll);
        batch.prepareReceive();
        int n;
        int flags = PacketLibc.MSG_WAITFORONE | (poll ? PacketLibc.MSG_DONTWAIT : 0);
        try {
            n = (int) PacketLibc.RECVMMSG.invokeExact(batch.capture, fd, batch.headers, batch.capacity(), flags, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        if (n < 0) {
            int errno = PacketLibc.errno(batch.capture);
            if (errno == PacketLibc.EAGAIN || errno == PacketLibc.EINTR) return 0;
            if (closed) return 0;
            throw new IOException("recvmmsg on " + interfaceName + ": " + PacketLibc.strerror(errno));
        }
        batch.count = n;
        return n;
    }

    private int receiveFromRing(Batch batch, boolean poll) throws IOException {
        // The frames of the previous batch are done with: the kernel may fill their slots again.
        for (int k = 0; k < batch.ringCount; k++) rx.setStatus(batch.ringSlots[k], PacketRing.TP_STATUS_KERNEL);
        batch.ringCount = 0;
        batch.ring = rx;
        int n = gather(batch);
        if (n == 0 && !poll) {
            int rc;
            try {
                rc = (int) PacketLibc.POLL.invokeExact(pollCapture, pollFd, 1L, timeoutMillis);
            } catch (Throwable t) {
                throw new IOException(t);
            }
            if (rc < 0) {
                int errno = PacketLibc.errno(pollCapture);
                if (errno != PacketLibc.EINTR && !closed) throw new IOException("poll on " + interfaceName + ": " + PacketLibc.strerror(errno));
            }
            n = gather(batch);
        }
        batch.count = n;
        return n;
    }

    private int gather(Batch batch) {
        if (batch.ringSlots == null) {
            batch.ringSlots = new int[batch.capacity()];
            batch.ringViews = new ByteBuffer[batch.capacity()];
        }
        int n = 0;
        while (n < batch.capacity() && rx.readable()) {
            int i = rx.ahead(0);
            rx.advance(1);
            batch.ringSlots[n] = i;
            batch.ringViews[n] = rx.received(i);
            n++;
        }
        batch.ringCount = n;
        return n;
    }

    /** Sends the first {@code count} frames of the batch (lengths set with {@link Batch#length(int, int)}). */
    public void send(Batch batch, int count) throws IOException {
        send(batch, 0, count);
    }

    /** A frame of a batch the kernel refused: which one and why; the frames before it were sent. */
    public static final class SendException extends IOException {
        private final int frame;
        private final int errno;

        SendException(String message, int frame, int errno) {
            super(message);
            this.frame = frame;
            this.errno = errno;
        }

        /** Index of the refused frame in the batch. */
        public int frame() { return frame; }

        /** EFAULT: the kernel could not read the frame's data (an I/O error in a mapped file). */
        public boolean badAddress() { return errno == PacketLibc.EFAULT; }
    }

    /** Sends frames {@code from} to {@code count - 1}; a refusal names the frame ({@link SendException}). */
    public void send(Batch batch, int from, int count) throws IOException {
        int sent = from;
        int spins = 0;
        while (sent < count) {
            int n;
            try {
                n = (int) PacketLibc.SENDMMSG.invokeExact(batch.capture, fd, batch.headers.asSlice((long) sent * PacketLibc.MMSGHDR_SIZE), count - sent, 0);
            } catch (Throwable t) {
                throw new IOException(t);
            }
            if (n < 0) {
                int errno = PacketLibc.errno(batch.capture);
                if ((errno == PacketLibc.EINTR || errno == PacketLibc.EAGAIN || errno == PacketLibc.ENOBUFS) && spins++ < 1000) {
                    Thread.onSpinWait();
                    continue;
                }
                throw new SendException("sendmmsg on " + interfaceName + ": " + PacketLibc.strerror(errno), sent, errno);
            }
            sent += n;
        }
    }

    /** Sends one frame; safe from any thread. */
    public void sendOne(ByteBuffer frame) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = PacketLibc.newCapture(arena);
            MemorySegment buf = arena.allocate(Math.max(1, frame.remaining()));
            buf.copyFrom(MemorySegment.ofBuffer(frame));
            long n = (long) PacketLibc.SEND.invokeExact(cap, fd, buf, (long) frame.remaining(), 0);
            if (n < 0) throw new IOException("send on " + interfaceName + ": " + PacketLibc.strerror(PacketLibc.errno(cap)));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) PacketLibc.CLOSE.invokeExact(PacketLibc.newCapture(arena), fd);
        } catch (Throwable ignored) {
            // nothing to do: the descriptor is gone either way
        }
        if (rx != null) rx.close();
    }

    /**
     * Frame buffers plus the iovec/mmsghdr arrays that point at them, in one native arena.
     * One batch is for receiving, another for sending; each is used by one thread.
     */
    public static final class Batch implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final int capacity;
        private final int frameSize;
        private final MemorySegment frames;
        private final MemorySegment iovecs;
        private final MemorySegment headers;
        private final MemorySegment names;
        private final MemorySegment capture;
        private final ByteBuffer[] views;
        private int count;
        // Receiving from a ring: the ring slots this batch holds and views of their frames.
        private PacketRing ring;
        private int[] ringSlots;
        private ByteBuffer[] ringViews;
        private int ringCount;

        public Batch(int capacity, int frameSize) {
            this.capacity = capacity;
            this.frameSize = frameSize;
            this.frames = arena.allocate((long) capacity * frameSize, 64);
            // Two iovecs a message: the frame slot, and optionally data that lies elsewhere (lengthWithData).
            this.iovecs = arena.allocate((long) capacity * 2 * PacketLibc.IOVEC_SIZE, 8);
            this.headers = arena.allocate((long) capacity * PacketLibc.MMSGHDR_SIZE, 8);
            this.names = arena.allocate((long) capacity * PacketLibc.SOCKADDR_LL_SIZE, 8);
            this.capture = PacketLibc.newCapture(arena);
            this.views = new ByteBuffer[capacity];
            for (int i = 0; i < capacity; i++) {
                MemorySegment frame = frames.asSlice((long) i * frameSize, frameSize);
                views[i] = frame.asByteBuffer().order(ByteOrder.BIG_ENDIAN);
                iovecs.set(ValueLayout.ADDRESS, iov(i), frame);
                iovecs.set(ValueLayout.JAVA_LONG, iov(i) + 8, frameSize);
                long h = (long) i * PacketLibc.MMSGHDR_SIZE;
                headers.set(ValueLayout.ADDRESS, h + PacketLibc.MSG_IOV, iovecs.asSlice(iov(i), 2L * PacketLibc.IOVEC_SIZE));
                headers.set(ValueLayout.JAVA_LONG, h + PacketLibc.MSG_IOVLEN, 1);
            }
        }

        public int capacity() { return capacity; }
        public int frameSize() { return frameSize; }
        public int count() { return count; }

        private int prepared;

        private void prepareReceive() {
            // Only the headers the last receive filled need resetting (all of them the first time).
            int to = prepared == 0 ? capacity : Math.min(capacity, count);
            prepared = 1;
            for (int i = 0; i < to; i++) {
                long h = (long) i * PacketLibc.MMSGHDR_SIZE;
                headers.set(ValueLayout.ADDRESS, h + PacketLibc.MSG_NAME, names.asSlice((long) i * PacketLibc.SOCKADDR_LL_SIZE, PacketLibc.SOCKADDR_LL_SIZE));
                headers.set(ValueLayout.JAVA_INT, h + PacketLibc.MSG_NAMELEN, PacketLibc.SOCKADDR_LL_SIZE);
                headers.set(ValueLayout.JAVA_INT, h + PacketLibc.MSG_FLAGS, 0);
                iovecs.set(ValueLayout.JAVA_LONG, iov(i) + 8, frameSize);
                headers.set(ValueLayout.JAVA_LONG, h + PacketLibc.MSG_IOVLEN, 1);
            }
        }

        /** Byte offset of message {@code i}'s first iovec (its frame slot); the second follows it. */
        private static long iov(int i) { return (long) i * 2 * PacketLibc.IOVEC_SIZE; }

        /** The received frame {@code i}: a view of its bytes, position 0, limit = its length. */
        public ByteBuffer received(int i) {
            if (ring != null) return ringViews[i];
            int len = headers.get(ValueLayout.JAVA_INT, (long) i * PacketLibc.MMSGHDR_SIZE + PacketLibc.MSG_LEN);
            return views[i].clear().limit(Math.min(len, frameSize));
        }

        /** Whether frame {@code i} is one this host sent (seen by a packet socket as PACKET_OUTGOING). */
        public boolean outgoing(int i) {
            if (ring != null) return ring.outgoing(ringSlots[i]);
            return (names.get(ValueLayout.JAVA_BYTE, (long) i * PacketLibc.SOCKADDR_LL_SIZE + 10) & 0xFF) == PacketLibc.PACKET_OUTGOING;
        }

        /** Slot {@code i} to encode an outgoing frame into (position 0, limit = frame size). */
        public ByteBuffer slot(int i) {
            return views[i].clear();
        }

        /** Sets the length of outgoing frame {@code i}; sending uses no address (the bound interface). */
        public void length(int i, int length) {
            long h = (long) i * PacketLibc.MMSGHDR_SIZE;
            headers.set(ValueLayout.ADDRESS, h + PacketLibc.MSG_NAME, MemorySegment.NULL);
            headers.set(ValueLayout.JAVA_INT, h + PacketLibc.MSG_NAMELEN, 0);
            headers.set(ValueLayout.JAVA_LONG, h + PacketLibc.MSG_IOVLEN, 1);
            iovecs.set(ValueLayout.JAVA_LONG, iov(i) + 8, length);
        }

        /**
         * Outgoing frame {@code i} is the first {@code headerLength} bytes of its slot followed by
         * {@code data}, which the kernel copies from where it lies (a mapping of a disk file) when the
         * batch is sent: one copy instead of two. {@code data} must stay mapped until then.
         */
        public void lengthWithData(int i, int headerLength, MemorySegment data) {
            length(i, headerLength);
            headers.set(ValueLayout.JAVA_LONG, (long) i * PacketLibc.MMSGHDR_SIZE + PacketLibc.MSG_IOVLEN, 2);
            iovecs.set(ValueLayout.ADDRESS, iov(i) + PacketLibc.IOVEC_SIZE, data);
            iovecs.set(ValueLayout.JAVA_LONG, iov(i) + PacketLibc.IOVEC_SIZE + 8, data.byteSize());
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
