package dev.netboot.boot;

import dev.netboot.aoe.AoeResponder;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.ClientObserver;
import dev.netboot.dhcp.Machine;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Inventory;
import dev.netboot.net.Ipv4;
import dev.netboot.net.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The steps of a boot after DHCP, for its timeline ({@link BootTimeline}): each boot file a client
 * fetched (TFTP or HTTP: loader, menu, kernel, initrd) and the moment its initrd discovered its disk
 * over AoE. Boot files are asked for by address, so the client is known by the address DHCP gave it
 * (full mode) or saw it use (proxy mode), else by this host's neighbour table. Events are written by
 * one thread, at most one per client, kind and file in {@link #SAME_STEP} (firmware asks a file's size
 * and then reads it; HEAD then GET), and dropped rather than queued without bound.
 */
public final class BootSteps implements ClientObserver, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BootSteps.class);
    static final Duration SAME_STEP = Duration.ofSeconds(30);
    private static final int MAX_ADDRESSES = 65_536;

    private final Inventory inventory;
    private final Clock clock;
    private final NeighbourTable neighbours;
    private final Map<Ipv4, String> macByAddress = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastStep = new ConcurrentHashMap<>();
    /** Steps that do not fit are not recorded: the timeline is worth less than the boot itself. */
    private final InventoryWriter writer = new InventoryWriter("boot-steps", 1024, () -> {});

    /** Where an address's MAC is looked up when DHCP did not say (the kernel's ARP cache). */
    @FunctionalInterface
    public interface NeighbourTable {
        Optional<String> macOf(InetAddress address);

        /** Linux's ARP cache of this network namespace: clients that just talked to us are in it. */
        NeighbourTable PROC_NET_ARP = address -> {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/net/arp"))) {
                    String[] f = line.trim().split("\\s+");
                    // IP address, HW type, Flags, HW address, Mask, Device; flag 0x2 = complete
                    if (f.length >= 4 && f[0].equals(address.getHostAddress()) && (Integer.decode(f[2]) & 0x2) != 0) {
                        return Optional.of(f[3].toLowerCase(Locale.ROOT));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // no table (not Linux) or an odd line: the step goes unrecorded, the boot is not affected
            }
            return Optional.empty();
        };
    }

    public BootSteps(Inventory inventory, NeighbourTable neighbours, Clock clock) {
        this.inventory = inventory;
        this.neighbours = neighbours;
        this.clock = clock;
    }

    /** DHCP answered a boot: from now on boot files asked from {@code address} are {@code machine}'s. */
    @Override
    public void booted(Machine machine, BootPlan plan, Ipv4 address, Instant at) {
        if (address.isAny()) return;
        if (macByAddress.size() >= MAX_ADDRESSES) macByAddress.clear(); // only a cache; the neighbour table is the fallback
        macByAddress.put(address, machine.mac());
    }

    /** {@code files}, with every boot file it finds recorded as a step of the asking client's boot. */
    public FileProvider observing(FileProvider files) {
        return new FileProvider() {
            @Override
            public Lookup open(FileRequest request) {
                return seen(request, files.open(request));
            }

            @Override
            public Optional<Lookup> openAtOnce(FileRequest request) {
                return files.openAtOnce(request).map(found -> seen(request, found));
            }
        };
    }

    private Lookup seen(FileRequest request, Lookup found) {
        if (found instanceof Lookup.Found f && request.client() != null) fileFound(request, f);
        return found;
    }

    /** For {@link AoeResponder#onDiscovery}: the client's initrd found its disk. */
    public AoeResponder.DiscoveryListener discoveries() {
        return (MacAddress client, TargetAddress target) -> record(client.toString(), BootTimeline.AOE_DISCOVER, "", "e" + target, "");
    }

    private void fileFound(FileRequest request, Lookup.Found f) {
        InetAddress from = request.client().getAddress();
        String kind = "tftp".equals(request.protocol()) ? BootTimeline.TFTP : BootTimeline.HTTP;
        long size = f.file().size();
        writer.execute(() -> {
            String mac = macOf(from).orElse(null);
            if (mac != null) write(mac, kind, from.getHostAddress(), f.name(), size + " bytes");
        });
    }

    private Optional<String> macOf(InetAddress address) {
        try {
            String known = macByAddress.get(Ipv4.of(address));
            if (known != null) return Optional.of(known);
        } catch (IllegalArgumentException notIpv4) {
            // IPv6 (HTTP over v6): only the neighbour table can say
        }
        return neighbours.macOf(address);
    }

    private void record(String mac, String kind, String address, String file, String detail) {
        writer.execute(() -> write(mac, kind, address, file, detail));
    }

    /** On the writer thread only. */
    private void write(String mac, String kind, String address, String file, String detail) {
        Instant now = clock.instant();
        String key = mac + ' ' + kind + ' ' + file;
        Instant previous = lastStep.get(key);
        if (previous != null && previous.plus(SAME_STEP).isAfter(now)) return;
        if (lastStep.size() > MAX_ADDRESSES) lastStep.clear();
        lastStep.put(key, now);
        try {
            if (inventory.client(mac).isEmpty()) return; // not a client we registered: nothing to hang the step on
            inventory.recordBootEvent(new BootEvent(mac, now, kind, address, file, detail));
        } catch (RuntimeException e) {
            log.debug("could not record a boot step of {}: {}", mac, e.getMessage());
        }
    }

    /** Waits for queued steps (tests). */
    public void sync() throws InterruptedException { writer.sync(); }

    @Override
    public void close() { writer.close(); }
}
