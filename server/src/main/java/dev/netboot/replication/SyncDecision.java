package dev.netboot.replication;

/** What a node does with one disk after comparing generation identifiers with its peer. */
public enum SyncDecision {
    /** Both copies hold the same data. */
    NO_SYNC,
    /** Send the regions in the (merged) dirty bitmaps to the peer. */
    BITMAP_SOURCE,
    /** Receive the regions in the (merged) dirty bitmaps from the peer. */
    BITMAP_TARGET,
    /** The peer's copy is blank or too old for the bitmap: send every region. */
    FULL_SOURCE,
    /** This copy is blank or too old: receive every region. */
    FULL_TARGET,
    /** Both wrote while apart: stop syncing this disk until the operator discards one side. */
    SPLIT_BRAIN,
    /** The copies share no history: refuse to touch either. */
    UNRELATED;

    /** What the peer decides when this node decides {@code this}. */
    public SyncDecision mirror() {
        return switch (this) {
            case BITMAP_SOURCE -> BITMAP_TARGET;
            case BITMAP_TARGET -> BITMAP_SOURCE;
            case FULL_SOURCE -> FULL_TARGET;
            case FULL_TARGET -> FULL_SOURCE;
            default -> this;
        };
    }

    public boolean isSource() { return this == BITMAP_SOURCE || this == FULL_SOURCE; }
    public boolean isTarget() { return this == BITMAP_TARGET || this == FULL_TARGET; }
}
