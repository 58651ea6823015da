package dev.netboot.inventory;

import java.time.Instant;

/** One row of {@code clients}. {@code bootFile} empty: the boot policy's rules decide. */
public record Client(String mac, String hostname, String architecture, String uuid, String bootFile, String state,
                     Instant firstSeen, Instant lastSeen) {

    public static final String DISCOVERED = "discovered";
    public static final String ACTIVE = "active";
    public static final String DISABLED = "disabled";
}
