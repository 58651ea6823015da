package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Before answering in full mode: acts as a client once (a broadcast DISCOVER from port 68 with the
 * broadcast flag, so any server answers by broadcast) and collects who offers. Another server on
 * the segment means two servers handing out addresses, which an operator must hear about.
 */
public final class ForeignServerProbe {

    private ForeignServerProbe() {}

    /** Server identifiers (or source addresses) of every server that offered within {@code wait}. */
    public static Set<Ipv4> probe(ServedInterface nic, Transport transport, EventLoopGroup group, Duration wait) throws Exception {
        int xid = ThreadLocalRandom.current().nextInt();
        Set<Ipv4> servers = ConcurrentHashMap.newKeySet();
        Channel ch = new Bootstrap().group(group).channelFactory(transport::newIpv4DatagramChannel)
                .option(ChannelOption.SO_BROADCAST, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        try {
                            DhcpMessage m = DhcpCodec.decode(p.content().nioBuffer());
                            if (m.op() == DhcpMessage.BOOTREPLY && m.xid() == xid && m.type() == MessageType.OFFER) {
                                servers.add(m.options().address(OptionCode.SERVER_ID).orElse(Ipv4.of(p.sender().getAddress())));
                            }
                        } catch (MalformedPacketException ignored) {
                            // not an answer to us
                        }
                    }
                }).register().sync().channel();
        try {
            if (ch instanceof EpollDatagramChannel epoll) LinuxSockets.bindToDevice(epoll.fd().intValue(), nic.name());
            ch.bind(new InetSocketAddress("0.0.0.0", 68)).sync();
            Bytes mac = nic.mac().length() == 6 ? nic.mac() : Bytes.hex("020000000001");
            DhcpMessage discover = DhcpMessage.request(xid, mac, DhcpOptions.build(b -> b.messageType(MessageType.DISCOVER)
                            .bytes(OptionCode.PARAMETER_REQUEST_LIST, (byte) 1, (byte) 3, (byte) 54)))
                    .withFlags(DhcpMessage.FLAG_BROADCAST);
            byte[] bytes = DhcpCodec.encode(discover);
            for (int i = 0; i < 2; i++) {
                ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), new InetSocketAddress("255.255.255.255", 67))).sync();
                Thread.sleep(wait.toMillis() / 2);
            }
        } finally {
            ch.close().sync();
        }
        return Set.copyOf(servers);
    }

}
