package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import dev.netboot.metrics.RateLimitedLog;
import dev.netboot.packet.PacketSocket;
import dev.netboot.storage.BlockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Serves AoE on one network interface: each of its threads receives a batch of frames
 * (from a PACKET_MMAP ring, or with recvmmsg), hands each to the responder, carries out the effects (pread/pwrite straight between
 * the page cache and the frame buffers) and sends all replies of the batch with one sendmmsg.
 * With several threads each has its own socket in a PACKET_FANOUT group, so the kernel deals the
 * frames out and a slow read or write in one thread does not hold up the others.
 */
final class AoeInterface implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AoeInterface.class);
    private final RateLimitedLog sendErrors = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));

    static final int BATCH = 64;
    /**
     * How long a thread polls for more frames after a batch before it sleeps ({@code tuning.aoeSpinNanos}).
     * Off by default: with the receive ring, spinning measured more CPU per frame on every row and lower
     * window-16 throughput on most (docs/aoe.md); it only helps a single initiator at window 1 on a machine
     * with an idle core to burn.
     */
    private final long spinNanos;

    private final List<PacketSocket> sockets = new java.util.ArrayList<>();
    private final PacketSocket socket;
    private final AoeResponder responder;
    /** Replaced when the interface's MAC changes (a bridge takes its lowest port's MAC when ports come and go). */
    private volatile Port port;
    private final int bufferCount;
    private final Object linkLock = new Object();
    // Read after every receive batch without the lock; the lock is taken only when one is due or set.
    private volatile long nextLinkCheck;
    private volatile boolean linkDownLogged;
    private final EffectRunner runner;
    private final AoeMetrics metrics;
    private final List<Thread> threads = new java.util.ArrayList<>();
    private volatile boolean running = true;

    AoeInterface(String name, int threadCount, boolean packetRing, AoeResponder responder, StorageDirectory storage, Executor flushExecutor,
                 int bufferCount, AoeMetrics metrics, long spinNanos) throws IOException {
        this.spinNanos = spinNanos;
        try {
            for (int i = 0; i < threadCount; i++) sockets.add(PacketSocket.open(name, AoeCodec.ETHERTYPE, 8 << 20, 200, packetRing));
            if (threadCount > 1) {
                int group = (int) (ProcessHandle.current().pid() * 31 + sockets.getFirst().ifindex()) & 0xFFFF;
                for (PacketSocket s : sockets) s.joinFanoutRoundRobin(group);
            }
        } catch (IOException | RuntimeException e) {
            sockets.forEach(PacketSocket::close);
            throw e;
        }
        this.socket = sockets.getFirst();
        this.responder = responder;
        this.metrics = metrics;
        this.bufferCount = bufferCount;
        this.port = Port.forMtu(name, MacAddress.of(socket.mac()), socket.mtu(), bufferCount);
        FrameSink async = new FrameSink() {
            @Override public ByteBuffer claim(int capacity) { return ByteBuffer.allocate(capacity); }
            @Override public void commit(ByteBuffer frame) {
                try {
                    socket.sendOne(frame.flip());
                    metrics.sent(1);
                } catch (IOException e) {
                    sendErrors.warn("AoE reply on " + name + " could not be sent: " + e.getMessage());
                }
            }
        };
        this.runner = new EffectRunner(responder, storage, flushExecutor, async, name);
        for (int i = 0; i < threadCount; i++) {
            PacketSocket own = sockets.get(i);
            threads.add(Thread.ofPlatform().name("aoe-" + name + "-" + i).daemon().unstarted(() -> loop(own)));
        }
    }

    AoeInterface start() {
        threads.forEach(Thread::start);
        return this;
    }

    Port port() { return port; }

    /** Broadcasts an unsolicited config response for every target; false if the interface refused to send. */
    boolean announce() {
        boolean ok = true;
        for (AoeTarget t : responder.targets()) {
            ByteBuffer frame = AoeCodec.encode(AoeResponder.announcement(t, port));
            try {
                sendAnnouncement(frame);
            } catch (IOException e) {
                ok = false;
                sendErrors.warn("AoE announcement of e" + t.address() + " on " + name() + " could not be sent: " + e.getMessage());
            }
        }
        return ok;
    }
    /**
     * A packet socket bound while its interface was down (a standby's service interface) holds a pending
     * ENETDOWN that the first send after the interface came up returns, although nothing is wrong any more:
     * that first send is the takeover's announcement, the one the switches learn the new port from. So a
     * failed send is tried once more (the error is consumed by the first).
     */
    private void sendAnnouncement(ByteBuffer frame) throws IOException {
        try {
            socket.sendOne(frame.duplicate());
        } catch (IOException first) {
            socket.sendOne(frame.duplicate());
        }
    }

    String name() { return socket.interfaceName(); }
    int mtu() { return socket.mtu(); }

    private void loop(PacketSocket socket) {
        int frameSize = AoeCodec.ETHERNET_HEADER + Math.max(socket.mtu(), 1500);
        try (PacketSocket.Batch rx = new PacketSocket.Batch(BATCH, frameSize);
             PacketSocket.Batch tx = new PacketSocket.Batch(BATCH, frameSize)) {
            TxSink sink = new TxSink(socket, tx);
            long lastWork = 0;
            while (running) {
                // With spinning on: right after a batch the initiator's next frames are usually
                // microseconds away, and polling saves the sleep/wake-up of the round trip.
                boolean poll = spinNanos > 0 && System.nanoTime() - lastWork < spinNanos;
                int n;
                try {
                    n = socket.receive(rx, poll);
                } catch (IOException e) {
                    // A cable pulled or the interface set down: every client hangs until it is back, so
                    // keep trying rather than end the thread (which would need a server restart).
                    interfaceTrouble(e);
                    continue;
                }
                checkLink();
                if (n == 0) {
                    if (poll) Thread.onSpinWait();
                    continue;
                }
                lastWork = System.nanoTime();
                metrics.received(n);
                for (int i = 0; i < n; i++) {
                    if (rx.outgoing(i)) continue;
                    ByteBuffer frame = rx.received(i);
                    List<Effect> effects = responder.handle(frame, port);
                    if (!effects.isEmpty()) runner.run(effects, sink, true);
                }
                runner.handOver();
                sink.flush();
            }
        } catch (RuntimeException e) {
            if (running) log.error("AoE on {} stopped: {}", socket.interfaceName(), e.toString(), e);
        }
    }

    private void interfaceTrouble(IOException e) {
        if (!running) return;
        synchronized (linkLock) {
            if (!linkDownLogged) {
                log.warn("AoE on {}: {}; clients of this interface wait until it is back (retrying every second)", name(), e.getMessage());
                linkDownLogged = true;
            }
        }
        try {
            Thread.sleep(1000);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * At most once a second: says when the interface works again, and follows a change of its MAC
     * address, so replies carry the address initiators can reach us at.
     */
    private void checkLink() {
        long now = System.nanoTime();
        if (!linkDownLogged && now - nextLinkCheck < 0) return; // the hot path: nothing to do
        synchronized (linkLock) {
            if (linkDownLogged) {
                log.info("AoE on {}: receiving again", name());
                linkDownLogged = false;
            }
            if (now - nextLinkCheck < 0) return;
            nextLinkCheck = now + 1_000_000_000L;
            try {
                String text = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/class/net", name(), "address")).strip();
                MacAddress current = MacAddress.parse(text);
                if (!current.equals(port.mac())) {
                    log.info("AoE on {}: the interface's MAC changed from {} to {}; answering as {} (a bridge's MAC follows its ports unless set)",
                            name(), port.mac(), current, current);
                    port = new Port(port.interfaceName(), current, port.maxSectors(), bufferCount);
                }
            } catch (IOException | IllegalArgumentException e) {
                // the interface is gone or reads oddly for a moment: keep the address we have
            }
        }
    }

    /** Counts the frame and logs at most one line per interval: who sends garbage, and why it is garbage. */

    /** Encodes replies straight into the transmit batch; sends when full and at the end of each receive batch. */
    private final class TxSink implements FrameSink {
        private final PacketSocket socket;
        private final PacketSocket.Batch tx;
        /** Per frame: the store data it ends in (released after the send), or null. */
        private final BlockStore.Pinned[] pinned;
        private int count;

        TxSink(PacketSocket socket, PacketSocket.Batch tx) {
            this.socket = socket;
            this.tx = tx;
            this.pinned = new BlockStore.Pinned[tx.capacity()];
        }

        @Override
        public boolean takesPinnedData() { return true; }

        @Override
        public void commitWithData(ByteBuffer header, BlockStore.Pinned data) {
            tx.lengthWithData(count, header.position(), data.data());
            pinned[count] = data;
            count++;
        }

        @Override
        public ByteBuffer claim(int capacity) {
            if (capacity > tx.frameSize()) throw new IllegalStateException("reply of " + capacity + " bytes exceeds the frame size " + tx.frameSize());
            if (count == tx.capacity()) flush();
            return tx.slot(count);
        }

        @Override
        public void commit(ByteBuffer frame) {
            tx.length(count, frame.position());
            count++;
        }

        void flush() {
            if (count == 0) return;
            int from = 0;
            while (from < count) {
                try {
                    socket.send(tx, from, count);
                    from = count;
                } catch (IOException e) {
                    if (e instanceof PacketSocket.SendException refused && refused.badAddress() && pinned[refused.frame()] != null) {
                        // The kernel could not read the mapped data (an I/O error, a truncated file):
                        // read it the ordinary way, which turns a failure into an ATA error reply.
                        readInstead(refused.frame());
                        from = refused.frame();
                    } else {
                        sendErrors.warn("AoE replies on " + socket.interfaceName() + " could not be sent: " + e.getMessage());
                        from = count;
                    }
                }
            }
            metrics.sent(count);
            for (int i = 0; i < count; i++) {
                if (pinned[i] != null) {
                    pinned[i].release();
                    pinned[i] = null;
                }
            }
            count = 0;
        }

        private void readInstead(int k) {
            BlockStore.Pinned p = pinned[k];
            pinned[k] = null;
            ByteBuffer slot = tx.slot(k);
            int length = (int) p.data().byteSize();
            try {
                p.store().read(p.offset(), slot.slice(AoeCodec.ATA_FRAME_OVERHEAD, length));
                tx.length(k, AoeCodec.ATA_FRAME_OVERHEAD + length);
            } catch (IOException | RuntimeException e) {
                sendErrors.warn("AoE read of " + length + " bytes at byte " + p.offset() + " of " + p.store() + " failed: " + e.getMessage());
                responder.countIoFailure();
                tx.length(k, AoeCodec.markReadFailed(slot));
            } finally {
                p.release();
            }
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            for (Thread t : threads) t.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sockets.forEach(PacketSocket::close);
    }
}
