package dev.netboot.inventory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The per-client boot file overrides of the inventory, held in memory for the boot policy (which
 * must not touch the database on DHCP's event loop) and reloaded by {@link #refresh}.
 */
public final class BootOverrides implements Function<String, Optional<String>> {

    private static final Logger log = LoggerFactory.getLogger(BootOverrides.class);

    private final Inventory inventory;
    private volatile Map<String, String> byMac = Map.of();
    private volatile java.util.Set<String> disabled = java.util.Set.of();

    public BootOverrides(Inventory inventory) {
        this.inventory = inventory;
        refresh();
    }

    public void refresh() {
        try {
            byMac = Map.copyOf(inventory.bootFileOverrides());
            disabled = java.util.Set.copyOf(inventory.disabledClients());
        } catch (RuntimeException e) {
            log.warn("could not reload boot file overrides: {}", e.getMessage());
        }
    }

    /** Clients an operator set to state "disabled": they get no boot offer. */
    public boolean isDisabled(String mac) { return disabled.contains(mac); }

    @Override
    public Optional<String> apply(String mac) { return Optional.ofNullable(byMac.get(mac)); }
}
