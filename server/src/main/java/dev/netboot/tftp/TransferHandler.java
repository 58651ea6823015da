package dev.netboot.tftp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Binds one {@link ReadTransfer} to its own socket: feeds it the client's packets and the timer,
 * writes what it returns. All of it runs on the channel's event loop, so the state machine needs no locks.
 */
final class TransferHandler extends SimpleChannelInboundHandler<DatagramPacket> {

    private static final Logger log = LoggerFactory.getLogger(TftpServer.class);

    private final ReadTransfer transfer;
    private final String name;
    private final InetSocketAddress client;
    private final TftpMetrics metrics;
    private final Runnable release;
    private final long startedAt = System.nanoTime();
    private Channel channel;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private long retransmissionsReported;
    private long bytesReported;
    private boolean released;

    TransferHandler(ReadTransfer transfer, String name, InetSocketAddress client, TftpMetrics metrics, Runnable release) {
        this.transfer = transfer;
        this.name = name;
        this.client = client;
        this.metrics = metrics;
        this.release = release;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        send(transfer.start(System.nanoTime()));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket datagram) {
        if (!datagram.sender().equals(client)) {
            // RFC 1350: a packet from a foreign TID gets error 5 and leaves the transfer untouched.
            metrics.errorSent(TftpError.UNKNOWN_TID);
            write(new TftpPacket.Error(TftpError.UNKNOWN_TID, "unknown transfer ID"), datagram.sender());
            channel.flush();
            return;
        }
        TftpPacket packet;
        try {
            packet = TftpCodec.decode(datagram.content().nioBuffer());
        } catch (MalformedPacketException e) {
            metrics.malformed.increment();
            return;
        }
        send(transfer.onPacket(packet, System.nanoTime()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // E.g. ICMP port unreachable surfacing as a send error: the client has gone away.
        log.debug("transfer of {} to {}: {}", name, client, cause.toString());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        abandon();
    }

    private void onTimer() {
        timer = null;
        send(transfer.onTimeout(System.nanoTime()));
    }

    private void send(List<TftpPacket> packets) {
        for (TftpPacket packet : packets) {
            if (packet instanceof TftpPacket.Error e) metrics.errorSent(e.code());
            write(packet, client);
        }
        if (!packets.isEmpty()) channel.flush();
        reportBytes();
        long resent = transfer.retransmissions() - retransmissionsReported;
        if (resent > 0) {
            metrics.retransmissions.increment(resent);
            retransmissionsReported += resent;
        }
        if (transfer.isFinished()) finish();
        else rearm();
    }

    private void write(TftpPacket packet, InetSocketAddress to) {
        channel.write(new DatagramPacket(encode(channel.alloc(), packet), to));
    }

    /** Adds the bytes sent since the last report to the counter: once per window, not once per packet. */
    private void reportBytes() {
        long sent = transfer.bytesSent() - bytesReported;
        if (sent > 0) {
            metrics.bytesSent.increment(sent);
            bytesReported += sent;
        }
    }

    /** Keeps at most one timer: deadlines mostly move later, so most packets schedule nothing. */
    private void rearm() {
        long deadline = transfer.deadlineNanos();
        if (deadline == Long.MAX_VALUE) return;
        if (timer != null && timerAt <= deadline) return;
        cancelTimer();
        timerAt = deadline;
        timer = channel.eventLoop().schedule(this::onTimer, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) timer.cancel(false);
        timer = null;
    }

    private void finish() {
        cancelTimer();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
        TransferOptions o = transfer.options();
        if (transfer.state() == ReadTransfer.State.COMPLETE) {
            metrics.completed.increment();
            log.info("served {} to {}: {} bytes in {} ms (blksize {}, window {}, {} resent)",
                    name, client, transfer.fileSize(), millis, o.blockSize(), o.windowSize(), transfer.retransmissions());
        } else {
            metrics.failed.increment();
            log.warn("transfer of {} to {} failed after {} ms: {}", name, client, millis, transfer.failure());
        }
        channel.close();
    }

    /** Frees what the transfer holds; safe to call more than once (finish, close, failed bind). */
    void abandon() {
        if (released) return;
        released = true;
        release.run();
    }

    static ByteBuf encode(ByteBufAllocator alloc, TftpPacket packet) {
        int length = TftpCodec.encodedLength(packet);
        ByteBuf buf = alloc.directBuffer(length);
        TftpCodec.encodeInto(packet, buf.nioBuffer(0, length));
        return buf.writerIndex(length);
    }
}
