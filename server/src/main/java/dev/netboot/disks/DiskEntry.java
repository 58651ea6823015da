package dev.netboot.disks;

import dev.netboot.net.MacAddress;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.TargetDefinition;

import java.util.List;
import java.util.TreeSet;

/**
 * One disk the appliance exports, as stored in the catalog file.
 *
 * @param address     shelf.slot, e.g. "1.0"
 * @param path        backing file or block device
 * @param allowedMacs initiators that may see the disk; empty = nobody unless {@code open}
 */
public record DiskEntry(String address, String path, List<String> allowedMacs, Boolean open, Boolean readOnly) {

    public DiskEntry {
        TargetAddress.parse(address);
        if (path == null || path.isBlank()) throw new IllegalArgumentException("disk " + address + " needs a path");
        if (allowedMacs == null) allowedMacs = List.of();
        // Boxed so that a config entry may leave them out (false).
        if (open == null) open = false;
        if (readOnly == null) readOnly = false;
        allowedMacs = List.copyOf(new TreeSet<>(allowedMacs.stream().map(m -> MacAddress.parse(m).toString()).toList()));
    }

    public TargetAddress target() { return TargetAddress.parse(address); }

    public TargetDefinition definition(long sectors) {
        return new TargetDefinition(target(), sectors, new java.util.HashSet<>(allowedMacs.stream().map(MacAddress::parse).toList()),
                open, readOnly, "NB" + target().shelf() + "." + target().slot());
    }
}
