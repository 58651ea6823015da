package dev.netboot.replication;

import dev.netboot.metrics.RateLimitedLog;
import dev.netboot.replication.PeerLink.LinkEffect;
import dev.netboot.replication.ReplicaEffect.*;
import dev.netboot.replication.ReplicationMessage.*;
import dev.netboot.transport.Transport;
import dev.netboot.storage.BlockStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The thin adapter around the sans-I/O core: one Netty event loop (one thread) owns the
 * {@link PeerLink} of the current connection and every {@link DiskReplica}, so the core is driven
 * from a single thread as it requires; each disk's storage I/O runs on that disk's own serial I/O
 * thread (local writes, the peer's writes, resync reads and writes, flushes, digests), whose
 * completions come back to the loop. The AoE receive threads only hand a write over
 * ({@link #write}) and get their answer through a callback: nothing here blocks them.
 *
 * <p>The standby dials the primary (with back-off); both listen. One connection at a time: a second
 * one is closed at once. A frame the codec refuses closes the connection and is counted by reason
 * ({@code netboot_replication_refused_frames_total{reason}}).
 */
public final class ReplicationNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReplicationNode.class);

    /** What the app derives from the configuration. */
    public record Settings(long nodeId, Role role, byte[] secret, InetSocketAddress listen, String peerHost, int peerPort,
                           Duration pingInterval, Duration timeout, long resyncBytesPerSecond, boolean durableWrites, Path stateDir) {}

    /**
     * A disk this node replicates: the catalog's name (both nodes must agree on it), its size, and the identity
     * of the file behind it on this node ("" when there is none to tell, e.g. an LVM volume): a new file under
     * the same name starts a new replica state (see {@link ReplicaFiles}).
     */
    public record DiskSpec(String name, long sizeBytes, String backing) {
        public DiskSpec(String name, long sizeBytes) { this(name, sizeBytes, ""); }
    }

    /** Where the adapter finds each disk's store (the AoE target's on the primary, its own on the standby). */
    public interface DiskStores {
        BlockStore store(String disk) throws IOException;

        /** The disk is no longer replicated here: a store the adapter opened for it alone can be closed. */
        default void released(String disk) { }
    }

    /**
     * On the standby: makes a disk the primary's Hello lists and this node lacks (same name and size),
     * and returns it; empty if it cannot (the reason is logged by the creator).
     */
    public interface DiskCreator {
        Optional<DiskSpec> create(String disk, long sizeBytes);
    }

    /** One line of {@code netboot replication status}. */
    public record DiskStatus(String disk, Role role, ReplicaState state, boolean connected, long outOfSyncBytes,
                             double syncPercent, double syncBytesPerSecond, long syncEtaSeconds, int writesInFlight,
                             String ids, String lastVerify) {}

    /** A run of dirty regions is asked for in pieces of at most this (a full sync: 1 MiB per request). */
    private static final int RESYNC_REQUEST = 1 << 20;
    /**
     * Ranges asked for and not yet answered: scattered 4 KiB regions are one small range each, so the count must
     * be large (the round trip, not the disks, bounded a quick resync at 64 in flight); the bytes bound the memory
     * of big ones (16 MiB: 4096 regions of 4 KiB, some 32 requests of {@link ResyncRequest#MAX_RANGES}).
     * Requests and answers of a loop turn share frames (link batching).
     */
    private static final int RESYNC_WINDOW = 4096;
    private static final long RESYNC_WINDOW_BYTES = 16L << 20;
    private static final int VERIFY_RANGE = 1 << 20;
    /** Items one hand-over to a disk's I/O thread (and back) carries at most: completions return while a flood still comes in. */
    private static final int IO_BATCH = 64;
    /** Writes up to this size (an AoE frame holds at most 8 KiB with jumbo frames) may be done on the event loop. */
    private static final int INLINE_WRITE_MAX = 64 * 1024;

    private final Settings settings;
    private final DiskStores stores;
    /**
     * Native epoll on Linux (NIO elsewhere): its wake-ups and TCP writes cost less per replicated write than
     * NIO's selector. No spinning: on a shared machine the standby's and the AoE threads need the CPU.
     */
    private final Transport transport = Transport.best();
    private final EventLoopGroup group = transport.newGroup(1, 0);
    private final EventLoop loop = group.next();
    /** Writes the periodic bitmap copies ({@link #saveBitmaps}), off the loop. */
    private final ExecutorService bitmapWriter = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("repl-bitmaps").daemon().factory());
    /**
     * Client writes and flushes from the AoE receive threads: a burst of them is one hand-over to the loop
     * (one wake-up), and both go through it, so a FLUSH is never handled before a write submitted before it.
     */
    private final BatchingExecutor submissions = new BatchingExecutor(loop, null, 1024);
    /** A flush of the link's outbox is queued behind this turn's work (batching: one frame per turn). */
    private boolean flushQueued;
    private final Map<String, Disk> disks = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final MeterRegistry registry;
    private DiskCreator creator = (disk, size) -> Optional.empty();
    private final Set<String> peerBases = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Set<String> creating = new HashSet<>();
    private final RateLimitedLog refusedLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(5));
    private final Map<RejectedFrameException.Reason, Counter> refused = new EnumMap<>(RejectedFrameException.Reason.class);
    private final Counter bytesSent, bytesReceived, busyRefused, resyncBytes, tlsRefused, activityLogWrites;
    private ReplicationTls tls;
    private io.netty.handler.ssl.SslContext tlsServer, tlsClient;
    private Channel server;
    private Channel channel;
    private PeerLink link;
    private Role peerRole;
    private volatile boolean established;
    private volatile Instant lastHeard;
    private volatile long lastHeardNanos = Long.MIN_VALUE;
    private volatile String lastDisconnect = "never connected";
    private long backoffMillis = 100;
    private boolean closed;
    /** This node's role in the data path now: the config's, or with automatic failover the one it last took. */
    private volatile Role role;
    /** With automatic failover: starts standby, and writes alone only after the failover's WriteAlone. */
    private final boolean followsFailover;
    private volatile Consumer<Boolean> linkListener = up -> { };
    private long nonceCounter;

    private final class Disk {
        final String name;
        final long size;
        final DiskReplica replica;
        final ReplicaFiles files;
        final ExecutorService ioThread;
        /** The disk's serial I/O, handed over in batches; completions come back to the loop a batch at a time. */
        final BatchingExecutor io;
        BlockStore store;
        final Map<Long, Consumer<Boolean>> clientDone = new HashMap<>();
        /** Small writes of this loop turn, in order, not yet done (see {@link #flushInline}). */
        final List<InlineWrite> inline = new ArrayList<>();
        long nextTag = 1;
        long nextFlush = 1;
        final Map<Long, FlushWait> flushes = new HashMap<>();
        /**
         * The fdatasyncs of FLUSHes of this disk (the client's on the primary; the primary's flushes and barriers on
         * the standby), made when first needed; loop only. On the I/O thread a sync (up to a second of writes to push
         * to the disk) held up every write queued behind it, and with a barrier each second the primary's writes
         * stalled each second; here the I/O thread goes on writing meanwhile (see {@link #sync}). One per disk, as
         * the I/O threads: one disk's slow sync does not hold up another's.
         */
        ExecutorService syncThread;

        ExecutorService syncThread() {
            if (syncThread == null) syncThread = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("repl-sync-" + name).daemon().factory());
            return syncThread;
        }

        /** The disk leaves or the node stops: queued I/O and syncs still run, nothing new is taken. */
        void shutdownThreads() {
            ioThread.shutdown();
            if (syncThread != null) syncThread.shutdown();
        }

        /** The peer-only flush {@link #peerBarrier} has out, if any. */
        FlushWait barrier;
        /** When a tick first found writes the peer has not synced with no barrier out (-1: none such). */
        long unsyncedSince = -1;
        GenerationIds peerIds;
        ResyncPlanner planner;
        PeerLink plannerLink;
        /** Resync requests out, by offset (sorted: a peer write finds the ones it overlaps without a scan). */
        final java.util.NavigableMap<Long, Integer> asked = new java.util.TreeMap<>();
        final Set<Long> tainted = new HashSet<>();
        long lastProgressLog, resyncStart;
        OnlineVerify verify;
        PeerLink verifyLink;
        CompletableFuture<List<OnlineVerify.Mismatch>> verifyDone;
        volatile String lastVerify = "never";
        long degradedNanos, degradedSince = -1;
        volatile ResyncPlanner.Progress progress;
        /** The peer holds this clone's image (same SHA-256): ranges still the image's cross as {@link Holding#BASE}. */
        volatile boolean peerHasBase;
        boolean bitmapChanged;
        /**
         * Group commit of the activity log: a client write that needs a transaction does not persist it at once;
         * its effects, and those of the writes and flushes after it in the same burst, wait here for one
         * transaction (the newest, which names every extent they use) and one fsync ({@link #commitGroups}).
         * Null when nothing waits.
         */
        List<Runnable> grouped;
        ReplicaEffect.PersistActivityLog groupLog;
        final Set<Long> groupEvicted = new HashSet<>();
        PeerLink groupLink;
        boolean groupFailed;
        /** A periodic bitmap save of this disk is queued or running on {@link #bitmapWriter}. */
        final java.util.concurrent.atomic.AtomicBoolean bitmapSaving = new java.util.concurrent.atomic.AtomicBoolean();
        /** The identity of the file this replica state describes ({@link DiskSpec#backing}). */
        volatile String backing = "";

        Disk(String name, long size, DiskReplica replica, ReplicaFiles files) {
            this.name = name;
            this.size = size;
            this.replica = replica;
            this.files = files;
            this.peerHasBase = peerBases.contains(name);
            this.ioThread = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("repl-io-" + name).daemon().factory());
            this.io = new BatchingExecutor(ioThread, loop, IO_BATCH);
        }

        BlockStore store() throws IOException {
            if (store == null) store = stores.store(name);
            if (store == null) throw new IOException("disk " + name + " has no store here");
            return store;
        }

        /**
         * The I/O thread's own direct buffer: the store's pread/pwrite need native memory, and a heap buffer
         * made them allocate (and zero) a direct one per call, 1 MiB per resync range: direct memory then
         * waited for the GC (resyncs crawled at a few MiB/s under load) and every 1 KiB write paid an allocation.
         */
        private ByteBuffer scratch;

        ByteBuffer scratch(int length) {
            if (scratch == null || scratch.capacity() < length) scratch = ByteBuffer.allocateDirect(Math.max(length, RESYNC_REQUEST));
            return scratch.clear().limit(length);
        }

        /** I/O thread only: writes {@code data} through the scratch buffer. */
        void writeDirect(long offset, ByteBuffer data) throws IOException {
            writeVia(scratch(data.remaining()), offset, data);
        }

        /** {@code data} copied into a direct buffer of the calling thread's, then written. */
        private void writeVia(ByteBuffer direct, long offset, ByteBuffer data) throws IOException {
            direct.put(data.duplicate()).flip();
            store().write(offset, direct);
        }

        /** The loop's own direct buffer for {@link #writeInline} (the I/O thread's is in use at the same time). */
        private ByteBuffer loopScratch;

        /**
         * Event loop only: adjacent small writes (at most {@link #INLINE_WRITE_MAX} together) as one write, while the
         * I/O thread has nothing queued.
         */
        void writeInline(List<InlineWrite> run) throws IOException {
            if (loopScratch == null) loopScratch = ByteBuffer.allocateDirect(INLINE_WRITE_MAX);
            ByteBuffer direct = loopScratch.clear();
            for (InlineWrite w : run) direct.put(w.data().duplicate());
            store().write(run.getFirst().offset(), direct.flip());
        }

        /** I/O thread only: the range in the scratch buffer (valid until the next call). */
        ByteBuffer readDirect(long offset, int length) throws IOException {
            ByteBuffer s = scratch(length);
            store().read(offset, s);
            return s.flip();
        }

        double degradedSeconds(long now) {
            return (degradedNanos + (degradedSince >= 0 ? now - degradedSince : 0)) / 1e9;
        }
    }

    private static final class FlushWait {
        final Consumer<Boolean> done;
        /** {@link DiskReplica#nextWriteSeq} when the flush was asked for: the peer's answer covers the writes below. */
        final long covers;
        boolean localDone, peerDone, ok = true;
        FlushWait(Consumer<Boolean> done, boolean peerDone, long covers) { this.done = done; this.peerDone = peerDone; this.covers = covers; }
    }

    public ReplicationNode(Settings settings, List<DiskSpec> specs, DiskStores stores, MeterRegistry registry) throws IOException {
        this(settings, specs, stores, registry, false);
    }

    /**
     * @param followsFailover the roles follow {@code Failover} ({@link #promote}, {@link #demote}): the node
     *                        starts standby whatever the config says (the config's role then only names the
     *                        data of a first start and who is preferred), and after losing the link a primary
     *                        acknowledges writes the peer did not see only after {@link #writeAlone}
     */
    public ReplicationNode(Settings settings, List<DiskSpec> specs, DiskStores stores, MeterRegistry registry, boolean followsFailover) throws IOException {
        this.settings = settings;
        this.followsFailover = followsFailover;
        this.role = followsFailover ? Role.STANDBY : settings.role();
        this.stores = stores;
        this.registry = registry;
        for (RejectedFrameException.Reason r : RejectedFrameException.Reason.values())
            refused.put(r, Counter.builder("netboot_replication_refused_frames_total").tag("reason", r.name().toLowerCase())
                    .description("Frames on the replication port refused (the connection is closed after each), by reason").register(registry));
        busyRefused = Counter.builder("netboot_replication_refused_connections_total").description("Connections closed at once because one is up already").register(registry);
        bytesSent = Counter.builder("netboot_replication_sent_bytes_total").description("Bytes sent to the peer (frames, all disks)").register(registry);
        bytesReceived = Counter.builder("netboot_replication_received_bytes_total").description("Bytes received from the peer").register(registry);
        tlsRefused = Counter.builder("netboot_replication_tls_refused_total").description("Connections whose TLS handshake failed (a certificate not the pinned one, or no TLS)").register(registry);
        resyncBytes = Counter.builder("netboot_replication_resync_received_bytes_total").description("Resync data written here as sync target").register(registry);
        activityLogWrites = Counter.builder("netboot_replication_activity_log_writes_total")
                .description("Activity-log transactions made durable (one fsync each; the writes of a burst share one)").register(registry);
        Gauge.builder("netboot_replication_connected", this, n -> n.established ? 1 : 0).description("1 while the link to the peer is up").register(registry);
        for (DiskSpec s : specs) addDisk(s);
    }

    private void addDisk(DiskSpec s) throws IOException {
        ReplicaFiles files = new ReplicaFiles(settings.stateDir().resolve(safeName(s.name())));
        // A primary's copy holds the clients' data: it names it at once. A standby's new copy is blank (full sync).
        GenerationIds initial = settings.role() == Role.PRIMARY ? GenerationIds.created(ReplicaFiles.random()) : GenerationIds.BLANK;
        ReplicaFiles.Loaded l = files.load(s.sizeBytes(), initial, ActivityLog.slotsFor(s.sizeBytes()), s.backing());
        if (l.replaced())
            log.warn("replication: {} is another file than the one replicated before under this name (re-imaged?): its old replica state is dropped, "
                    + "this copy starts {}", s.name(), settings.role() == Role.PRIMARY ? "with new identifiers (the peer gets a full sync)" : "blank (a full sync follows)");
        if (l.crashedPrimary())
            log.warn("replication: {} was primary when this process died: its {} activity-log extents are marked for resync", s.name(), l.activityLog().extents().size());
        files.markPrimary(role == Role.PRIMARY);
        DiskReplica r = new DiskReplica(s.name(), s.sizeBytes(), role, l.ids(), l.bitmap(), l.activityLog(), ReplicaFiles.random(), followsFailover);
        Disk d = new Disk(s.name(), s.sizeBytes(), r, files);
        d.backing = s.backing();
        disks.put(s.name(), d);
        String n = d.name;
        FunctionCounter.builder("netboot_replication_degraded_seconds_total", d, x -> x.degradedSeconds(System.nanoTime()))
                .tag("disk", n).description("Time this disk was written without its peer (primary, degraded)").register(registry);
        Gauge.builder("netboot_replication_out_of_sync_bytes", d, x -> x.replica.bitmap().dirtyBytes())
                .tag("disk", n).description("Bytes marked out of sync (dirty bitmap): what the next resync moves").register(registry);
        Gauge.builder("netboot_replication_writes_in_flight", d, x -> x.replica.writesInFlight())
                .tag("disk", n).description("Client writes waiting (for the peer, the local disk or the activity log): the replication lag").register(registry);
        Gauge.builder("netboot_replication_resync_percent", d, x -> x.progress == null ? 100 : x.progress.percent())
                .tag("disk", n).description("Progress of the running resync (100 when none runs)").register(registry);
        Gauge.builder("netboot_replication_state", d, x -> x.replica.state().ordinal())
                .tag("disk", n).description("ReplicaState ordinal: 0 connecting, 1 waiting handshake, 2 up to date, 3 sync source, 4 sync target, 5 degraded, 6 outdated, 7 split brain, 8 unrelated").register(registry);
    }

    /** The standby makes disks the primary has and it lacks (see {@link DiskCreator}). */
    public ReplicationNode createMissingDisksWith(DiskCreator creator) {
        this.creator = creator;
        return this;
    }

    /** TLS on the link (before {@link #start}): this node's certificate, the peer's pinned. */
    public ReplicationNode withTls(ReplicationTls tls) {
        try {
            this.tlsServer = tls.server();
            this.tlsClient = tls.client();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("replication TLS: " + e.getMessage(), e);
        }
        this.tls = tls;
        return this;
    }

    /** Puts TLS in front of the link's handler; a failed handshake (wrong pin, no TLS) is logged and counted. */
    private void secure(SocketChannel ch, boolean dialling) {
        if (tls == null) return;
        io.netty.handler.ssl.SslHandler ssl = dialling ? tlsClient.newHandler(ch.alloc(), settings.peerHost(), settings.peerPort()) : tlsServer.newHandler(ch.alloc());
        ch.pipeline().addLast(ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                log.info("replication: TLS with {} up ({}, {}), the peer's certificate is the pinned one", ch.remoteAddress(),
                        ssl.engine().getSession().getProtocol(), ssl.engine().getSession().getCipherSuite());
                return;
            }
            tlsRefused.increment();
            Throwable root = f.cause();
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            log.warn("replication: REFUSED the TLS connection {} {}: {} ({} so far); the connection is closed", dialling ? "to" : "from", ch.remoteAddress(),
                    root.getMessage(), (long) tlsRefused.count());
        });
    }

    static String safeName(String disk) {
        return disk.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public ReplicationNode start() throws InterruptedException {
        ServerBootstrap sb = new ServerBootstrap().group(group, group).channel(transport.serverSocketChannel())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override protected void initChannel(SocketChannel ch) {
                        secure(ch, false);
                        ch.pipeline().addLast(new Handler(false));
                    }
                });
        try {
            server = sb.bind(settings.listen()).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("replication cannot listen on " + settings.listen() + ": " + e.getMessage(), e);
        }
        log.info("replication: {} node {} listening on tcp {}, peer {}:{}, {} disk(s): {}", role.name().toLowerCase() + (followsFailover ? " (until the failover decides)" : ""),
                Long.toHexString(settings.nodeId()), server.localAddress(), settings.peerHost(), settings.peerPort(), disks.size(), disks.keySet());
        if (tls != null)
            log.info("replication: TLS on the link; this node's certificate has SHA-256 fingerprint {} (the peer's replication.peerFingerprint); the peer must present {}",
                    tls.fingerprint(), tls.peerFingerprint());
        else log.info("replication: no TLS on the link (replication.tls: false): frames are authenticated, not encrypted");
        loop.scheduleAtFixedRate(this::tick, 100, 100, TimeUnit.MILLISECONDS);
        loop.scheduleAtFixedRate(this::saveBitmaps, 2, 2, TimeUnit.SECONDS);
        loop.scheduleAtFixedRate(this::tidyActivityLogs, TIDY_SECONDS, TIDY_SECONDS, TimeUnit.SECONDS);
        if (dials()) loop.execute(this::dial);
        for (Disk d : disks.values()) if (d.replica.role() == Role.PRIMARY) d.degradedSince = System.nanoTime();
        return this;
    }

    /**
     * The standby dials; the primary waits for it. With failover both nodes start standby and both dial
     * until one serves; crossing connections are closed and redialled with jitter until one stands.
     */
    private boolean dials() {
        return role == Role.STANDBY || forcedPrimary;
    }

    /** Set by {@link #promoteForced}: a primary made by the operator while apart dials its peer (which may be primary too). */
    private volatile boolean forcedPrimary;

    public InetSocketAddress listenAddress() { return (InetSocketAddress) server.localAddress(); }

    // ---------------------------------------------------------------- what others ask

    /** The role in the data path now (changes with {@link #promote}/{@link #demote}). */
    public Role role() { return role; }
    public long nodeId() { return settings.nodeId(); }
    /** Whether the link is up (preambles and Hellos exchanged). */
    public boolean connected() { return established; }

    private volatile boolean winsTies;

    /**
     * This node's id is the larger of the two (as the handshake's tie-breaker counts it), as of the last link
     * up: the failover's tie-breaker between two primaries of the same term, so exactly one of them yields.
     */
    public boolean winsTies() { return winsTies; }

    private volatile java.util.function.BiConsumer<Role, Long> announcements;

    /**
     * The boot state's mirror ({@link CatalogMirror}, run by the app) hears here when the link comes up
     * (after the Hellos) and goes, and gets the catalog's messages; called on the link's event loop.
     */
    public interface CatalogListener {
        void linkUp();
        void linkDown();
        void received(ReplicationMessage message);
    }

    private volatile CatalogListener catalogListener;

    public void onCatalog(CatalogListener listener) { this.catalogListener = listener; }

    /** Sends one of the catalog's messages (dropped when the link is down: the mirror starts over at the next link-up). */
    public void sendCatalog(ReplicationMessage m) { loop.execute(() -> send(m)); }

    /**
     * Disks added to the catalog while this node runs (a clone on the primary; on the standby, made by the
     * catalog's mirror): replicated from now on. The link is renewed so the Hellos carry them.
     */
    public void addDisks(List<DiskSpec> specs) {
        loop.execute(() -> {
            boolean added = false;
            for (DiskSpec s : specs) {
                if (disks.containsKey(s.name())) continue;
                try {
                    addDisk(s);
                    added = true;
                    log.info("replication: {} ({} MiB) is replicated from now on", s.name(), s.sizeBytes() >> 20);
                } catch (IOException e) {
                    log.warn("replication: cannot set up the new disk {}: {}", s.name(), e.getMessage());
                }
            }
            if (added && link != null) run(link.socketClosed("new disks to replicate: reconnecting"));
        });
    }

    /** The identity of the file a replicated disk was set up with, if this node replicates it. */
    public Optional<String> backingOf(String disk) {
        Disk d = disks.get(disk);
        return d == null ? Optional.empty() : Optional.of(d.backing);
    }

    /**
     * Disks removed from the catalog, or replaced by another file under the same name, while this node runs:
     * they leave the data path (their replica state stays on disk; a new file under the name starts a new one,
     * see {@link ReplicaFiles}). Client writes still waiting fail. The link is renewed so the Hellos drop them.
     */
    public CompletableFuture<Void> removeDisks(java.util.Collection<String> names) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            List<Disk> gone = new ArrayList<>();
            for (String n : names) if (disks.containsKey(n)) gone.add(disks.get(n));
            if (gone.isEmpty()) {
                done.complete(null);
                return;
            }
            if (link != null) run(link.socketClosed("disks leave replication: reconnecting"));
            for (Disk d : gone) {
                disks.remove(d.name);
                for (Consumer<Boolean> c : d.clientDone.values()) c.accept(false);
                d.clientDone.clear();
                d.shutdownThreads();
                for (io.micrometer.core.instrument.Meter m : registry.getMeters())
                    if (d.name.equals(m.getId().getTag("disk")) && m.getId().getName().startsWith("netboot_replication_")) registry.remove(m);
                try {
                    d.files.saveBitmap(d.replica.bitmap());
                    if (d.replica.writesInFlight() == 0) d.files.markPrimary(false);
                    d.files.close();
                } catch (IOException e) {
                    log.warn("replication: closing the state of {}: {}", d.name, e.getMessage());
                }
                stores.released(d.name);
                log.info("replication: {} is no longer replicated (removed or replaced in the catalog)", d.name);
            }
            done.complete(null);
        });
        return done;
    }

    /**
     * The catalog's mirror found that the peer holds {@code disk} as a clone of the same image (checked by
     * SHA-256): from now on a resync sends only the clone's own blocks of it.
     */
    public void peerHoldsBaseOf(String disk) {
        peerBases.add(disk);
        Disk d = disks.get(disk);
        if (d != null && !d.peerHasBase) {
            d.peerHasBase = true;
            log.info("replication: the peer holds the image of {}: a resync sends only the clone's own blocks", disk);
        }
    }

    /** The peer's last announcement on the current link: replayed to a listener that registers after it came. */
    private RoleAnnouncement lastAnnouncement;

    /**
     * The failover adapter hears the peer's role announcements here (called on the link's event loop). One
     * that came over the current link before the listener registered is replayed to it at once.
     */
    public void onRoleAnnouncement(java.util.function.BiConsumer<Role, Long> listener) {
        loop.execute(() -> {
            this.announcements = listener;
            if (lastAnnouncement != null && established) listener.accept(lastAnnouncement.role(), lastAnnouncement.term());
        });
    }

    /** Tells the peer this node's role and term (dropped when not connected: the next link-up announces again). */
    public void announce(Role role, long term) { loop.execute(() -> send(new RoleAnnouncement(role, term))); }
    /** When the last bytes from the peer arrived (any frame counts: pings come every pingInterval), if ever. */
    public Optional<Instant> lastHeardFromPeer() { return Optional.ofNullable(lastHeard); }
    /** The same on {@link System#nanoTime}'s clock (for the failover's fence); {@link Long#MIN_VALUE} if never. */
    public long lastHeardNanos() { return lastHeardNanos; }
    /** Why the last connection ended. */
    public String lastDisconnect() { return lastDisconnect; }
    public Set<String> disks() { return java.util.Collections.unmodifiableSet(disks.keySet()); }
    /**
     * Whether client writes to this disk go through replication (this node holds the disk). Whatever the
     * role: a standby's replica refuses them, so a write reaching a node that is not primary is never applied.
     */
    public boolean replicates(String disk) { return disks.containsKey(disk); }

    /**
     * The failover adapter hears the link come and go here, on the link's event loop, so in order with the
     * peer's messages (an announcement of a link is never seen before that link's "up"). The listener hears
     * the current state at once.
     */
    public void onLinkChange(Consumer<Boolean> listener) {
        loop.execute(() -> {
            this.linkListener = listener;
            listener.accept(established);
        });
    }

    private void established(boolean up) {
        if (established == up) return;
        established = up;
        if (!up) lastAnnouncement = null;
        linkListener.accept(up);
    }

    /**
     * Takeover or switchover: every disk's replica becomes primary (one whose copy must not serve stays
     * standby and is named in the result), the activity-log marker says "primary", and the node stops
     * dialling. Completes on the loop, before the caller brings the service address up.
     */
    public CompletableFuture<List<String>> promote() {
        CompletableFuture<List<String>> result = new CompletableFuture<>();
        loop.execute(() -> {
            List<String> refused = new ArrayList<>();
            for (Disk d : disks.values()) {
                try {
                    runDisk(d, d.replica.promote());
                    d.files.markPrimary(true);
                    if (d.replica.state() != ReplicaState.UP_TO_DATE && d.replica.state() != ReplicaState.SYNC_SOURCE && d.degradedSince < 0)
                        d.degradedSince = System.nanoTime();
                } catch (IllegalStateException | IOException e) {
                    refused.add(d.name + ": " + e.getMessage());
                    log.error("replication: {} is not promoted: {}", d.name, e.getMessage());
                }
            }
            role = Role.PRIMARY;
            log.warn("replication: this node is now PRIMARY{}", refused.isEmpty() ? "" : " (not for " + refused + ")");
            result.complete(refused);
        });
        return result;
    }

    /**
     * The operator's forced promotion while the peer is unreachable (DRBD's {@code primary --force}): as
     * {@link #promote}, and this node keeps dialling the peer. The peer may be primary too (it was only cut
     * off): two primaries would each wait for the other to dial, so when the link heals they would never
     * meet and the split brain the generation identifiers show would stay unseen.
     */
    public CompletableFuture<List<String>> promoteForced() {
        return promote().thenApply(refused -> {
            loop.execute(() -> {
                forcedPrimary = true;
                backoffMillis = 100;
                if (channel == null && !closed) dial();
            });
            return refused;
        });
    }

    /**
     * Demotion or the end of a switchover's drain: once no client write is in flight (each one acknowledged
     * or failed), every replica becomes standby, and the node dials the peer from now on.
     */
    public CompletableFuture<Void> demote() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        loop.execute(() -> demoteWhenDrained(result, System.nanoTime()));
        return result;
    }

    private void demoteWhenDrained(CompletableFuture<Void> result, long since) {
        int inFlight = disks.values().stream().mapToInt(d -> d.replica.writesInFlight()).sum();
        if (inFlight > 0) {
            if (System.nanoTime() - since > TimeUnit.SECONDS.toNanos(5))
                ioLog.warn("replication: demotion waits for " + inFlight + " write(s) in flight");
            loop.schedule(() -> demoteWhenDrained(result, since), 5, TimeUnit.MILLISECONDS);
            return;
        }
        for (Disk d : disks.values()) {
            runDisk(d, d.replica.demote());
            try {
                d.files.markPrimary(false);
            } catch (IOException e) {
                log.warn("replication: {}: clearing the primary marker: {}", d.name, e.getMessage());
            }
            if (d.degradedSince >= 0) {
                d.degradedNanos += System.nanoTime() - d.degradedSince;
                d.degradedSince = -1;
            }
        }
        role = Role.STANDBY;
        forcedPrimary = false;
        log.warn("replication: this node is now STANDBY");
        if (channel == null && !closed) dial();
        result.complete(null);
    }

    /** The failover's WriteAlone: writes only this copy holds may now be acknowledged (see {@link DiskReplica#writeAlone}). */
    public void writeAlone() {
        loop.execute(() -> {
            for (Disk d : disks.values()) runDisk(d, d.replica.writeAlone());
        });
    }

    public List<DiskStatus> status() {
        try {
            return loop.submit(() -> {
                List<DiskStatus> out = new ArrayList<>();
                for (Disk d : disks.values()) {
                    ResyncPlanner.Progress p = d.progress;
                    boolean syncing = d.replica.state() == ReplicaState.SYNC_TARGET || d.replica.state() == ReplicaState.SYNC_SOURCE;
                    GenerationIds ids = d.replica.ids();
                    out.add(new DiskStatus(d.name, d.replica.role(), d.replica.state(), established, d.replica.bitmap().dirtyBytes(),
                            syncing && p != null ? p.percent() : syncing ? 0 : 100, p != null && syncing ? p.bytesPerSecond() : 0,
                            p != null && syncing ? p.etaSeconds() : 0, d.replica.writesInFlight(),
                            Long.toHexString(ids.current()) + "/" + Long.toHexString(ids.bitmap()) + (ids.crashedPrimary() ? "/crashed" : ""), d.lastVerify));
                }
                return out;
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("replication status: " + e.getMessage(), e);
        }
    }

    /**
     * A client write (primary): {@code done} is called with true once it is on this disk and, while
     * connected, on the peer's (protocol C), from a replication thread. The data must not change meanwhile.
     */
    public void write(String disk, long offset, ByteBuffer data, boolean durable, Consumer<Boolean> done) {
        submissions.submit(clientWrite(disk, offset, data, durable, done));
    }

    /**
     * {@link #write}, held until the caller's {@link #handOver}: an AoE receive thread holds every write of a
     * received batch and hands them over together, one wake-up of the loop instead of one per write (a
     * profile of sequential replicated writes showed the AoE thread waking the loop for each).
     */
    public void writeHeld(String disk, long offset, ByteBuffer data, boolean durable, Consumer<Boolean> done) {
        submissions.hold(clientWrite(disk, offset, data, durable, done));
    }

    /** Hands the writes held by {@link #writeHeld} to the loop. */
    public void handOver() { submissions.handOver(); }

    private Supplier<Runnable> clientWrite(String disk, long offset, ByteBuffer data, boolean durable, Consumer<Boolean> done) {
        return () -> {
            Disk d = disks.get(disk);
            if (d == null) {
                done.accept(false);
                return null;
            }
            long tag = d.nextTag++;
            d.clientDone.put(tag, done);
            runClientWrite(d, d.replica.submitWrite(tag, offset, data, durable));
            return null;
        };
    }

    /** Disks whose writes wait for a group commit, and whether {@link #commitGroups} is queued. */
    private final List<Disk> groupedDisks = new ArrayList<>();
    private boolean groupCommitQueued;

    /**
     * A client write's effects. One that needs an activity-log transaction opens a group: its effects and
     * everything the following submissions of the same burst do to this disk wait behind it, and
     * {@link #commitGroups}, queued behind the burst, makes the newest transaction durable once for all of
     * them. With a transaction per write, random writes across a disk bigger than the log paid one fsync
     * each (a few hundred writes per second); now the writes in flight share it.
     */
    private void runClientWrite(Disk d, List<ReplicaEffect> effects) {
        if (d.grouped == null && !needsTransaction(effects)) {
            runDisk(d, effects);
            return;
        }
        if (d.grouped == null) {
            d.grouped = new ArrayList<>();
            d.groupLink = link;
            groupedDisks.add(d);
            if (!groupCommitQueued) {
                groupCommitQueued = true;
                loop.execute(this::commitGroups);
            }
        }
        for (ReplicaEffect e : effects) {
            if (e instanceof ReplicaEffect.PersistActivityLog l) {
                // The newest transaction lists every extent of the group's writes: none of them can have left
                // the log, since none has completed (its local write is still held here).
                d.groupLog = l;
                d.groupEvicted.addAll(l.evicted());
            } else {
                d.grouped.add(() -> runHeld(d, e));
            }
        }
    }

    private static boolean needsTransaction(List<ReplicaEffect> effects) {
        for (ReplicaEffect e : effects) if (e instanceof ReplicaEffect.PersistActivityLog) return true;
        return false;
    }

    private void runHeld(Disk d, ReplicaEffect e) {
        if (e instanceof AckClient a && d.groupFailed) diskEffect(d, new AckClient(a.tag(), false));
        // A write for a link that went away meanwhile is not sent on a new one (the replica counted it lost with the old).
        else if (e instanceof SendToPeer && link != d.groupLink) return;
        else diskEffect(d, e);
    }

    /** One activity-log transaction (and the evicted extents' bitmap words) for each group, then the held effects in order. */
    private void commitGroups() {
        groupCommitQueued = false;
        List<Disk> ready = List.copyOf(groupedDisks);
        groupedDisks.clear();
        for (Disk d : ready) {
            List<Runnable> held = d.grouped;
            ReplicaEffect.PersistActivityLog l = new ReplicaEffect.PersistActivityLog(d.groupLog.transaction(), List.copyOf(d.groupEvicted), d.groupLog.extentSize());
            d.grouped = null;
            d.groupLog = null;
            d.groupEvicted.clear();
            if (disks.get(d.name) != d) continue;   // the disk left meanwhile: its clients were answered then
            d.groupFailed = !diskEffect(d, l);
            for (Runnable r : held) r.run();
            d.groupFailed = false;
        }
    }

    /** FLUSH (primary): fdatasync here and, while replicating, on the peer after every write sent before it. */
    public void flush(String disk, Consumer<Boolean> done) {
        submissions.execute(() -> {
            Disk d = disks.get(disk);
            if (d == null) {
                done.accept(false);
                return;
            }
            // Behind writes still waiting for their group's transaction: a FLUSH covers every write before it.
            long covers = d.replica.nextWriteSeq();
            if (d.grouped != null) d.grouped.add(() -> startFlush(d, done, covers));
            else startFlush(d, done, covers);
        });
    }

    private void startFlush(Disk d, Consumer<Boolean> done, long covers) {
        boolean toPeer = sending(d);
        FlushWait w = new FlushWait(done, !toPeer, covers);
        if (toPeer) {
            long seq = d.nextFlush++;
            d.flushes.put(seq, w);
            send(new Flush(d.name, seq));
        }
        sync(d, "flush", ok -> {
            w.localDone = true;
            w.ok &= ok;
            finishFlush(w);
        });
    }

    private boolean sending(Disk d) {
        return link != null && link.state() == PeerLink.State.ESTABLISHED
                && (d.replica.state() == ReplicaState.UP_TO_DATE || d.replica.state() == ReplicaState.SYNC_SOURCE);
    }

    /**
     * The primary's flush or barrier: behind the writes queued before it on the disk's I/O thread (those done
     * inline on the loop are done already), then synced on the disk's sync thread while the I/O thread goes on; the
     * answer goes back over the link it came on, if that is still the link.
     */
    private void syncForPeer(Disk d, Flush f, PeerLink from) {
        sync(d, "flush for the peer", ok -> {
            if (link != from) return;
            if (ok) send(new FlushAck(f.disk(), f.seq()));
            else run(link.socketClosed("flush failed on this node's disk " + f.disk()));
        });
    }

    /**
     * fdatasync of {@code d} covering every write submitted before this call: it starts once the disk's I/O
     * thread has reached this point in its queue and runs on the disk's sync thread, so the writes queued after it go on
     * meanwhile (a client's FLUSH, or the peer's, no longer holds up the writes behind it). {@code done} runs
     * on the loop with the outcome.
     */
    private void sync(Disk d, String what, Consumer<Boolean> done) {
        submitIo(d, () -> {
            // The store is opened (if at all) on the I/O thread, never by two threads at once.
            BlockStore[] store = {null};
            boolean opened = ioOk(() -> store[0] = d.store(), d, what);
            return () -> d.syncThread().execute(() -> {
                boolean ok = opened && ioOk(() -> store[0].flush(), d, what);
                loop.execute(() -> done.accept(ok));
            });
        });
    }

    private static void finishFlush(FlushWait w) {
        if (w.localDone && w.peerDone) w.done.accept(w.ok);
    }

    /**
     * Online verify of one disk against the peer: both hash 1 MiB ranges, only digests cross; mismatching
     * ranges are marked in the bitmap for the next resync. Completes with the mismatches.
     */
    public CompletableFuture<List<OnlineVerify.Mismatch>> verify(String disk) {
        CompletableFuture<List<OnlineVerify.Mismatch>> result = new CompletableFuture<>();
        loop.execute(() -> {
            Disk d = disks.get(disk);
            if (d == null) {
                result.completeExceptionally(new IllegalArgumentException("no replicated disk " + disk + " (disks: " + disks.keySet() + ")"));
                return;
            }
            if (link == null || link.state() != PeerLink.State.ESTABLISHED) {
                result.completeExceptionally(new IllegalStateException("not connected to the peer"));
                return;
            }
            if (d.verify != null) {
                result.completeExceptionally(new IllegalStateException("a verify of " + disk + " runs already"));
                return;
            }
            d.verify = new OnlineVerify(d.name, d.replica.bitmap(), VERIFY_RANGE, 4, new TokenBucket(settings.resyncBytesPerSecond(), Math.max(VERIFY_RANGE, settings.resyncBytesPerSecond() / 10), System.nanoTime()));
            d.verifyLink = link;
            d.verifyDone = result;
            d.lastVerify = "running";
            log.info("replication: verify of {} started ({} MiB)", d.name, d.size >> 20);
            pumpVerify(d);
        });
        return result;
    }

    /**
     * The operator's decision after a split brain: {@code discardHere} on the node whose writes are thrown
     * away (it must be standby); it resyncs from the peer.
     */
    public CompletableFuture<String> discardLocalData(String disk) {
        CompletableFuture<String> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                Disk d = disks.get(disk);
                if (d == null) throw new IllegalArgumentException("no replicated disk " + disk);
                if (d.peerIds == null || link == null || link.state() != PeerLink.State.ESTABLISHED)
                    throw new IllegalStateException("not connected to the peer: the survivor's identifiers are needed");
                runDisk(d, d.replica.discardLocalData(d.peerIds));
                result.complete(d.name + ": local writes discarded, resyncing from the peer");
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    // ---------------------------------------------------------------- connections

    private void dial() {
        if (closed || channel != null || !dials()) return;
        new Bootstrap().group(group).channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.timeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override protected void initChannel(SocketChannel ch) {
                        secure(ch, true);
                        ch.pipeline().addLast(new Handler(true));
                    }
                })
                .connect(settings.peerHost(), settings.peerPort())
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) redial("cannot connect to " + settings.peerHost() + ":" + settings.peerPort() + ": " + f.cause().getMessage());
                });
    }

    private final RateLimitedLog dialLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(30));

    private void redial(String why) {
        if (closed || !dials()) return;
        dialLog.warn("replication: " + why + "; retrying (every " + backoffMillis + " ms)");
        long delay = backoffMillis + ThreadLocalRandom.current().nextLong(backoffMillis / 4 + 1);
        backoffMillis = Math.min(2000, backoffMillis * 2);
        loop.schedule(this::dial, delay, TimeUnit.MILLISECONDS);
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private final boolean outgoing;

        Handler(boolean outgoing) { this.outgoing = outgoing; }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (closed || (channel != null && channel != ctx.channel())) {
                busyRefused.increment();
                log.info("replication: closing a second connection from {} (one is up already)", ctx.channel().remoteAddress());
                ctx.close();
                return;
            }
            channel = ctx.channel();
            byte[] nonce = new byte[ReplicationCodec.NONCE_LENGTH];
            new java.security.SecureRandom().nextBytes(nonce);
            nonceCounter++;
            link = new PeerLink(settings.nodeId(), role, settings.secret(), nonce, replicas(),
                    new PeerLink.Settings(ReplicationCodec.DEFAULT_MAX_FRAME, settings.pingInterval(), settings.timeout(), true));
            log.info("replication: {} {} {}", outgoing ? "connected to" : "connection from", ctx.channel().remoteAddress(), "; exchanging Hello");
            run(link.start(System.nanoTime()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (ctx.channel() != channel || link == null) return;
                bytesReceived.increment(buf.readableBytes());
                ByteBuffer bytes = ByteBuffer.allocate(buf.readableBytes());
                buf.readBytes(bytes);
                lastHeard = Instant.now();
                long at = System.nanoTime();
                lastHeardNanos = at;
                run(link.received(bytes.flip(), at));
            } finally {
                buf.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != channel) return;
            if (link != null) run(link.socketClosed("connection closed by the peer or the network"));
            channel = null;
            link = null;
            established(false);
            CatalogListener c = catalogListener;
            if (c != null) c.linkDown();
            if (!closed) redial("link to the peer is down (" + lastDisconnect + ")");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.info("replication: connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private Map<String, DiskReplica> replicas() {
        Map<String, DiskReplica> m = new LinkedHashMap<>();
        for (Disk d : disks.values()) m.put(d.name, d.replica);
        return m;
    }

    private void tick() {
        long now = System.nanoTime();
        if (link != null) run(link.tick(now));
        for (Disk d : disks.values()) {
            if (d.planner != null) {
                d.progress = d.planner.progress(now);
                if (now - d.lastProgressLog > TimeUnit.SECONDS.toNanos(5)) {
                    d.lastProgressLog = now;
                    ResyncPlanner.Progress p = d.progress;
                    log.info("replication: resync of {}: {}% of {} MiB, {} MiB/s, {} s left", d.name, String.format("%.1f", p.percent()),
                            p.totalBytes() >> 20, String.format("%.1f", p.bytesPerSecond() / (1 << 20)), p.etaSeconds());
                }
                pumpResync(d);
            }
            if (d.verify != null) pumpVerify(d);
            peerBarrier(d, now);
        }
    }

    /** A write the peer acknowledged waits about this long, at most, for a flush of the peer's (a barrier). */
    static final long BARRIER_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** ... and sooner once this many ranges wait (memory, and what a lost link would mark). */
    static final int BARRIER_RANGES = 8192;

    /**
     * DRBD's epoch barrier: a flush to the peer alone (nothing waits for it, nothing is synced here), so that the
     * writes it acknowledged become durable there and leave {@link DiskReplica#unflushedAtPeer} before they pile
     * up; a link lost later marks only what came after. Not while an activity-log group is open: its writes are
     * numbered but not sent, and a barrier sent before them would claim them.
     */
    private void peerBarrier(Disk d, long now) {
        int waiting = d.replica.unflushedAtPeer();
        if (waiting == 0 || d.barrier != null) {
            d.unsyncedSince = -1;
            return;
        }
        if (d.unsyncedSince < 0) d.unsyncedSince = now;
        if (d.grouped != null || !sending(d)) return;
        if (now - d.unsyncedSince < BARRIER_NANOS && waiting < BARRIER_RANGES) return;
        d.unsyncedSince = -1;
        FlushWait w = new FlushWait(ok -> { }, false, d.replica.nextWriteSeq());
        w.localDone = true;
        d.barrier = w;
        long seq = d.nextFlush++;
        d.flushes.put(seq, w);
        send(new Flush(d.name, seq));
    }

    /** How often extents idle since the last round leave the activity log (so idle for 30 to 60 s). */
    static final long TIDY_SECONDS = 30;

    private void tidyActivityLogs() {
        for (Disk d : disks.values()) runDisk(d, d.replica.tidyActivityLog());
    }

    /**
     * The periodic save of each changed bitmap (the resume point of a resync, and what a restart finds): the copy
     * is taken here, the write and its fsync run on {@link #bitmapWriter}. Done on the loop, that fsync waited
     * for the disk to drain everything else written (seconds, after a full sync's gigabytes), and the loop's
     * resync pipeline and client writes stalled meanwhile. Saves an acknowledgement relies on stay synchronous.
     */
    private void saveBitmaps() {
        for (Disk d : disks.values()) {
            if (d.files.takeSkippedSave()) d.bitmapChanged = true;
            if (!d.bitmapChanged && d.planner == null && d.replica.state() != ReplicaState.DEGRADED) continue;
            // One save per disk at a time: a slow disk skips rounds instead of piling up copies.
            if (!d.bitmapSaving.compareAndSet(false, true)) continue;
            d.bitmapChanged = false;
            ReplicaFiles.BitmapSnapshot snapshot = d.files.snapshotBitmap(d.replica.bitmap());
            bitmapWriter.execute(() -> {
                try {
                    d.files.writeBitmap(snapshot);
                } catch (IOException e) {
                    log.warn("replication: saving the bitmap of {} failed: {}", d.name, e.getMessage());
                } finally {
                    d.bitmapSaving.set(false);
                }
            });
        }
    }

    // ---------------------------------------------------------------- effects

    /** Link effects not yet carried out, in the order the link made them (so in the order of their sequence numbers). */
    private final java.util.ArrayDeque<LinkEffect> effectQueue = new java.util.ArrayDeque<>();
    private boolean runningEffects;

    /**
     * Carries out link effects in the order they were made. An effect can make more (a delivered message
     * starts a resync, whose requests are sent): those join the queue behind the ones already in it and are
     * not written at once, or a request numbered 5 would reach the wire before the Pong numbered 4 further
     * down the outer list, and the peer would refuse the stream (OUT_OF_ORDER) and drop the link.
     */
    private void run(List<LinkEffect> effects) {
        effectQueue.addAll(effects);
        if (runningEffects) return;
        runningEffects = true;
        boolean wrote = false;
        try {
            for (LinkEffect e; (e = effectQueue.poll()) != null; ) wrote |= runOne(e);
        } catch (RuntimeException ex) {
            effectQueue.clear();
            throw ex;
        } finally {
            runningEffects = false;
            if (wrote && channel != null) channel.flush();
        }
        if (link != null && link.hasOutbox() && !flushQueued) {
            // Behind every task already queued (the rest of this burst of writes, acks, completions):
            // what they send joins the same frame and the same TCP send.
            flushQueued = true;
            loop.execute(this::flushOutbox);
        }
    }

    private void flushOutbox() {
        flushQueued = false;
        if (link != null) run(link.flush());
    }

    /** One link effect; true if it wrote to the channel (a flush is due). */
    private boolean runOne(LinkEffect e) {
        boolean wrote = false;
        {
            switch (e) {
                case LinkEffect.SendBytes b -> {
                    if (channel != null) {
                        bytesSent.increment(b.bytes().remaining());
                        channel.write(Unpooled.wrappedBuffer(b.bytes()));
                        wrote = true;
                    }
                }
                case LinkEffect.Close c -> {
                    lastDisconnect = c.reason();
                    log.warn("replication: link closed: {}", c.reason());
                    established(false);
                    if (channel != null) channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                    wrote = false;
                }
                case LinkEffect.ForDisk f -> diskEffect(disks.get(f.disk()), f.effect());
                case LinkEffect.ReadForPeer r -> readForPeer(disks.get(r.disk()), r);
                case LinkEffect.DigestForPeer r -> digestForPeer(disks.get(r.disk()), r);
                case LinkEffect.Deliver d -> deliver(d.message());
                case LinkEffect.Refused r -> {
                    refused.get(r.reason()).increment();
                    refusedLog.warn("replication: REFUSED a frame from " + (channel == null ? "?" : channel.remoteAddress()) + " (" + r.reason() + "): "
                            + r.message() + "; connection closed, nothing applied (" + (long) refused.get(r.reason()).count() + " " + r.reason() + " so far)");
                }
                case LinkEffect.Report r -> log.info("replication: {}", r.message());
            }
        }
        return wrote;
    }

    /** A small write left for the end of the loop's turn: a client's (this node primary) or the peer's. */
    private record InlineWrite(long tag, long offset, ByteBuffer data, boolean client, PeerLink from) {}

    /** Disks with {@link Disk#inline} writes, and whether {@link #flushInlineWrites} is queued. */
    private final List<Disk> inlineDisks = new ArrayList<>();
    private boolean inlineQueued;

    private void flushInlineWrites() {
        inlineQueued = false;
        List<Disk> ds = List.copyOf(inlineDisks);
        inlineDisks.clear();
        for (Disk d : ds) flushInline(d);
    }

    /**
     * Does the disk's small writes of this turn, in order, each run of adjacent ones as one write (a client's
     * sequential writes arrive as 1 KiB AoE frames: a pwrite each cost most of the standby's CPU per write), and
     * queues their completions as one task. Called at the end of the turn and before anything else goes to the
     * disk's I/O thread, so no read, flush or write there overtakes them.
     */
    private void flushInline(Disk d) {
        if (d.inline.isEmpty()) return;
        List<InlineWrite> ws = List.copyOf(d.inline);
        d.inline.clear();
        boolean[] ok = new boolean[ws.size()];
        for (int i = 0; i < ws.size(); ) {
            int j = i + 1;
            long end = ws.get(i).offset() + ws.get(i).data().remaining();
            int bytes = ws.get(i).data().remaining();
            while (j < ws.size() && ws.get(j).offset() == end && bytes + ws.get(j).data().remaining() <= INLINE_WRITE_MAX) {
                end += ws.get(j).data().remaining();
                bytes += ws.get(j).data().remaining();
                j++;
            }
            List<InlineWrite> run = ws.subList(i, j);
            boolean done = ioOk(() -> d.writeInline(run), d, "write of " + bytes + " bytes at " + run.getFirst().offset());
            for (int k = i; k < j; k++) ok[k] = done;
            i = j;
        }
        loop.execute(() -> {
            for (int k = 0; k < ws.size(); k++) {
                InlineWrite w = ws.get(k);
                if (w.client()) runDisk(d, d.replica.localWriteDone(w.tag(), ok[k]));
                else if (link == w.from()) runDisk(d, d.replica.peerWriteDone(w.tag(), ok[k]));
            }
        });
    }

    /** Work for the disk's I/O thread, after the turn's small writes (which it must not overtake). */
    private void submitIo(Disk d, Supplier<Runnable> work) {
        // Every caller is on the loop today; off it, the loop's inline list is not touched.
        if (loop.inEventLoop()) flushInline(d);
        d.io.submit(work);
    }

    private void runDisk(Disk d, List<ReplicaEffect> effects) {
        boolean persistFailed = false;
        for (ReplicaEffect e : effects) {
            if (e instanceof AckClient a && persistFailed) {
                diskEffect(d, new AckClient(a.tag(), false));
                continue;
            }
            persistFailed |= !diskEffect(d, e);
        }
    }

    private void send(ReplicationMessage m) {
        if (link == null || link.state() != PeerLink.State.ESTABLISHED) return;
        run(link.send(m, System.nanoTime()));
    }

    /** Carries out one effect of a disk; false if a persist effect failed (an ack after it must not claim success). */
    private boolean diskEffect(Disk d, ReplicaEffect e) {
        if (d == null) return true;
        switch (e) {
            case SendToPeer s -> send(s.message());
            case WriteLocal w -> {
                boolean client = d.replica.role() == Role.PRIMARY;
                if (!client && d.planner != null) taint(d, w.offset(), w.data().remaining());
                PeerLink from = link;
                if (!w.durable() && w.data().remaining() <= INLINE_WRITE_MAX && d.io.idle() && loop.inEventLoop()) {
                    // A small write to the page cache costs a few microseconds; handing it to the I/O thread and
                    // its completion back cost two wake-ups per batch on each node, most of a replicated write's
                    // CPU (bench/replication.sh). Nothing is queued there, so this write overtakes none. It is done
                    // at the end of the loop's turn (flushInline), after the turn's frames to the peer have left,
                    // so the peer writes its copy meanwhile, and adjacent writes of the turn become one pwrite.
                    if (d.inline.isEmpty()) inlineDisks.add(d);
                    d.inline.add(new InlineWrite(w.tag(), w.offset(), w.data(), client, from));
                    if (!inlineQueued) {
                        inlineQueued = true;
                        loop.execute(this::flushInlineWrites);
                    }
                    return true;
                }
                // Named here, not for every write: the inline path above names its merged runs itself.
                String what = "write of " + w.data().remaining() + " bytes at " + w.offset();
                submitIo(d, () -> {
                    boolean ok = ioOk(() -> {
                        d.writeDirect(w.offset(), w.data());
                        if (w.durable()) d.store().flush();
                    }, d, what);
                    return () -> {
                        if (client) runDisk(d, d.replica.localWriteDone(w.tag(), ok));
                        else if (link == from) runDisk(d, d.replica.peerWriteDone(w.tag(), ok));
                    };
                });
            }
            case PersistActivityLog l -> {
                activityLogWrites.increment();
                try {
                    // The evicted extents' words only, in place: a whole-bitmap save here cost a write of the
                    // whole bitmap and two fsyncs per admission, and random writes across a big disk crawled.
                    DirtyBitmap b = d.replica.bitmap();
                    long regionsPerExtent = Math.max(1, l.extentSize() / b.regionSize());
                    int wordsPerExtent = (int) Math.max(1, regionsPerExtent >>> 6);
                    List<Integer> firstWords = new ArrayList<>();
                    for (long extent : l.evicted()) firstWords.add((int) ((extent * regionsPerExtent) >>> 6));
                    if (!firstWords.isEmpty()) d.files.saveBitmapWords(b, firstWords, wordsPerExtent);
                    d.files.saveActivityLog(l.transaction());
                } catch (IOException ex) {
                    log.error("replication: persisting the activity log of {} failed: {}", d.name, ex.getMessage());
                    return false;
                }
            }
            case PersistGenerationIds p -> {
                try {
                    d.files.saveIds(p.ids());
                } catch (IOException ex) {
                    log.error("replication: persisting the generation identifiers of {} failed: {}", d.name, ex.getMessage());
                    return false;
                }
            }
            case PersistBitmap p -> {
                try {
                    d.files.saveBitmap(d.replica.bitmap());
                } catch (IOException ex) {
                    log.error("replication: persisting the bitmap of {} failed: {}", d.name, ex.getMessage());
                    return false;
                }
            }
            case AckClient a -> {
                Consumer<Boolean> done = d.clientDone.remove(a.tag());
                if (done != null) done.accept(a.ok());
            }
            case Report r -> report(d, r);
        }
        return true;
    }

    private void report(Disk d, Report r) {
        long now = System.nanoTime();
        boolean degraded = r.state() == ReplicaState.DEGRADED || (r.state() == ReplicaState.CONNECTING && d.replica.role() == Role.PRIMARY);
        if (degraded && d.degradedSince < 0) d.degradedSince = now;
        if (!degraded && d.degradedSince >= 0 && r.state() != ReplicaState.WAITING_HANDSHAKE) {
            d.degradedNanos += now - d.degradedSince;
            d.degradedSince = -1;
        }
        if (r.state() == ReplicaState.DEGRADED || r.state() == ReplicaState.SPLIT_BRAIN || r.state() == ReplicaState.UNRELATED || r.state() == ReplicaState.OUTDATED)
            log.warn("replication: {} [{}]", r.message(), r.state());
        else log.info("replication: {} [{}]", r.message(), r.state());
        d.bitmapChanged = true;
        if (r.state() == ReplicaState.DEGRADED || r.state() == ReplicaState.OUTDATED) {
            // Flushes still waiting for the peer finish with the local flush alone (as writes do).
            for (FlushWait w : d.flushes.values()) {
                w.peerDone = true;
                finishFlush(w);
            }
            d.flushes.clear();
            d.barrier = null;
            d.planner = null;
            d.asked.clear();
            d.tainted.clear();
            if (d.verify != null) endVerify(d, new IllegalStateException("link lost during verify"));
        }
    }

    private interface Io { void run() throws IOException; }

    private final RateLimitedLog ioLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));

    private boolean ioOk(Io io, Disk d, String what) {
        try {
            io.run();
            return true;
        } catch (IOException | RuntimeException e) {
            ioLog.warn("replication: " + what + " on " + d.name + " failed: " + e.getMessage());
            return false;
        }
    }

    // ---------------------------------------------------------------- messages for the adapter

    private void deliver(ReplicationMessage m) {
        switch (m) {
            case Hello h -> {
                peerRole = h.role();
                winsTies = settings.nodeId() > h.nodeId();
                established(true);
                backoffMillis = 100;
                List<DiskGenerations> missing = new ArrayList<>();
                for (DiskGenerations g : h.disks()) {
                    Disk d = disks.get(g.disk());
                    if (d != null) d.peerIds = g.ids();
                    // With failover both start standby: a peer copy with data of its own is worth copying too.
                    else if (role == Role.STANDBY && (h.role() == Role.PRIMARY || !g.ids().blank()) && creating.add(g.disk())) missing.add(g);
                }
                if (!missing.isEmpty()) createDisks(missing);
                log.info("replication: link up with node {} ({}), {} disk(s) on its side", Long.toHexString(h.nodeId()), h.role().name().toLowerCase(), h.disks().size());
                CatalogListener c = catalogListener;
                if (c != null) c.linkUp();
            }
            case BitmapChunk c -> {
                Disk d = disks.get(c.disk());
                if (d != null && d.replica.state() == ReplicaState.SYNC_TARGET) startResync(d);
            }
            case ResyncAnswer a -> {
                Disk d = disks.get(a.disk());
                if (d == null) return;
                PeerLink from = link;
                submitIo(d, () -> {
                    boolean[] ok = writeAnswer(d, a);
                    return () -> resynced(d, from, a.pieces(), ok);
                });
            }
            case Flush f -> {
                Disk d = disks.get(f.disk());
                if (d != null) syncForPeer(d, f, link);
            }
            case FlushAck a -> {
                Disk d = disks.get(a.disk());
                FlushWait w = d == null ? null : d.flushes.remove(a.seq());
                if (w != null) {
                    d.replica.peerFlushed(w.covers);
                    if (w == d.barrier) d.barrier = null;
                    w.peerDone = true;
                    finishFlush(w);
                }
            }
            case VerifyDigest v -> {
                Disk d = disks.get(v.disk());
                if (d != null && d.verify != null) {
                    d.verify.peerDigest(v);
                    pumpVerify(d);
                }
            }
            case ResyncDone r -> log.info("replication: {}: the peer finished sending", r.disk());
            case GenerationUpdate g -> {
                Disk d = disks.get(g.disk());
                if (d != null) d.peerIds = g.ids();
            }
            case RoleAnnouncement a -> {
                log.info("replication: peer announces role {} (term {})", a.role(), a.term());
                lastAnnouncement = a;
                java.util.function.BiConsumer<Role, Long> l = announcements;
                if (l != null) l.accept(a.role(), a.term());
            }
            case CatalogPart p -> catalog(p);
            case CatalogApplied a -> catalog(a);
            case ImageRequest r -> catalog(r);
            case ImageData i -> catalog(i);
            default -> log.info("replication: {} from the peer ignored", m.getClass().getSimpleName());
        }
    }

    private void catalog(ReplicationMessage m) {
        CatalogListener c = catalogListener;
        if (c != null) c.received(m);
    }

    /**
     * Disks the primary has and this standby lacks are made here (off the loop: it creates files), then
     * the link is renewed so the new connection's Hello carries them (blank: a full sync follows).
     */
    private void createDisks(List<DiskGenerations> missing) {
        Thread.ofVirtual().start(() -> {
            List<DiskSpec> made = new ArrayList<>();
            for (DiskGenerations g : missing) {
                log.info("replication: the primary has disk {} ({} MiB) that this standby lacks: creating it", g.disk(), g.sizeBytes() >> 20);
                creator.create(g.disk(), g.sizeBytes()).ifPresent(made::add);
            }
            loop.execute(() -> {
                for (DiskGenerations g : missing) creating.remove(g.disk());
                boolean added = false;
                for (DiskSpec s : made) {
                    try {
                        if (!disks.containsKey(s.name())) {
                            addDisk(s);
                            added = true;
                        }
                    } catch (IOException e) {
                        log.warn("replication: cannot set up the new disk {}: {}", s.name(), e.getMessage());
                    }
                }
                if (added && link != null) run(link.socketClosed("new disks to replicate: reconnecting"));
            });
        });
    }

    private static boolean ownsNothing(dev.netboot.storage.CowBlockStore c, long offset, int length) {
        try {
            return !c.ownsAny(offset, length);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A range that is the source's image data: this clone of the same image reads the same already, unless
     * it wrote there itself (then the image's bytes are written over its own). Refused by a disk that is not a clone.
     */
    private static void baseRange(BlockStore store, long offset, int length) throws IOException {
        if (!(store instanceof dev.netboot.storage.ImageBacked c))
            throw new IOException("the peer sent image data by reference, but this copy is not a clone of the image");
        if (!c.ownsAny(offset, length)) return;
        ByteBuffer b = ByteBuffer.allocate(length);
        c.readBase(offset, b);
        c.write(offset, b.flip());
    }

    /**
     * A resync range: written, except where this copy shares an image's data (a clone, a thin snapshot) and reads
     * the same already: a write there would give the range blocks of its own (a clone's overlay, the thin pool's
     * space) for bytes it shares now, as when the source cannot tell its image's data from its own (an LVM primary).
     */
    private static void resyncWrite(Disk d, long offset, ByteBuffer data) throws IOException {
        if (d.store() instanceof dev.netboot.storage.ImageBacked && data.equals(d.readDirect(offset, data.remaining()))) return;
        d.writeDirect(offset, data);
    }

    /** A sparse range of the source: zeros here too, written only where this copy is not zero already (a sparse file stays sparse). */
    private static void zero(Disk d, long offset, int length) throws IOException {
        if (d.store().isHole(offset, length) || allZero(d.readDirect(offset, length))) return;
        ByteBuffer zeros = d.scratch(length);
        while (zeros.hasRemaining()) zeros.put((byte) 0);
        d.store().write(offset, zeros.flip());
    }

    private static boolean allZero(ByteBuffer b) {
        ByteBuffer x = b.duplicate();
        while (x.remaining() >= 8) if (x.getLong() != 0) return false;
        while (x.hasRemaining()) if (x.get() != 0) return false;
        return true;
    }

    private void readForPeer(Disk d, LinkEffect.ReadForPeer r) {
        if (d == null) return;
        PeerLink from = link;
        submitIo(d, () -> {
            BlockStore store;
            try {
                store = d.store();
            } catch (IOException e) {
                store = null;
            }
            List<Piece> pieces = new ArrayList<>(r.ranges().size());
            ByteBuffer data = null;
            for (Range x : r.ranges()) {
                // A clone's range with nothing of its own is the image's data, which the peer holds too: nothing to read or send.
                if (d.peerHasBase && store instanceof dev.netboot.storage.CowBlockStore c && ownsNothing(c, x.offset(), x.length())) {
                    pieces.add(new Piece(x.offset(), x.length(), Holding.BASE));
                    continue;
                }
                ByteBuffer[] read = new ByteBuffer[1];
                BlockStore s = store;
                boolean ok = s != null && ioOk(() -> {
                    if (!s.isHole(x.offset(), x.length())) read[0] = d.readDirect(x.offset(), x.length());
                }, d, "resync read");
                if (!ok) {
                    return () -> {
                        if (link == from && link != null) run(link.socketClosed("cannot read " + d.name + " for the peer's resync"));
                    };
                }
                if (read[0] == null || allZero(read[0])) {
                    pieces.add(new Piece(x.offset(), x.length(), Holding.SPARSE));
                    continue;
                }
                // Only data that crosses leaves the I/O thread (the scratch buffer is reused by the next range).
                if (data == null) data = ByteBuffer.allocate(askedBytes(r.ranges()));
                data.put(read[0]);
                pieces.add(new Piece(x.offset(), x.length(), Holding.DATA));
            }
            ByteBuffer bytes = data == null ? ByteBuffer.allocate(0) : data.flip();
            return () -> {
                if (link == from && link != null) run(link.resyncAnswer(d.name, pieces, bytes, System.nanoTime()));
            };
        });
    }

    private static int askedBytes(List<Range> ranges) {
        long n = 0;
        for (Range x : ranges) n += x.length();
        return Math.toIntExact(n);
    }

    private void digestForPeer(Disk d, LinkEffect.DigestForPeer r) {
        if (d == null) return;
        PeerLink from = link;
        submitIo(d, () -> {
            ByteBuffer digest = digest(d, r.offset(), r.length());
            return () -> {
                if (link == from && link != null && digest != null) run(link.verifyDigest(d.name, r.offset(), r.length(), digest, System.nanoTime()));
            };
        });
    }

    private ByteBuffer digest(Disk d, long offset, int length) {
        ByteBuffer[] data = new ByteBuffer[1];
        if (!ioOk(() -> data[0] = d.readDirect(offset, length), d, "verify read at " + offset)) return null;
        return RegionDigest.SHA256.of(data[0]);
    }

    // ---------------------------------------------------------------- resync (this node is the target)

    private void startResync(Disk d) {
        long now = System.nanoTime();
        long rate = settings.resyncBytesPerSecond();
        d.planner = new ResyncPlanner(d.name, d.replica.bitmap(), RESYNC_REQUEST, RESYNC_WINDOW, RESYNC_WINDOW_BYTES,
                rate == 0 ? new TokenBucket(0, 1, now) : new TokenBucket(rate, Math.max(RESYNC_REQUEST, rate / 10), now), now);
        d.plannerLink = link;
        d.asked.clear();
        d.tainted.clear();
        d.lastProgressLog = now;
        d.resyncStart = now;
        d.progress = d.planner.progress(now);
        log.info("replication: resync of {} starts: {} MiB to receive{}", d.name, d.replica.bitmap().dirtyBytes() >> 20,
                rate == 0 ? "" : " at most " + (rate >> 20) + " MiB/s (replication.resyncBytesPerSecond)");
        pumpResync(d);
    }

    private void pumpResync(Disk d) {
        if (d.planner == null || link != d.plannerLink || link == null) return;
        long now = System.nanoTime();
        for (ResyncRequest r : d.planner.next(now)) {
            for (Range x : r.ranges()) d.asked.put(x.offset(), x.length());
            send(r);
        }
        if (d.planner.finished()) finishResync(d);
    }

    /** A peer write arrived while resync requests are out: a range it overlaps is asked again (its answer may predate the write). */
    private void taint(Disk d, long offset, long length) {
        // A request is at most RESYNC_REQUEST long: only those starting that far before the write can reach it.
        for (Map.Entry<Long, Integer> a : d.asked.subMap(offset - RESYNC_REQUEST, false, offset + length, false).entrySet())
            if (offset < a.getKey() + a.getValue()) d.tainted.add(a.getKey());
    }

    /** I/O thread: each piece of an answer written (or zeroed, or taken from this copy's image); false where that failed. */
    private boolean[] writeAnswer(Disk d, ResyncAnswer a) {
        boolean[] ok = new boolean[a.pieces().size()];
        ByteBuffer data = a.data().duplicate();
        int i = 0;
        for (Piece p : a.pieces()) {
            ok[i++] = switch (p.holding()) {
                case DATA -> {
                    ByteBuffer bytes = data.slice(data.position(), p.length());
                    data.position(data.position() + p.length());
                    yield ioOk(() -> resyncWrite(d, p.offset(), bytes), d, "resync write");
                }
                case SPARSE -> ioOk(() -> zero(d, p.offset(), p.length()), d, "resync zeroing");
                case BASE -> ioOk(() -> baseRange(d.store(), p.offset(), p.length()), d, "resync of image data");
            };
        }
        return ok;
    }

    /** The pieces of one answer are written here: their regions are in sync, or asked for again; then the next requests. */
    private void resynced(Disk d, PeerLink from, List<Piece> pieces, boolean[] ok) {
        if (d.planner == null || from != d.plannerLink || link != from) return;
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            d.asked.remove(p.offset());
            // A failed write was logged (rate-limited) where it failed; its range stays dirty and is asked for again.
            if (d.tainted.remove(p.offset()) || !ok[i]) {
                d.planner.failed(p.offset());
            } else if (d.planner.completed(p.offset(), p.length(), p.holding() == Holding.DATA ? p.length() : 0)) {
                d.replica.resynced(p.offset(), p.length());
                d.bitmapChanged = true;
                resyncBytes.increment(p.length());
            } else {
                log.warn("replication: {}: resync answer for {}+{} that was never asked for; ignored", d.name, p.offset(), p.length());
            }
        }
        if (d.planner.finished()) finishResync(d);
        else pumpResync(d);
    }

    private void finishResync(Disk d) {
        long written = System.nanoTime();
        ResyncPlanner.Progress p = d.planner.progress(written);
        d.progress = p;
        d.planner = null;
        if (d.replica.state() != ReplicaState.SYNC_TARGET || d.peerIds == null) return;
        submitIo(d, () -> {
            // The resynced data is durable before the copy claims to be up to date.
            boolean ok = ioOk(() -> d.store().flush(), d, "flush after resync");
            return () -> {
                if (!ok || d.replica.state() != ReplicaState.SYNC_TARGET) return;
                // The two parts apart: moving the ranges is this code's, the flush is the backing disk's speed.
                long end = System.nanoTime();
                log.info("replication: resync of {} complete: {} MiB written here, {} MiB crossed the link, in {} s ({} s to move, {} s to flush)",
                        d.name, p.doneBytes() >> 20, p.transferredBytes() >> 20, String.format("%.2f", (end - d.resyncStart) / 1e9),
                        String.format("%.2f", (written - d.resyncStart) / 1e9), String.format("%.2f", (end - written) / 1e9));
                runDisk(d, d.replica.resyncComplete(d.peerIds.resyncedAsSource()));
            };
        });
    }

    // ---------------------------------------------------------------- verify

    private void pumpVerify(Disk d) {
        if (d.verify == null) return;
        if (link != d.verifyLink) {
            endVerify(d, new IllegalStateException("link lost during verify"));
            return;
        }
        for (VerifyRequest r : d.verify.next(System.nanoTime())) {
            send(r);
            submitIo(d, () -> {
                ByteBuffer digest = digest(d, r.offset(), r.length());
                return () -> {
                    if (d.verify == null) return;
                    if (digest == null) {
                        endVerify(d, new IOException("local read failed"));
                        return;
                    }
                    d.verify.localDigest(r.offset(), digest);
                    pumpVerify(d);
                };
            });
        }
        if (d.verify.finished()) {
            List<OnlineVerify.Mismatch> mismatches = d.verify.mismatches();
            d.lastVerify = Instant.now() + ": " + mismatches.size() + " mismatching range(s)";
            if (mismatches.isEmpty()) log.info("replication: verify of {}: both copies identical", d.name);
            else log.warn("replication: verify of {}: {} range(s) differ: {}; marked out of sync and resynced from the primary now",
                    d.name, mismatches.size(), mismatches);
            d.bitmapChanged = true;
            // In sync by the identifiers yet marked: the primary resyncs them at once (a standby sends it its marks).
            if (!mismatches.isEmpty() && link == d.verifyLink)
                runDisk(d, d.replica.role() == Role.PRIMARY ? d.replica.resyncMarked() : d.replica.offerMarks());
            CompletableFuture<List<OnlineVerify.Mismatch>> f = d.verifyDone;
            d.verify = null;
            f.complete(mismatches);
        }
    }

    private void endVerify(Disk d, Exception e) {
        CompletableFuture<List<OnlineVerify.Mismatch>> f = d.verifyDone;
        d.verify = null;
        d.lastVerify = "failed: " + e.getMessage();
        if (f != null) f.completeExceptionally(e);
    }

    /** Drops the link on purpose (e.g. so marked regions resync at the next connection). */
    public void reconnect() {
        loop.execute(() -> {
            if (link != null) run(link.socketClosed("reconnect asked for"));
        });
    }

    @Override
    public void close() {
        try {
            loop.submit(() -> {
                closed = true;
                if (link != null) run(link.socketClosed("this node shuts down"));
                if (channel != null) channel.close();
                if (server != null) server.close();
                for (Disk d : disks.values()) {
                    try {
                        d.files.saveBitmap(d.replica.bitmap());
                    } catch (IOException e) {
                        log.warn("replication: saving the bitmap of {} failed: {}", d.name, e.getMessage());
                    }
                }
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("replication: stopping: {}", e.toString());
        }
        bitmapWriter.shutdown();
        for (Disk d : disks.values()) {
            d.shutdownThreads();
            try {
                d.ioThread.awaitTermination(5, TimeUnit.SECONDS);
                // A clean stop is no crash: the next start needs no activity-log resync.
                if (d.replica.writesInFlight() == 0) d.files.markPrimary(false);
                d.files.close();
            } catch (IOException | InterruptedException e) {
                log.warn("replication: closing {}: {}", d.name, e.toString());
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
