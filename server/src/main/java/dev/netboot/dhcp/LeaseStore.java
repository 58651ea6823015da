package dev.netboot.dhcp;

import java.util.List;

/**
 * Where bound leases persist, so a client renewing after a restart keeps its address. The engine
 * calls {@link #save} for every change of a bound, freed or declined lease (offers are not saved).
 * Implementations must not block the caller for long (the engine runs on an event loop).
 */
public interface LeaseStore {

    List<Lease> loadAll();

    void save(Lease lease);

    LeaseStore NONE = new LeaseStore() {
        @Override public List<Lease> loadAll() { return List.of(); }
        @Override public void save(Lease lease) {}
    };
}
