package dev.netboot.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The whole configuration of the appliance, as read from YAML. Every field has a default
 * ({@link ConfigLoader#defaults()}), so an empty file, or none at all, gives a working server.
 */
public record NetbootConfig(
        @JsonPropertyDescription("Where disks, images and state live")
        String dataDir,
        @JsonPropertyDescription("Network interface the services bind to; empty = all interfaces")
        String networkInterface,
        Files files,
        Tftp tftp,
        Http http,
        Aoe aoe) {

    /** The boot files served by TFTP and HTTP alike. */
    public record Files(
            String root,
            @JsonPropertyDescription("Read '/pxelinux.0' as 'pxelinux.0' (tftp-hpa --secure style) instead of refusing absolute paths")
            boolean leadingSlashIsRoot) {}

    public record Tftp(
            boolean enabled,
            @JsonPropertyDescription("Address to listen on; empty = the interface's address, or all")
            String address,
            int port,
            @JsonPropertyDescription("Largest blksize granted; each client is also capped to its path MTU")
            int maxBlockSize,
            @JsonPropertyDescription("Largest RFC 7440 windowsize granted")
            int maxWindowSize,
            int maxTransfers,
            @JsonPropertyDescription("First retransmission timeout before a round trip was measured")
            int initialTimeoutMillis,
            int minTimeoutMillis,
            int maxTimeoutMillis,
            int maxRetries) {}

    public record Http(
            boolean enabled,
            String address,
            int port) {}

    /** The ATA over Ethernet target. Disks come from the catalog ('netboot disk ...') plus {@code targets}. */
    public record Aoe(
            @JsonPropertyDescription("Interfaces to serve AoE on (raw Ethernet, needs root/CAP_NET_RAW); empty = AoE off")
            java.util.List<String> interfaces,
            @JsonPropertyDescription("Frames an initiator may have outstanding (Query Config buffer count; Linux caps it at 64)")
            int bufferCount,
            @JsonPropertyDescription("Threads (each with its own socket, PACKET_FANOUT) per interface; 0 = one per two CPUs, at most 4")
            int threadsPerInterface,
            @JsonPropertyDescription("Open backing stores with O_DSYNC so every acknowledged write is on stable storage (Linux aoe never sends FLUSH)")
            boolean syncWrites,
            @JsonPropertyDescription("How often the disk catalog is checked for disks added or removed with 'netboot disk'")
            int catalogPollMillis,
            @JsonPropertyDescription("Disks exported in addition to the catalog: address (shelf.slot), path, allowedMacs, open, readOnly")
            java.util.List<dev.netboot.disks.DiskEntry> targets) {}
}
