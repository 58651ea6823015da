package dev.netboot.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * Picks Netty's native epoll transport on Linux (fewer copies and syscalls, sendmmsg for a window
 * of DATA packets) and falls back to NIO elsewhere, so the protocol adapters never care which.
 */
public enum Transport {
    EPOLL, NIO;

    public static Transport best() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** How long an epoll loop keeps polling after its last I/O unless the config says otherwise (tuning.eventLoopSpinMicros). */
    public static final long DEFAULT_SPIN_MICROS = 100;

    public EventLoopGroup newGroup(int threads) {
        return newGroup(threads, DEFAULT_SPIN_MICROS);
    }

    /** @param spinMicros how long an epoll loop keeps polling after its last I/O before it sleeps; 0 = never */
    public EventLoopGroup newGroup(int threads, long spinMicros) {
        long spinNanos = spinMicros * 1000;
        IoHandlerFactory factory = this == NIO ? NioIoHandler.newFactory()
                : spinNanos > 0 ? EpollIoHandler.newFactory(0, () -> new BriefSpinSelectStrategy(spinNanos))
                : EpollIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, factory);
    }

    /** Whether datagram channels of this transport accept {@code SegmentedDatagramPacket} (UDP GSO). */
    public boolean supportsSegmentedDatagrams() {
        return this == EPOLL && EpollDatagramChannel.isSegmentedDatagramPacketSupported();
    }

    /**
     * An AF_INET datagram channel: Netty opens dual-stack AF_INET6 ones by default, and the kernel answers SIOCSARP
     * (DHCP's ARP entries) on those with ENOTTY.
     *
     * <p>Each transport's channel is made in a method of its own, returned as the interface. Written as one
     * {@code cond ? new Epoll… : new Nio…}, the verifier of the calling class loads both channel classes to check
     * their common superclass; loading {@code NioDatagramChannel} on an epoll server gave Netty's
     * {@code AbstractChannel} a second subclass after the TFTP warm-up, and HotSpot threw away the warm-up's compiled
     * per-block path (14 methods, "marked for deoptimization" in -Xlog:deoptimization): the first PC's kernel went
     * through tier-2 code while C2 compiled it all again (bench/boot.sh, bios-grub).
     */
    public DatagramChannel newIpv4DatagramChannel() {
        return this == EPOLL ? epollIpv4() : nioIpv4();
    }

    private static DatagramChannel epollIpv4() {
        return new EpollDatagramChannel(SocketProtocolFamily.INET);
    }

    private static DatagramChannel nioIpv4() {
        return new NioDatagramChannel(SocketProtocolFamily.INET);
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** TCP, for loops of {@link #newGroup}. */
    public Class<? extends ServerSocketChannel> serverSocketChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
