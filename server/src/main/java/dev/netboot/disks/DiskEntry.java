package dev.netboot.disks;

import dev.netboot.net.MacAddress;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.TargetDefinition;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One disk the appliance exports, as stored in the catalog file.
 *
 * @param address     shelf.slot, e.g. "1.0"
 * @param path        backing file or block device
 * @param allowedMacs initiators that may see the disk; empty = nobody unless {@code open}
 * @param interfaces  the AoE interfaces (VLAN interfaces too, e.g. eth0.20) the disk is offered on; frames for
 *                    it on any other get no answer. Empty = every interface in aoe.interfaces
 */
public record DiskEntry(String address, String path, List<String> allowedMacs, Boolean open, Boolean readOnly, List<String> interfaces) {

    public DiskEntry {
        TargetAddress.parse(address);
        if (path == null || path.isBlank()) throw new IllegalArgumentException("disk " + address + " needs a path");
        if (allowedMacs == null) allowedMacs = List.of();
        // Boxed so that a config entry may leave them out (false).
        if (open == null) open = false;
        if (readOnly == null) readOnly = false;
        allowedMacs = List.copyOf(new TreeSet<>(allowedMacs.stream().map(m -> MacAddress.parse(m).toString()).toList()));
        // Absent in catalogs written before disks could be bound, and in config entries that leave it out.
        if (interfaces == null) interfaces = List.of();
        interfaces = List.copyOf(new TreeSet<>(interfaces.stream().map(DiskEntry::interfaceName).toList()));
    }

    /** A disk offered on every AoE interface. */
    public DiskEntry(String address, String path, List<String> allowedMacs, Boolean open, Boolean readOnly) {
        this(address, path, allowedMacs, open, readOnly, List.of());
    }

    /** The same disk on other interfaces. */
    public DiskEntry onInterfaces(List<String> others) {
        return new DiskEntry(address, path, allowedMacs, open, readOnly, others);
    }

    public TargetAddress target() { return TargetAddress.parse(address); }

    public TargetDefinition definition(long sectors) {
        return new TargetDefinition(target(), sectors, new java.util.HashSet<>(allowedMacs.stream().map(MacAddress::parse).toList()),
                open, readOnly, "NB" + target().shelf() + "." + target().slot(), Set.copyOf(interfaces));
    }

    /** "every interface" or the list, for the CLI, the admin and the log. */
    public String interfacesText() {
        return interfaces.isEmpty() ? "every interface" : String.join(", ", interfaces);
    }

    /** A Linux interface name as the kernel accepts it (1-15 bytes, no '/', ':' or white space, not . or ..). */
    public static String interfaceName(String name) {
        String n = name == null ? "" : name.strip();
        if (n.isEmpty() || n.length() > 15 || n.equals(".") || n.equals("..") || !n.matches("[^/:\\s]+"))
            throw new IllegalArgumentException("not an interface name: '" + name + "' (e.g. eth1 or the VLAN interface eth0.20)");
        return n;
    }
}
