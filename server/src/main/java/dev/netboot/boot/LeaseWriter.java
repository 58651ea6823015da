package dev.netboot.boot;

import dev.netboot.net.Ipv4;
import dev.netboot.dhcp.Lease;
import dev.netboot.dhcp.LeaseStore;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import dev.netboot.inventory.LeaseRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DHCP engine's {@link LeaseStore} on the inventory. {@link #save} only queues (the engine runs
 * on an event loop); one thread writes what queued in one transaction, keeping only the newest
 * state per address, so a burst of thousands of ACKs costs a few commits.
 *
 * <p>The trade-off: an ACK can go out up to one commit (and 50 ms of gathering) before its lease is on disk. A crash in that
 * window loses the record, and the client keeps its address anyway when it renews, because a
 * renewal of a free address in the pool is granted; a rebooting client goes back to DISCOVER and is offered it ({@code DhcpEngine}).
 * {@link #close} writes everything still queued.
 */
public final class LeaseWriter implements LeaseStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LeaseWriter.class);

    private static final long LINGER_MILLIS = 50;
    private static final long RETRY_MILLIS = 1000;

    private final Inventory inventory;
    private final Clock clock;
    private final Map<Ipv4, Lease> pending = new LinkedHashMap<>();
    private final Object writeLock = new Object();
    private final Thread writer;
    private boolean closed;
    /** The last write failed and leases wait in memory (guarded by writeLock). */
    private boolean waiting;

    public LeaseWriter(Inventory inventory, Clock clock) {
        this.inventory = inventory;
        this.clock = clock;
        this.writer = Thread.ofPlatform().daemon().name("lease-writer").start(this::run);
    }

    @Override
    public List<Lease> loadAll() {
        return inventory.leases().stream().map(r -> new Lease(r.address(), r.clientKey(), r.mac(), r.hostname(),
                Lease.State.valueOf(r.state()), r.expires())).toList();
    }

    /** What the inventory keeps of a lease: the engine's record, its state by name. */
    public static LeaseRecord record(Lease l) {
        return new LeaseRecord(l.address(), l.clientKey(), l.mac(), l.hostname(), l.state().name(), l.expires());
    }

    @Override
    public synchronized void save(Lease lease) {
        pending.put(lease.address(), lease);
        notifyAll();
    }

    /**
     * Writes everything queued before the call (tests, shutdown). A lease the database refuses as
     * data is logged and dropped alone; when the database cannot be written at all (disk full,
     * connection lost) the batch goes back in the queue, behind any newer state of the same
     * address, and the writer retries. False if the leases are still waiting.
     */
    public boolean flush() {
        // Taking and writing under one lock keeps batches in order: an older state of an address
        // can never be written after a newer one.
        synchronized (writeLock) {
            List<Lease> batch = take();
            if (batch.isEmpty()) return true;
            try {
                for (Inventory.RejectedLease r : inventory.saveLeases(batch.stream().map(LeaseWriter::record).toList(), clock.instant())) {
                    log.error("the lease of {} (client {}, MAC {}) cannot be stored and will be forgotten at the next restart: {}",
                            r.lease().address(), abbreviate(r.lease().clientKey()), r.lease().mac(), r.reason());
                }
                if (waiting) log.info("{} queued leases saved: the inventory takes writes again", batch.size());
                waiting = false;
                return true;
            } catch (InventoryException e) {
                requeue(batch);
                if (!waiting) log.error("{} leases wait in memory, the inventory refuses writes ({}); retrying every {} ms",
                        batch.size(), e.getMessage(), RETRY_MILLIS);
                waiting = true;
                return false;
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "… (" + s.length() + " characters)";
    }

    /** Puts a batch that could not be written back, unless a newer state of the address came meanwhile. */
    private synchronized void requeue(List<Lease> batch) {
        Map<Ipv4, Lease> newer = new LinkedHashMap<>(pending);
        pending.clear();
        for (Lease l : batch) pending.put(l.address(), l);
        pending.putAll(newer);
    }

    private void run() {
        while (awaitWork()) {
            try {
                // Let a burst gather: one commit for a boot storm's worth of leases, not one per lease.
                Thread.sleep(LINGER_MILLIS);
                if (!flush()) Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Waits on {@code this} (never under writeLock) until something is queued; false once closed and drained. */
    private synchronized boolean awaitWork() {
        while (pending.isEmpty() && !closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                return false;
            }
        }
        return !pending.isEmpty();
    }

    private synchronized int pendingCount() { return pending.size(); }

    private synchronized List<Lease> take() {
        List<Lease> batch = new ArrayList<>(pending.values());
        pending.clear();
        return batch;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!flush()) log.error("{} leases could not be saved before stopping; their clients keep their addresses when they renew", pendingCount());
    }
}
