package dev.netboot.packet;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** The few libc calls a raw Ethernet socket needs, bound with the FFM API (no JNI, no JNA). */
final class PacketLibc {

    static final int AF_PACKET = 17;
    static final int SOCK_RAW = 3;
    static final int SOL_SOCKET = 1;
    static final int SOL_PACKET = 263;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_RCVTIMEO = 20;
    static final int SO_SNDBUFFORCE = 32;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_ATTACH_FILTER = 26;
    static final int PACKET_FANOUT = 18;
    static final int PACKET_FANOUT_LB = 1;
    static final int PACKET_QDISC_BYPASS = 20;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int PACKET_OUTGOING = 4;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_WAITFORONE = 0x10000;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EFAULT = 14;
    static final int ENOBUFS = 105;

    /** struct sockaddr_ll */
    static final int SOCKADDR_LL_SIZE = 20;
    /** struct iovec */
    static final int IOVEC_SIZE = 16;
    /** struct mmsghdr = struct msghdr (56 bytes on LP64) + unsigned msg_len, padded to 64. */
    static final int MMSGHDR_SIZE = 64;
    static final int MSG_NAME = 0, MSG_NAMELEN = 8, MSG_IOV = 16, MSG_IOVLEN = 24, MSG_FLAGS = 48, MSG_LEN = 56;


    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    static final MethodHandle SOCKET = find("socket", FunctionDescriptor.of(INT, INT, INT, INT));
    static final MethodHandle BIND = find("bind", FunctionDescriptor.of(INT, INT, ADDR, INT));
    static final MethodHandle SETSOCKOPT = find("setsockopt", FunctionDescriptor.of(INT, INT, INT, INT, ADDR, INT));
    static final MethodHandle RECVMMSG = find("recvmmsg", FunctionDescriptor.of(INT, INT, ADDR, INT, INT, ADDR));
    static final MethodHandle SENDMMSG = find("sendmmsg", FunctionDescriptor.of(INT, INT, ADDR, INT, INT));
    static final MethodHandle SEND = find("send", FunctionDescriptor.of(LONG, INT, ADDR, LONG, INT));
    static final MethodHandle CLOSE = find("close", FunctionDescriptor.of(INT, INT));
    static final MethodHandle MMAP = find("mmap", FunctionDescriptor.of(ADDR, ADDR, LONG, INT, INT, INT, LONG));
    static final MethodHandle MUNMAP = find("munmap", FunctionDescriptor.of(INT, ADDR, LONG));
    static final MethodHandle POLL = find("poll", FunctionDescriptor.of(INT, ADDR, LONG, INT));

    private PacketLibc() {}

    private static MethodHandle find(String name, FunctionDescriptor fd) {
        return dev.netboot.posix.Libc.function(name, fd);
    }

    /** Per-thread errno capture buffer: each call passes it as its first argument. */
    static MemorySegment newCapture(Arena arena) {
        return dev.netboot.posix.Libc.newCapture(arena);
    }

    static int errno(MemorySegment capture) {
        return dev.netboot.posix.Libc.errno(capture);
    }

    static String strerror(int errno) {
        return dev.netboot.posix.Libc.strerror(errno);
    }

    static short htons(int v) {
        return (short) (((v & 0xFF) << 8) | ((v >>> 8) & 0xFF));
    }
}
