package dev.netboot.aoe;

import dev.netboot.storage.BlockStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The AoE target of the appliance: one responder for all targets, one receive thread per
 * interface, targets exported and withdrawn while it runs.
 */
public final class AoeServer implements StorageDirectory, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AoeServer.class);

    /** Where the protocol state of each target (config string, mask and reserve lists) is kept. */
    public interface StatePersistence {
        TargetState load(TargetAddress target);
        void save(TargetAddress target, TargetState state);
        /** The target's disk is gone: its state must not greet the next disk at that address. */
        void delete(TargetAddress target) throws IOException;
    }

    private final List<String> interfaceNames;
    private final int bufferCount;
    private final int threadsPerInterface;
    private final boolean packetRing;
    private final long spinNanos;
    private final StatePersistence persistence;
    private final AoeResponder responder = new AoeResponder();
    private final AoeMetrics metrics;
    private final Map<TargetAddress, BlockStore> stores = new ConcurrentHashMap<>();
    private final List<AoeInterface> interfaces = new ArrayList<>();
    /** fdatasync can take long; it runs here so the receive thread keeps serving reads and writes. */
    private final ExecutorService flusher = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("aoe-flush-", 0).daemon().factory());

    /**
     * @param threadsPerInterface receive/IO threads per interface; 0 = one per two CPUs, at most 4
     * @param packetRing          receive through a PACKET_MMAP ring rather than with recvmmsg
     */
    public AoeServer(List<String> interfaceNames, int bufferCount, int threadsPerInterface, boolean packetRing, MeterRegistry registry,
                     StatePersistence persistence) {
        this(interfaceNames, bufferCount, threadsPerInterface, packetRing, registry, persistence, 0);
    }

    /** @param spinNanos how long a receive thread polls for more frames before it sleeps (0: never) */
    public AoeServer(List<String> interfaceNames, int bufferCount, int threadsPerInterface, boolean packetRing, MeterRegistry registry,
                     StatePersistence persistence, long spinNanos) {
        this.spinNanos = spinNanos;
        this.packetRing = packetRing;
        this.interfaceNames = List.copyOf(interfaceNames);
        this.bufferCount = bufferCount;
        this.threadsPerInterface = threadsPerInterface > 0 ? threadsPerInterface
                : Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
        this.persistence = persistence;
        this.metrics = new AoeMetrics(registry, responder);
    }

    public AoeServer start() throws IOException {
        try {
            for (String name : interfaceNames) {
                AoeInterface i = new AoeInterface(name, threadsPerInterface, packetRing, responder, this, flusher, bufferCount, metrics, spinNanos).start();
                interfaces.add(i);
                log.info("AoE on {} (MTU {}, {} sectors per frame, MAC {}, {} thread(s), {})", name, i.mtu(), i.port().maxSectors(), i.port().mac(),
                        threadsPerInterface, packetRing ? "receive ring" : "recvmmsg");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** Exports a disk; its protocol state comes back from persistence. */
    public void export(TargetDefinition definition, BlockStore store) {
        TargetAddress a = definition.address();
        if (stores.putIfAbsent(a, store) != null) throw new IllegalStateException("e" + a + " is exported already");
        try {
            responder.add(new AoeTarget(definition, persistence.load(a)));
        } catch (RuntimeException e) {
            stores.remove(a);
            throw e;
        }
    }

    /**
     * Broadcasts an unsolicited config response for every exported target on every interface (after a
     * takeover: the clients' driver and the switches learn where the service MAC is now).
     */
    public void announce() {
        for (AoeInterface i : interfaces) i.announce();
    }

    /** Stops answering for a target and closes its store. */
    public void withdraw(TargetAddress a) {
        responder.remove(a);
        BlockStore store = stores.remove(a);
        if (store != null) {
            try {
                store.flush();
                store.close();
            } catch (IOException e) {
                log.warn("closing the store of e{} failed: {}", a, e.getMessage());
            }
        }
    }

    /**
     * Withdraws a target whose disk was removed and deletes its protocol state (after the withdrawal,
     * so no request still being handled can write it again).
     */
    public void forget(TargetAddress a) {
        withdraw(a);
        try {
            persistence.delete(a);
        } catch (IOException e) {
            log.warn("cannot delete the AoE state of removed disk e{}: {}", a, e.getMessage());
        }
    }

    /** The interfaces this server serves AoE on (aoe.interfaces). */
    public List<String> interfaceNames() { return interfaceNames; }

    private volatile WriteReplication replication;

    /** From now on writes and flushes of the targets it replicates go through {@code r} (null: none). */
    public void replicateThrough(WriteReplication r) { this.replication = r; }

    @Override
    public WriteReplication replication() { return replication; }

    public Set<TargetAddress> exported() { return new TreeSet<>(stores.keySet()); }
    public AoeResponder responder() { return responder; }

    @Override
    public BlockStore store(TargetAddress target) { return stores.get(target); }

    @Override
    public void saveState(TargetAddress target, TargetState state) { persistence.save(target, state); }

    @Override
    public void close() {
        for (AoeInterface i : interfaces) i.close();
        interfaces.clear();
        flusher.shutdown();
        for (TargetAddress a : exported()) withdraw(a);
    }
}
