package dev.netboot.replication;

import java.util.List;

/**
 * What a standby makes of the identity of the primary's file for a disk (see {@link BootState.DiskRecord#fileIdentity})
 * next to the one its own copy mirrors (recorded when the copy was made or first seen). Only the primary's word
 * that it replaced that very file — its identity among the files the new one replaced
 * ({@link BootState.DiskRecord#replacedIdentities}) — lets the standby throw its copy away: a primary that was
 * rebuilt, or shows blank or unrelated data, never saw the standby's file and so cannot claim that (DRBD
 * refuses to overwrite unrelated data; so does this).
 */
public enum FileSuccession {
    /** The primary names no identity (an LVM volume, a file system without extended attributes, an older peer): nothing to tell. */
    NO_IDENTITY,
    /** Nothing recorded here yet (a copy from a build without identities): the primary's identity is recorded, nothing else. */
    FIRST_SIGHT,
    /** The copy here mirrors the primary's file now. */
    SAME,
    /** The primary replaced the file this copy mirrors (a PC re-imaged at its address): the copy is discarded, a new one made. */
    REPLACED,
    /** Another file, and the primary does not say it replaced this copy's: the copy is kept (the handshake finds it unrelated). */
    NOT_PROVEN;

    /**
     * @param recorded the primary file this copy mirrors, "" when unknown
     * @param published the primary's file now, "" when it has no identity
     * @param replaced the files the primary's current one replaced at that address
     */
    public static FileSuccession decide(String recorded, String published, List<String> replaced) {
        if (published.isEmpty()) return NO_IDENTITY;
        if (recorded.isEmpty()) return FIRST_SIGHT;
        if (recorded.equals(published)) return SAME;
        return replaced.contains(recorded) ? REPLACED : NOT_PROVEN;
    }
}
