package dev.netboot.aoe;

/**
 * The AoE header (AoE r11 section 2) after the Ethernet addresses and type: version, flags, error,
 * major (shelf), minor (slot), command and the initiator's opaque tag.
 */
public record AoeHeader(int version, boolean response, boolean error, int errorCode, int shelf, int slot, int command, int tag) {

    public static final int VERSION = 1;
    public static final int FLAG_RESPONSE = 0x08;
    public static final int FLAG_ERROR = 0x04;
    /** Shelf and slot values that address every target in a broadcast. */
    public static final int ANY_SHELF = 0xFFFF;
    public static final int ANY_SLOT = 0xFF;

    public AoeHeader {
        if (version < 0 || version > 15) throw new IllegalArgumentException("version " + version);
        if (errorCode < 0 || errorCode > 255) throw new IllegalArgumentException("error " + errorCode);
        if (shelf < 0 || shelf > 0xFFFF) throw new IllegalArgumentException("shelf " + shelf);
        if (slot < 0 || slot > 0xFF) throw new IllegalArgumentException("slot " + slot);
        if (command < 0 || command > 0xFF) throw new IllegalArgumentException("command " + command);
    }

    /** The header of our reply to this request: same tag and command, the answering target's address. */
    public AoeHeader reply(int replyShelf, int replySlot) {
        return new AoeHeader(VERSION, true, false, 0, replyShelf, replySlot, command, tag);
    }

    public AoeHeader withError(AoeError e) {
        return new AoeHeader(version, response, true, e.code(), shelf, slot, command, tag);
    }

    public boolean addressesAll() { return shelf == ANY_SHELF || slot == ANY_SLOT; }
}
