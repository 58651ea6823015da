package dev.netboot.aoe;

/** Command codes of the AoE header. */
public final class AoeCommand {
    public static final int ATA = 0;
    public static final int QUERY_CONFIG = 1;
    public static final int MAC_MASK_LIST = 2;
    public static final int RESERVE_RELEASE = 3;

    private AoeCommand() {}
}
