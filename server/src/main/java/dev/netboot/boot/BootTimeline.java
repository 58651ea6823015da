package dev.netboot.boot;

import dev.netboot.inventory.BootEvent;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One power-on of one client as the server saw it: its DHCP exchanges, the boot files it fetched
 * (TFTP, HTTP) and the moment its initrd found its disk over AoE, in order. The inventory keeps the
 * events; this is the one place that decides where one boot ends and the next begins.
 *
 * @param events oldest first
 */
public record BootTimeline(Instant started, List<BootEvent> events) {

    /** The boot's kinds of event, in the order a boot goes through them. */
    public static final String DHCP_DISCOVER = "dhcp-discover", DHCP_BOOT = "dhcp-boot", TFTP = "tftp", HTTP = "http", AOE_DISCOVER = "aoe-discover";

    /** A DISCOVER this long after the boot's last event is a new power-on (a ROM's and then iPXE's DISCOVERs come seconds apart). */
    static final Duration NEW_BOOT_AFTER = Duration.ofSeconds(60);
    /** Whatever comes after this much silence belongs to a new boot, even without a DISCOVER we saw (proxy mode behind a relay). */
    static final Duration SILENCE = Duration.ofMinutes(10);

    public BootTimeline {
        events = List.copyOf(events);
    }

    public Instant lastAt() { return events.getLast().at(); }

    /** The client's initrd found its disk: the boot got as far as the server can see. */
    public boolean reachedDisk() { return events.stream().anyMatch(e -> e.kind().equals(AOE_DISCOVER)); }

    public Duration took() { return Duration.between(started, lastAt()); }

    /**
     * Splits one client's events (any order) into boots, oldest first. A DISCOVER starts a new boot when the
     * current one already reached its disk (the PC was reset) or went quiet for {@link #NEW_BOOT_AFTER}.
     */
    public static List<BootTimeline> of(List<BootEvent> events) {
        // Same instant (a DISCOVER and its answer): in the order a boot goes through its stages.
        List<BootEvent> sorted = events.stream().sorted(java.util.Comparator.comparing(BootEvent::at).thenComparingInt(BootTimeline::stage)).toList();
        List<BootTimeline> boots = new ArrayList<>();
        List<BootEvent> current = new ArrayList<>();
        for (BootEvent e : sorted) {
            if (!current.isEmpty() && startsNewBoot(current, e)) {
                boots.add(new BootTimeline(current.getFirst().at(), current));
                current = new ArrayList<>();
            }
            current.add(e);
        }
        if (!current.isEmpty()) boots.add(new BootTimeline(current.getFirst().at(), current));
        return boots;
    }

    private static int stage(BootEvent e) {
        return switch (e.kind()) {
            case DHCP_DISCOVER -> 0;
            case DHCP_BOOT -> 1;
            case AOE_DISCOVER -> 3;
            default -> 2;
        };
    }

    private static boolean startsNewBoot(List<BootEvent> current, BootEvent e) {
        Duration gap = Duration.between(current.getLast().at(), e.at());
        if (gap.compareTo(SILENCE) >= 0) return true;
        if (!e.kind().equals(DHCP_DISCOVER)) return false;
        return gap.compareTo(NEW_BOOT_AFTER) >= 0 || current.stream().anyMatch(x -> x.kind().equals(AOE_DISCOVER));
    }
}
