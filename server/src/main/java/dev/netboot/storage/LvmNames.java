package dev.netboot.storage;

import java.util.List;
import java.util.regex.Pattern;

/**
 * LVM's rules for volume group and logical volume names (lvm(8), "VALID NAMES"). Checked before any
 * name reaches a command line: what passes contains only [A-Za-z0-9+_.-] and cannot be read as an option.
 */
final class LvmNames {

    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}");
    // Suffixes LVM uses for the hidden sub-volumes of pools, mirrors and caches.
    private static final List<String> RESERVED_PARTS = List.of("_cdata", "_cmeta", "_corig", "_iorig", "_mimage",
            "_mlog", "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin");

    private LvmNames() {}

    static String checkVolumeGroup(String name) {
        return checkCommon("volume group", name);
    }

    static String checkVolume(String name) {
        checkCommon("logical volume", name);
        if (name.startsWith("snapshot") || name.startsWith("pvmove"))
            throw new IllegalArgumentException("logical volume name " + name + " starts with a prefix LVM reserves (snapshot, pvmove)");
        for (String part : RESERVED_PARTS)
            if (name.contains(part)) throw new IllegalArgumentException("logical volume name " + name + " contains " + part + ", which LVM reserves");
        return name;
    }

    private static String checkCommon(String kind, String name) {
        if (name == null || !ALLOWED.matcher(name).matches() || name.equals(".") || name.equals(".."))
            throw new IllegalArgumentException(kind + " name " + (name == null ? "null" : "'" + name + "'")
                    + " is not valid: 1 to 127 of A-Z a-z 0-9 + _ . -, not starting with '-', not . or ..");
        return name;
    }
}
