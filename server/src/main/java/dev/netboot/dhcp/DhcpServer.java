package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.metrics.RateLimitedLog;
import dev.netboot.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Netty adapter of DHCP: per served interface one socket on port 67 (and one on the PXE
 * boot-server port 4011), each bound to its device with {@code SO_BINDTODEVICE}, so the interface a
 * broadcast came in on is known (it selects the pool and the server identifier) and replies leave
 * through it.
 *
 * <p>A client without an address cannot answer ARP, and Linux will not send a UDP datagram to an
 * address it cannot resolve. Like dnsmasq, we write the ARP entry ourselves ({@code SIOCSARP},
 * yiaddr → chaddr) and then unicast, as RFC 2131 §4.1 asks; with {@code unaddressedDelivery:
 * broadcast}, or when that fails (no epoll, no CAP_NET_ADMIN), the reply is broadcast instead, which
 * every client accepts.
 *
 * <p>It also carries out the engine's {@link DhcpEffect effects}: lease records go to the
 * {@link LeaseStore}, client sightings and boots to the {@link ClientObserver}. Both only queue, so
 * the event loop never waits for a database.
 */
public final class DhcpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DhcpServer.class);

    private final DhcpEngine engine;
    private final LeaseStore store;
    private final ClientObserver observer;
    /**
     * Requests arrive on several event loops (one per socket) and expiry on a timer: a call to the
     * engine and the saving of the leases it changed happen under this lock, so the store receives
     * each address's states in the order the engine made them.
     */
    private final Object engineLock = new Object();
    private final List<ServedInterface> interfaces;
    private final int port;
    private final int bootServerPort;
    private final boolean arpDelivery;
    private final DhcpMetrics metrics;
    private final Transport transport;
    private final EventLoopGroup group;
    private final Clock clock;
    private final RateLimitedLog malformedLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    /** Apart from malformedLog: a flood of one must not hide the other, nor be counted as its "similar events". */
    private final RateLimitedLog sendFailureLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private final RateLimitedLog arpLog = new RateLimitedLog(log, TimeUnit.MINUTES.toNanos(10));
    private final List<Channel> channels = new ArrayList<>();
    private int clientPort = 68;

    public DhcpServer(DhcpEngine engine, LeaseStore store, ClientObserver observer, List<ServedInterface> interfaces, int port,
                      int bootServerPort, boolean arpDelivery, MeterRegistry registry, Transport transport, EventLoopGroup group, Clock clock) {
        this.engine = engine;
        this.store = store;
        this.observer = observer;
        this.interfaces = List.copyOf(interfaces);
        this.port = port;
        this.bootServerPort = bootServerPort;
        this.arpDelivery = arpDelivery;
        this.metrics = new DhcpMetrics(registry);
        this.transport = transport;
        this.group = group;
        this.clock = clock;
    }

    /**
     * Where replies to clients go instead of udp 68: for tests on loopback, which cannot share port 68
     * with a parallel build on the same machine. Relay and boot-server replies are unaffected.
     */
    DhcpServer clientPortForTests(int port) {
        this.clientPort = port;
        return this;
    }

    public DhcpServer start() throws IOException, InterruptedException {
        if (interfaces.isEmpty()) throw new IOException("no interface with an IPv4 address to serve DHCP on");
        try {
            for (ServedInterface nic : interfaces) {
                channels.add(open(nic, port, false));
                if (bootServerPort > 0) channels.add(open(nic, bootServerPort, true));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** Leases that ran out become free, and the store hears of it (call it now and then, e.g. every 10 s). */
    public void expire(Instant now) {
        synchronized (engineLock) {
            carryOut(engine.expire(now));
        }
    }

    /** The engine's effects, in order; the store and the observer only queue them. */
    private void carryOut(List<DhcpEffect> effects) {
        for (DhcpEffect effect : effects) {
            switch (effect) {
                case DhcpEffect.SaveLease s -> store.save(s.lease());
                case DhcpEffect.ClientSeen s -> observer.seen(s.machine(), s.at());
                case DhcpEffect.Booted b -> observer.booted(b.machine(), b.plan(), b.address(), b.at());
            }
        }
    }


    private Channel open(ServedInterface nic, int listenPort, boolean bootServer) throws IOException, InterruptedException {
        Channel ch = new Bootstrap().group(group).channelFactory(transport::newIpv4DatagramChannel)
                .option(ChannelOption.SO_BROADCAST, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                // A PXE boot storm (a rack powering on) arrives at once: queue it rather than drop it.
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .handler(new Handler(nic, bootServer))
                .register().sync().channel();
        // Every interface's socket binds 0.0.0.0:67 (broadcasts are addressed to no unicast address),
        // so each must be tied to its device before bind.
        if (ch instanceof EpollDatagramChannel epoll) {
            try {
                LinuxSockets.bindToDevice(epoll.fd().intValue(), nic.name());
            } catch (LinuxSockets.NativeException e) {
                ch.close();
                throw new IOException("cannot bind DHCP to interface " + nic.name() + ": " + e.getMessage() + " (needs root or CAP_NET_RAW)");
            }
        } else if (interfaces.size() > 1) {
            ch.close();
            throw new IOException("serving DHCP on several interfaces needs the epoll transport (Linux); set networkInterface");
        }
        try {
            ch.bind(new InetSocketAddress("0.0.0.0", listenPort)).sync();
        } catch (Exception e) {
            ch.close();
            throw new IOException("DHCP cannot listen on udp " + listenPort + " on " + nic.name() + ": " + e.getMessage()
                    + (listenPort < 1024 ? " (needs root or CAP_NET_BIND_SERVICE; is another DHCP server running here?)" : ""), e);
        }
        return ch;
    }

    @Override
    public void close() {
        for (Channel c : channels) c.close().syncUninterruptibly();
        channels.clear();
    }

    private final class Handler extends SimpleChannelInboundHandler<DatagramPacket> {
        private final ServedInterface nic;
        private final boolean bootServer;

        Handler(ServedInterface nic, boolean bootServer) {
            this.nic = nic;
            this.bootServer = bootServer;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket datagram) {
            InetSocketAddress from = datagram.sender();
            DhcpMessage request;
            try {
                request = DhcpCodec.decode(datagram.content().nioBuffer());
            } catch (MalformedPacketException e) {
                metrics.malformed(e.reason());
                malformedLog.warn("dropped a malformed DHCP datagram from " + from + " on " + nic.name() + ": " + e.getMessage());
                return;
            }
            if (request.op() != DhcpMessage.BOOTREQUEST) return; // our own broadcasts, other servers' replies
            metrics.received(request.type());
            Outcome outcome;
            try {
                Inbound in = new Inbound(request, Ipv4.of(from.getAddress()), from.getPort(), nic.address(), bootServer);
                synchronized (engineLock) {
                    DhcpResult result = engine.handle(in, clock.instant());
                    carryOut(result.effects());
                    outcome = result.outcome();
                }
            } catch (RuntimeException e) {
                // A bug must cost one answer, not the service.
                metrics.unanswered("internal-error");
                log.error("DHCP request from {} failed: {}", request.clientMac(), e.toString(), e);
                return;
            }
            switch (outcome) {
                case Outcome.Drop drop -> metrics.unanswered(drop.reason());
                case Outcome.Reply reply -> send(ctx.channel(), reply.outbound());
            }
        }

        private void send(Channel ch, Outbound out) {
            DhcpMessage m = out.message();
            Ipv4 to = out.destination();
            if (out.delivery() == Outbound.Delivery.UNICAST_TO_HARDWARE && !arpFor(ch, m, to)) to = Ipv4.BROADCAST;
            byte[] bytes = DhcpCodec.encode(m);
            metrics.sent(m.type());
            int port = out.port() == 68 ? clientPort : out.port();
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), new InetSocketAddress(to.toInetAddress(), port)))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            metrics.sendFailed();
                            sendFailureLog.warn("sending DHCP " + m.type() + " to " + out.destination() + " on " + nic.name() + " failed: " + f.cause());
                        }
                    });
        }

        private boolean arpFor(Channel ch, DhcpMessage m, Ipv4 ip) {
            if (!arpDelivery || !(ch instanceof EpollDatagramChannel epoll) || m.htype() != DhcpMessage.HTYPE_ETHERNET || m.hlen() != 6) return false;
            try {
                LinuxSockets.setArp(epoll.fd().intValue(), nic.name(), ip, m.chaddr().toArray());
                return true;
            } catch (LinuxSockets.NativeException e) {
                arpLog.warn("cannot write an ARP entry for " + ip + " on " + nic.name() + " (" + e.getMessage() + "): broadcasting replies instead");
                return false;
            }
        }
    }
}
