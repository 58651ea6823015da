package dev.netboot.web.admin;

import java.time.Instant;

/**
 * What the admin knows of one client, as values (the JSON API's client); {@link ClientRow} is the same in words.
 *
 * @param address       the address it holds, null when none is known
 * @param addressSource "lease" (ours, full DHCP) or "last boot" (another server's, seen when it last booted); null with no address
 * @param disk          its disk's AoE address ("1.0"), null when it has none
 * @param waiting       it is at its "no image yet" screen right now
 * @param installer     the installer its next boot starts (installer mode), null when none
 * @param installStarted when that install began (its installer booted), null before
 */
public record ClientFacts(String mac, String state, String hostname, String architecture, String address, String addressSource,
                          Instant lastSeen, Instant lastBoot, String image, String disk, String diskKind, String bootFile, boolean waiting,
                          String installer, Instant installStarted) {}
