package dev.netboot.tftp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
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
    /** Linux caps one GSO send at 64 segments (UDP_MAX_SEGMENTS on older kernels) and one IP datagram. */
    private static final int MAX_GSO_SEGMENTS = 64;
    private static final int MAX_GSO_BYTES = 65_000;

    private final ReadTransfer transfer;
    private final String name;
    private final InetSocketAddress client;
    private final TftpMetrics metrics;
    private final Runnable release;
    private final boolean gso;
    private final long startedAt = System.nanoTime();
    private Channel channel;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private long retransmissionsReported;
    private long bytesReported;
    private boolean released;

    TransferHandler(ReadTransfer transfer, String name, InetSocketAddress client, TftpMetrics metrics, boolean gso, Runnable release) {
        this.gso = gso;
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
        try {
            write(packets);
        } catch (InternalError e) {
            // DATA payloads are views of a mapped file: one truncated in the microseconds since the transfer
            // read it faults here (the transfer itself catches the case in all other moments). The client
            // times out; the socket and the slot are freed now.
            log.warn("transfer of {} to {} stopped: the file changed while being served ({})", name, client, e.getMessage());
            metrics.failed.increment();
            channel.close();
            return;
        }
        reportBytes();
        long resent = transfer.retransmissions() - retransmissionsReported;
        if (resent > 0) {
            metrics.retransmissions.increment(resent);
            retransmissionsReported += resent;
        }
        if (transfer.isFinished()) finish();
        else rearm();
    }

    private void write(List<TftpPacket> packets) {
        for (int i = 0; i < packets.size(); ) {
            int run = gso ? segmentableRun(packets, i) : 1;
            if (run > 1) {
                writeSegmented(packets.subList(i, i + run));
            } else {
                if (packets.get(i) instanceof TftpPacket.Error e) metrics.errorSent(e.code());
                write(packets.get(i), client);
            }
            i += run;
        }
        if (!packets.isEmpty()) channel.flush();
    }

    private void write(TftpPacket packet, InetSocketAddress to) {
        // The void promise: no promise object per packet; a failed send reaches exceptionCaught.
        channel.write(new DatagramPacket(encode(channel.alloc(), packet), to), channel.voidPromise());
    }

    /**
     * How many packets from {@code from} on can leave as one UDP GSO send: DATA packets of one size, the
     * last of them possibly shorter (the kernel's rule), within its limits on segments and total size.
     */
    private static int segmentableRun(List<TftpPacket> packets, int from) {
        if (!(packets.get(from) instanceof TftpPacket.Data first)) return 1;
        int segment = first.length() + 4;
        int max = Math.min(MAX_GSO_SEGMENTS, MAX_GSO_BYTES / segment);
        int run = 1;
        while (from + run < packets.size() && run < max
                && packets.get(from + run) instanceof TftpPacket.Data next && next.length() + 4 <= segment) {
            run++;
            if (next.length() + 4 < segment) break;   // a shorter segment can only be the last
        }
        return run;
    }

    /** A window as one datagram that the kernel cuts into packets: one trip through the stack instead of N. */
    private void writeSegmented(List<TftpPacket> run) {
        int total = 0;
        for (TftpPacket p : run) total += TftpCodec.encodedLength(p);
        ByteBuf buf = channel.alloc().directBuffer(total);
        try {
            for (TftpPacket p : run) {
                int length = TftpCodec.encodedLength(p);
                TftpCodec.encodeInto(p, buf.nioBuffer(buf.writerIndex(), length));
                buf.writerIndex(buf.writerIndex() + length);
            }
        } catch (RuntimeException | InternalError e) {
            buf.release();
            throw e;
        }
        channel.write(new SegmentedDatagramPacket(buf, TftpCodec.encodedLength(run.getFirst()), client), channel.voidPromise());
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
        } else if (transfer.state() == ReadTransfer.State.SIZE_QUERIED) {
            metrics.sizeQueries.increment();
            log.debug("told {} the size of {} ({} bytes); it ended that transfer, as PXE firmware does before the real read",
                    client, name, transfer.fileSize());
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
        try {
            TftpCodec.encodeInto(packet, buf.nioBuffer(0, length));
        } catch (RuntimeException | InternalError e) {
            buf.release();
            throw e;
        }
        return buf.writerIndex(length);
    }
}
