package dev.netboot.tftp;

import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.files.ServedFile;
import dev.netboot.metrics.RateLimitedLog;
import dev.netboot.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The Netty adapter of the TFTP service: one socket for requests, and for each transfer a socket
 * of its own on a fresh port (the server TID of RFC 1350) driving a {@link ReadTransfer}.
 * A file the provider can give at once ({@link FileProvider#openAtOnce}: a plain file) is opened on the event
 * loop that read the request, and its transfer starts there, so its first block leaves in the same wake-up;
 * other lookups run on virtual threads, because a provider may build content (an initrd) first.
 * Everything per packet runs on the event loops.
 */
public final class TftpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TftpServer.class);

    private final TftpSettings settings;
    private final FileProvider files;
    private final TftpMetrics metrics;
    private final Transport transport;
    private final EventLoopGroup group;
    private final ExecutorService lookups = Executors.newVirtualThreadPerTaskExecutor();
    private final OptionNegotiator negotiator;
    private final PathMtu pathMtu = new PathMtu();
    private final RateLimitedLog malformedLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    /**
     * Files a client asked for that do not exist. Loaders probe for optional ones on every boot (shim 16:
     * revocations_sku.efi, revocations_sbat.efi, shim_certificate_0.efi; PXELINUX its config search; GRUB
     * its *.lst) and go on without them: each is logged at DEBUG, the first of a minute at INFO with the
     * count since, and all are counted ({@code netboot_tftp_transfers_total{result="not-found"}}).
     */
    private final RateLimitedLog notFoundLog = new RateLimitedLog(log, TimeUnit.MINUTES.toNanos(1));
    private final TransferSlots slots;
    /**
     * Transfers running on the loop that reads requests. Up to {@link #LOCAL_TRANSFERS} a transfer whose file was
     * found at once starts there (no hand-over to another thread, whose wake-up costs 1-6 ms when the PCs keep the
     * CPUs busy); beyond, transfers spread over all loops. Lockstep loaders fetch one file at a time, so a few PCs
     * booting all start locally, and a roomful shares the loops.
     */
    private final AtomicInteger onRequestLoop = new AtomicInteger();
    private static final int LOCAL_TRANSFERS = 4;
    /** Clients with a transfer starting or running: a client that resends its RRQ must not get two transfers. */
    private final java.util.Set<InetSocketAddress> busyClients = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private Channel requests;
    /** UDP GSO (Linux, epoll): a window of DATA leaves as one send through the stack. */
    private final boolean gso;

    public TftpServer(TftpSettings settings, FileProvider files, MeterRegistry registry, Transport transport, EventLoopGroup group) {
        this.settings = settings;
        this.files = files;
        this.metrics = new TftpMetrics(registry);
        this.transport = transport;
        this.group = group;
        this.negotiator = new OptionNegotiator(settings.maxWindowSize());
        this.slots = new TransferSlots(settings.maxTransfers(), settings.maxTransfersPerClient());
        this.gso = transport.supportsSegmentedDatagrams() && settings.gso();
    }

    public TftpServer start() throws InterruptedException {
        requests = new Bootstrap().group(group).channel(transport.datagramChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new RequestHandler())
                .bind(settings.listen()).sync().channel();
        return this;
    }

    public InetSocketAddress localAddress() { return (InetSocketAddress) requests.localAddress(); }

    @Override
    public void close() {
        if (requests != null) requests.close().syncUninterruptibly();
        lookups.shutdownNow();
    }

    /** Port 69: decodes requests and answers what needs no transfer; RRQs go on to {@link #serve}. */
    private final class RequestHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket datagram) {
            InetSocketAddress client = datagram.sender();
            TftpPacket packet;
            try {
                packet = TftpCodec.decode(datagram.content().nioBuffer());
            } catch (MalformedPacketException e) {
                metrics.malformed.increment();
                malformedLog.warn("dropped a malformed TFTP request from " + client + ": " + e.getMessage());
                sendError(ctx.channel(), client, TftpError.ILLEGAL_OPERATION, "malformed request: " + e.getMessage());
                return;
            }
            switch (packet) {
                case TftpPacket.ReadRequest rrq -> {
                    // A resent RRQ (the client's timer fired before our OACK/DATA arrived) is answered by
                    // the running transfer's own retransmissions; a second transfer would confuse the client.
                    if (busyClients.add(client)) accept(rrq, client, ctx.channel().eventLoop());
                }
                case TftpPacket.WriteRequest wrq -> {
                    metrics.refused.increment();
                    log.warn("refused write of '{}' from {}: this server is read-only", wrq.filename(), client);
                    sendError(ctx.channel(), client, TftpError.ACCESS_VIOLATION, "read-only server: writes are not accepted");
                }
                case TftpPacket.Error ignored -> { /* never answer an error, or two peers can loop */ }
                default -> sendError(ctx.channel(), client, TftpError.ILLEGAL_OPERATION, "expected a read request on this port");
            }
        }
    }

    /** On the requests' loop: refuses what it can at once, holds a slot, and serves the file here or on a virtual thread. */
    private void accept(TftpPacket.ReadRequest rrq, InetSocketAddress client, EventLoop here) {
        if (!rrq.mode().equals("octet") && !rrq.mode().equals("netascii")) {
            refuse(client, rrq, TftpError.ILLEGAL_OPERATION, "transfer mode '" + rrq.mode() + "' is not supported (use octet)");
            return;
        }
        Optional<String> busy = slots.acquire(client.getAddress());
        if (busy.isPresent()) {
            refuse(client, rrq, TftpError.NOT_DEFINED, busy.get());
            return;
        }
        FileRequest request = new FileRequest(rrq.filename(), client, "tftp");
        Optional<Lookup> atOnce;
        try {
            atOnce = rrq.mode().equals("octet") ? files.openAtOnce(request) : Optional.empty();
        } catch (RuntimeException e) {
            atOnce = Optional.empty();   // open() on a virtual thread says what went wrong
        }
        if (atOnce.isPresent()) {
            Lookup found = atOnce.get();
            EventLoop loop = onRequestLoop.get() < LOCAL_TRANSFERS ? here : null;
            serveSafely(rrq, client, () -> found, loop);
        } else {
            lookups.execute(() -> serveSafely(rrq, client, () -> files.open(request), null));
        }
    }

    /** With a slot held: serves {@code lookup}'s file on {@code loop} (null: any loop), and frees the slot unless a transfer started. */
    private void serveSafely(TftpPacket.ReadRequest rrq, InetSocketAddress client, Supplier<Lookup> lookup, EventLoop loop) {
        boolean started = false;
        try {
            started = open(rrq, client, lookup.get(), loop);
        } catch (RuntimeException e) {
            log.error("serving '{}' to {} failed", rrq.filename(), client, e);
            refuse(client, rrq, TftpError.NOT_DEFINED, "internal server error");
        } finally {
            if (!started) slots.release(client.getAddress());
        }
    }

    /** True when a transfer started (it releases the slot when it ends), false when refused. */
    private boolean open(TftpPacket.ReadRequest rrq, InetSocketAddress client, Lookup lookup, EventLoop loop) {
        ServedFile file;
        String name;
        switch (lookup) {
            case Lookup.Found found -> { file = found.file(); name = found.name(); }
            // The reasons name paths on this host: they go to the log, the client learns only the outcome.
            case Lookup.NotFound notFound -> { refuse(client, rrq, TftpError.FILE_NOT_FOUND, notFound.reason(), "file not found"); return false; }
            case Lookup.Refused refused -> { refuse(client, rrq, TftpError.ACCESS_VIOLATION, refused.reason(), "access denied"); return false; }
        }
        try {
            if (rrq.mode().equals("netascii")) file = Netascii.convert(file);
        } catch (IOException e) {
            file.close();
            refuse(client, rrq, TftpError.NOT_DEFINED, e.getMessage(), "server could not read the file");
            return false;
        }
        int maxBlock = Math.min(settings.maxBlockSize(), pathMtu.maxBlockSize(client.getAddress()));
        switch (negotiator.negotiate(rrq.options(), file.size(), maxBlock)) {
            case OptionNegotiator.Refused r -> {
                file.close();
                refuse(client, rrq, TftpError.OPTION_REFUSED, r.reason());
                return false;
            }
            case OptionNegotiator.Accepted a -> {
                startTransfer(new ReadTransfer(file, a.options(), settings.retransmit()), file, name, client, loop);
                return true;
            }
        }
    }

    /** @param loop the event loop to run it on (the caller's: registered there at once), or null for the next of the group */
    private void startTransfer(ReadTransfer transfer, ServedFile file, String name, InetSocketAddress client, EventLoop loop) {
        metrics.active.incrementAndGet();
        if (loop != null) onRequestLoop.incrementAndGet();
        TransferHandler handler = new TransferHandler(transfer, name, client, metrics, gso, () -> {
            file.close();
            metrics.active.decrementAndGet();
            if (loop != null) onRequestLoop.decrementAndGet();
            slots.release(client.getAddress());
            busyClients.remove(client);
        });
        // A wildcard listener gets a wildcard transfer socket: the kernel then answers from the
        // address on the client's subnet, which is the address the client sent its request to.
        InetSocketAddress local = new InetSocketAddress(settings.listen().getAddress(), 0);
        new Bootstrap().group(loop != null ? loop : group).channel(transport.datagramChannel())
                .option(ChannelOption.SO_SNDBUF, 1 << 20)
                // One datagram per wake-up: a lock-step client sends one ACK per block, and Netty's default of
                // reading until the socket is empty costs a second recvmsg() that finds nothing on every
                // block. The loop is level-triggered, so an ACK still queued is read on its next turn.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(2048).maxMessagesPerRead(1))
                .handler(handler)
                .bind(local).addListener(f -> {
                    if (!f.isSuccess()) {
                        log.error("could not open a transfer socket for {}: {}", client, f.cause().toString());
                        handler.abandon();
                    }
                });
    }

    private void refuse(InetSocketAddress client, TftpPacket.ReadRequest rrq, TftpError code, String reason) {
        refuse(client, rrq, code, reason, reason);
    }

    /** @param toClient what the client is told, when the logged reason is not for it */
    private void refuse(InetSocketAddress client, TftpPacket.ReadRequest rrq, TftpError code, String reason, String toClient) {
        busyClients.remove(client);
        if (code == TftpError.FILE_NOT_FOUND) {
            metrics.notFound.increment();
            log.debug("no '{}' for {}: {}", rrq.filename(), client, reason);
            notFoundLog.info("no '" + rrq.filename() + "' for " + client + ": " + reason
                    + " (loaders ask for optional files and go on without them; each such request is logged at DEBUG)");
        } else {
            metrics.refused.increment();
            log.warn("refused '{}' to {}: {}", rrq.filename(), client, reason);
        }
        sendError(requests, client, code, toClient);
    }

    private void sendError(Channel channel, InetSocketAddress to, TftpError code, String message) {
        metrics.errorSent(code);
        ByteBuf buf = TransferHandler.encode(channel.alloc(), new TftpPacket.Error(code, message));
        channel.writeAndFlush(new DatagramPacket(buf, to));
    }
}
