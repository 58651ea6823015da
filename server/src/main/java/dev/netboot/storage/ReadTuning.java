package dev.netboot.storage;

/**
 * How a file-backed disk serves reads: measured choices, set in the config's {@code tuning} section
 * (docs/aoe.md has the figures), never through system properties.
 *
 * @param zeroCopyReads reads of more than a page go out straight from a read-only mapping of the file
 *                      (one copy instead of two); off: every read is a pread
 * @param mmapReads     the whole disk is mapped read-write and served from the mapping (measured slower
 *                      under writes; kept for comparison)
 */
public record ReadTuning(boolean zeroCopyReads, boolean mmapReads) {
    public static final ReadTuning DEFAULT = new ReadTuning(true, false);
}
