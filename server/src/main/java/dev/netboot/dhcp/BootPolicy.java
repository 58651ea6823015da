package dev.netboot.dhcp;

/**
 * The one place that decides what a client boots. DHCP asks it for every network-boot request;
 * menus and initrds will ask it too. Implementations must be fast and must not block: DHCP calls
 * it on the event loop (anything slow, such as the database, is cached behind it).
 */
@FunctionalInterface
public interface BootPolicy {
    BootPlan planFor(Machine machine);
}
