package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who holds which address in full mode, and the rules for handing addresses out, apart from packet
 * handling (Kea's allocation engine is the model): pools, reservations, offers held briefly, bound
 * leases, DECLINE quarantine, expiry, and a cursor per pool over never-used addresses. It answers
 * what the engine asks and never decides what goes on the wire.
 *
 * <p>Every change of a bound, freed or declined lease is also queued, in order, for
 * {@link #takeChanges} (offers are not: they live seconds). Not thread-safe: the engine calls it
 * under its own lock.
 */
final class LeaseAllocator {

    /** The client as leases record it: {@code key} is option 61 or else the hardware address. */
    record Client(String key, String mac, String hostname) {}

    private final DhcpSettings settings;
    private final Map<Ipv4, Lease> byAddress = new HashMap<>();
    private final Map<String, Ipv4> byClient = new HashMap<>();
    private final Map<String, Reservation> reservationByMac = new HashMap<>();
    private final Set<Ipv4> reserved = new HashSet<>();
    /** Per pool: the next never-used address to try, so allocation is O(1) until a pool fills. */
    private final long[] cursor;
    private final List<Lease> changes = new ArrayList<>();

    /** @param persisted what the lease store kept; offers in it are ignored */
    LeaseAllocator(DhcpSettings settings, Collection<Lease> persisted) {
        this.settings = settings;
        for (Reservation r : settings.reservations()) {
            reservationByMac.put(r.mac(), r);
            reserved.add(r.address());
        }
        this.cursor = new long[settings.pools().size()];
        for (Lease l : persisted) {
            if (l.state() == Lease.State.OFFERED) continue;
            byAddress.put(l.address(), l);
            byClient.put(l.clientKey(), l.address());
        }
    }

    List<Lease> leases() { return List.copyOf(byAddress.values()); }

    /** The lease changes since the last call, oldest first, for the store. */
    List<Lease> takeChanges() {
        if (changes.isEmpty()) return List.of();
        List<Lease> taken = List.copyOf(changes);
        changes.clear();
        return taken;
    }

    Reservation reservation(String mac) { return reservationByMac.get(mac); }

    boolean isReserved(Ipv4 a) { return reserved.contains(a); }

    /** The lease on {@code a} in any state, or null. */
    Lease at(Ipv4 a) { return byAddress.get(a); }

    /** The lease the client holds or was last given, in any state, or null. */
    Lease of(Client c) {
        Ipv4 a = byClient.get(c.key());
        return a == null ? null : byAddress.get(a);
    }

    /** Whether we know the client at all: a lease in any state (remembered after release or expiry), or a reservation. */
    boolean knows(Client c) { return byClient.containsKey(c.key()) || reservationByMac.containsKey(c.mac()); }

    /**
     * An address to offer in pool {@code poolIndex}: the client's reservation; else the address it
     * had; else the one it asks for, if free; else a never-used one; else the free one that has been
     * free longest. Null when the pool is full.
     */
    Ipv4 choose(int poolIndex, Client c, Ipv4 requested, Ipv4 local, Instant now) {
        Pool pool = settings.pools().get(poolIndex);
        Reservation r = reservationByMac.get(c.mac());
        if (r != null && pool.inSubnet(r.address())) return r.address();
        Ipv4 previous = byClient.get(c.key());
        if (previous != null && pool.inRange(previous) && !reserved.contains(previous)) {
            Lease l = byAddress.get(previous);
            if (l == null || l.state() != Lease.State.DECLINED || !l.isActive(now)) return previous;
        }
        if (requested != null && pool.inRange(requested) && isFree(requested, local, now)) return requested;
        long size = pool.size();
        for (long n = 0; n < size; n++) {
            long offset = (cursor[poolIndex] + n) % size;
            Ipv4 a = pool.first().plus(offset);
            if (!byAddress.containsKey(a) && !reserved.contains(a) && !a.equals(local)) {
                cursor[poolIndex] = (offset + 1) % size;
                return a;
            }
        }
        Lease oldest = null;
        for (Lease l : byAddress.values()) {
            if (pool.inRange(l.address()) && !l.isActive(now) && !reserved.contains(l.address()) && !l.address().equals(local)
                    && (oldest == null || l.expires().isBefore(oldest.expires()))) {
                oldest = l;
            }
        }
        return oldest == null ? null : oldest.address();
    }

    private boolean isFree(Ipv4 a, Ipv4 local, Instant now) {
        Lease l = byAddress.get(a);
        return (l == null || !l.isActive(now)) && !reserved.contains(a) && !a.equals(local);
    }

    /** Holds {@code address} for the client for the offer hold, unless the client holds it bound already. */
    void offer(Ipv4 address, Client c, Instant now) {
        Lease current = byAddress.get(address);
        // A bound client that starts over keeps its binding until it requests again or it expires.
        boolean stillBound = current != null && current.clientKey().equals(c.key()) && current.state() == Lease.State.BOUND && current.isActive(now);
        if (!stillBound) hold(address, c, Lease.State.OFFERED, now.plus(settings.offerHold()));
    }

    /** Binds {@code address} to the client for the pool's lease time. */
    Lease bind(Ipv4 address, Client c, Pool pool, Instant now) {
        Lease bound = hold(address, c, Lease.State.BOUND, now.plusSeconds(pool.leaseSeconds()));
        changes.add(bound);
        return bound;
    }

    /** The client chose another server (SELECTING): the address we offered it is free again at once. */
    void withdrawOffer(Client c) {
        Ipv4 offered = byClient.get(c.key());
        Lease offer = offered == null ? null : byAddress.get(offered);
        if (offer != null && offer.state() == Lease.State.OFFERED) {
            byAddress.remove(offered);
            byClient.remove(c.key());
        }
    }

    /** Quarantines {@code address} for the decline quarantine; false if the client holds no lease on it. */
    boolean decline(Ipv4 address, Client c, Instant now) {
        Lease l = byAddress.get(address);
        if (l == null || !l.clientKey().equals(c.key())) return false;
        Lease quarantined = l.with(Lease.State.DECLINED, now.plus(settings.declineQuarantine()));
        byAddress.put(address, quarantined);
        byClient.remove(c.key(), address);
        changes.add(quarantined);
        return true;
    }

    /** Frees the client's bound lease on {@code address} (remembered for it); false if it holds none. */
    boolean release(Ipv4 address, Client c, Instant now) {
        Lease l = byAddress.get(address);
        if (l == null || !l.clientKey().equals(c.key()) || l.state() != Lease.State.BOUND) return false;
        Lease freed = l.with(Lease.State.FREE, now);
        byAddress.put(l.address(), freed);
        changes.add(freed);
        return true;
    }

    /** Bound and declined leases that ran out become free (remembered for their client), offers go; returns how many were freed. */
    int expire(Instant now) {
        int n = 0;
        // In place, without copying: this runs on the event loop, over every lease we hold.
        for (var it = byAddress.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            Lease l = entry.getValue();
            if (l.expires().isAfter(now)) continue;
            if (l.state() == Lease.State.BOUND || l.state() == Lease.State.DECLINED) {
                Lease freed = l.with(Lease.State.FREE, l.expires());
                entry.setValue(freed);
                changes.add(freed);
                n++;
            } else if (l.state() == Lease.State.OFFERED) {
                it.remove();
                byClient.remove(l.clientKey(), l.address());
            }
        }
        return n;
    }

    /**
     * Gives {@code address} to the client in {@code state}. The client's lease on another address
     * ends: an offer is dropped, a binding becomes free (and is queued for the store).
     */
    private Lease hold(Ipv4 address, Client c, Lease.State state, Instant until) {
        Ipv4 previous = byClient.put(c.key(), address);
        if (previous != null && !previous.equals(address)) {
            Lease old = byAddress.get(previous);
            if (old != null && old.clientKey().equals(c.key())) {
                if (old.state() == Lease.State.OFFERED) byAddress.remove(previous);
                else if (old.state() == Lease.State.BOUND) {
                    Lease freed = old.with(Lease.State.FREE, until.isBefore(old.expires()) ? until : old.expires());
                    byAddress.put(previous, freed);
                    changes.add(freed);
                }
            }
        }
        Lease before = byAddress.get(address);
        if (before != null && !before.clientKey().equals(c.key())) byClient.remove(before.clientKey(), address);
        Reservation r = reservationByMac.get(c.mac());
        String hostname = r != null && !r.hostname().isEmpty() ? r.hostname() : c.hostname();
        Lease lease = new Lease(address, c.key(), c.mac(), hostname, state, until);
        byAddress.put(address, lease);
        return lease;
    }
}
