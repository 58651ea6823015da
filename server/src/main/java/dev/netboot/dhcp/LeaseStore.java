package dev.netboot.dhcp;

import java.util.List;

/**
 * Where bound leases persist, so a client renewing after a restart keeps its address. The engine
 * starts from {@link #loadAll}; {@link DhcpServer} calls {@link #save} for every
 * {@link DhcpEffect.SaveLease} (bound, freed or declined; offers are not saved). Implementations
 * must not block the caller for long (it is an event loop).
 */
public interface LeaseStore {

    List<Lease> loadAll();

    void save(Lease lease);

    LeaseStore NONE = new LeaseStore() {
        @Override public List<Lease> loadAll() { return List.of(); }
        @Override public void save(Lease lease) {}
    };
}
