package dev.netboot.inventory;

import dev.netboot.dhcp.Ipv4;
import dev.netboot.dhcp.Lease;
import dev.netboot.dhcp.LeaseStore;
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

    private final Inventory inventory;
    private final Clock clock;
    private final Map<Ipv4, Lease> pending = new LinkedHashMap<>();
    private final Object writeLock = new Object();
    private final Thread writer;
    private boolean closed;

    public LeaseWriter(Inventory inventory, Clock clock) {
        this.inventory = inventory;
        this.clock = clock;
        this.writer = Thread.ofPlatform().daemon().name("lease-writer").start(this::run);
    }

    @Override
    public List<Lease> loadAll() { return inventory.leases(); }

    @Override
    public synchronized void save(Lease lease) {
        pending.put(lease.address(), lease);
        notifyAll();
    }

    /** Blocks until everything queued before the call is written (tests, shutdown). */
    public void flush() {
        // Taking and writing under one lock keeps batches in order: an older state of an address
        // can never be written after a newer one.
        synchronized (writeLock) {
            List<Lease> batch = take();
            if (batch.isEmpty()) return;
            try {
                inventory.saveLeases(batch, clock.instant());
            } catch (InventoryException e) {
                log.error("{} leases were not saved: {}", batch.size(), e.getMessage());
            }
        }
    }

    private void run() {
        while (awaitWork()) {
            try {
                // Let a burst gather: one commit for a boot storm's worth of leases, not one per lease.
                Thread.sleep(LINGER_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            flush();
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
        flush();
    }
}
