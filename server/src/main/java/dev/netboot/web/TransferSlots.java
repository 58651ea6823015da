package dev.netboot.web;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many boot-file downloads may run at once: at most {@code perClient} per client address and
 * {@code total} over all. A legitimate PC fetches one file at a time (iPXE, UEFI HTTP boot), so the
 * per-client cap only stops one host from opening hundreds of downloads it never reads; the total
 * caps what all of them together hold (a buffer and an open file each).
 *
 * <p>Plain synchronized bookkeeping: it runs once per request, never per byte.
 */
public final class TransferSlots {

    /** What {@link #take} answers: a slot to release when the download ends, or why there is none. */
    public sealed interface Admission permits Granted, Busy {}

    public record Granted(Slot slot) implements Admission {}

    /**
     * @param reason    for the client and the log
     * @param firstTime true on the first refusal since this client (or, for the total, anyone) last got a slot,
     *                  so a flood logs one line per episode instead of one per request
     */
    public record Busy(String reason, boolean firstTime) implements Admission {}

    /** One running download; {@link #close} gives the slot back (once, however often it is called). */
    public final class Slot implements AutoCloseable {
        private final InetAddress client;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Slot(InetAddress client) { this.client = client; }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) release(client);
        }
    }

    private static final class PerClient {
        int active;
        boolean refusalReported;
    }

    private final int perClient;
    private final int total;
    private final Map<InetAddress, PerClient> clients = new HashMap<>();
    private int active;
    private boolean totalRefusalReported;

    public TransferSlots(int perClient, int total) {
        if (perClient < 1) throw new IllegalArgumentException("http.maxTransfersPerClient must be at least 1, got " + perClient);
        if (total < 1) throw new IllegalArgumentException("http.maxTransfers must be at least 1, got " + total);
        this.perClient = perClient;
        this.total = total;
    }

    public synchronized Admission take(InetAddress client) {
        PerClient c = clients.get(client);
        if (c != null && c.active >= perClient) {
            boolean first = !c.refusalReported;
            c.refusalReported = true;
            return new Busy(client.getHostAddress() + " already has " + c.active + " downloads running (http.maxTransfersPerClient)", first);
        }
        if (active >= total) {
            boolean first = !totalRefusalReported;
            totalRefusalReported = true;
            return new Busy(active + " downloads running, the most allowed (http.maxTransfers)", first);
        }
        if (c == null) clients.put(client, c = new PerClient());
        c.active++;
        active++;
        totalRefusalReported = false;
        return new Granted(new Slot(client));
    }

    private synchronized void release(InetAddress client) {
        PerClient c = clients.get(client);
        if (--c.active == 0) clients.remove(client); // the table only holds clients with downloads running
        active--;
    }

    /** Downloads running now (the {@code netboot_http_transfers_active} gauge). */
    public synchronized int active() { return active; }

    /** Client addresses with at least one download running. */
    public synchronized int clients() { return clients.size(); }
}
