package dev.netboot.aoe;

/** An AoE target's address: shelf (major, 0..65534) and slot (minor, 0..254); written e1.2 as the Linux driver names it. */
public record TargetAddress(int shelf, int slot) implements Comparable<TargetAddress> {

    public TargetAddress {
        // 0xffff and 0xff are the broadcast values; the Linux driver rejects a reply carrying them.
        if (shelf < 0 || shelf >= AoeHeader.ANY_SHELF) throw new IllegalArgumentException("shelf must be 0..65534, got " + shelf);
        if (slot < 0 || slot >= AoeHeader.ANY_SLOT) throw new IllegalArgumentException("slot must be 0..254, got " + slot);
    }

    /** Parses {@code 1.2} or {@code e1.2}. */
    public static TargetAddress parse(String text) {
        String t = text.trim();
        if (t.startsWith("e")) t = t.substring(1);
        int dot = t.indexOf('.');
        if (dot <= 0) throw new IllegalArgumentException("expected shelf.slot such as 1.0, got '" + text + "'");
        try {
            return new TargetAddress(Integer.parseInt(t.substring(0, dot)), Integer.parseInt(t.substring(dot + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected shelf.slot such as 1.0, got '" + text + "'");
        }
    }

    public boolean matches(int shelfField, int slotField) {
        return (shelfField == AoeHeader.ANY_SHELF || shelfField == shelf) && (slotField == AoeHeader.ANY_SLOT || slotField == slot);
    }

    @Override
    public int compareTo(TargetAddress o) {
        return shelf != o.shelf ? Integer.compare(shelf, o.shelf) : Integer.compare(slot, o.slot);
    }

    @Override
    public String toString() { return shelf + "." + slot; }
}
