package dev.netboot.web.admin;

import java.util.List;

/**
 * One AoE export of the disk catalog as values (the JSON API's disk); {@link DiskRow} is the same in words.
 *
 * @param kind           "file", "block device" or "missing"
 * @param sizeBytes      the backing file's size; null for a block device or a missing file
 * @param allocatedBytes what the backing file (and a clone's allocation map) really take on disk; null when not known
 * @param interfaces     the interfaces it is offered on; empty = every AoE interface
 * @param exported       whether this server exports it now; null when AoE is off in this server
 * @param client         the client whose disk it is, null when no assignment names it
 */
public record DiskFacts(String address, String path, String kind, Long sizeBytes, Long allocatedBytes, List<String> allowedMacs,
                        boolean open, boolean readOnly, List<String> interfaces, Boolean exported, String client, String replication) {}
