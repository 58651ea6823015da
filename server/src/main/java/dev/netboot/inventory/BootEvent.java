package dev.netboot.inventory;

import java.time.Instant;

/** One row of {@code boot_events}: something a client did on its way to booting. */
public record BootEvent(String mac, Instant at, String kind, String address, String bootFile, String detail) {}
