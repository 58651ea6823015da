package dev.netboot.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;

/**
 * Picks Netty's native epoll transport on Linux (fewer copies and syscalls, sendmmsg for a window
 * of DATA packets) and falls back to NIO elsewhere, so the protocol adapters never care which.
 */
public enum Transport {
    EPOLL, NIO;

    public static Transport best() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** How long an epoll loop keeps polling after its last I/O; 0 turns it off (-Dnetboot.spinMicros). */
    static final long SPIN_NANOS = Long.getLong("netboot.spinMicros", 100) * 1000;

    public EventLoopGroup newGroup(int threads) {
        IoHandlerFactory factory = this == NIO ? NioIoHandler.newFactory()
                : SPIN_NANOS > 0 ? EpollIoHandler.newFactory(0, () -> new BriefSpinSelectStrategy(SPIN_NANOS))
                : EpollIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, factory);
    }

    /** Whether datagram channels of this transport accept {@code SegmentedDatagramPacket} (UDP GSO). */
    public boolean supportsSegmentedDatagrams() {
        return this == EPOLL && EpollDatagramChannel.isSegmentedDatagramPacketSupported();
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }
}
