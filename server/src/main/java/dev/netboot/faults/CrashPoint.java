package dev.netboot.faults;

/**
 * Named steps of the multi-step changes (image import and removal, assigning and removing a disk)
 * where a crash-recovery test can stop the real process: started with
 * {@code -Dnetboot.crashAt=NAME}, it halts there with status 137 as SIGKILL would (no shutdown
 * hooks, nothing closed or flushed; the page cache stays). Without the property it costs one string
 * comparison.
 */
public final class CrashPoint {

    private static final String AT = System.getProperty("netboot.crashAt", "");

    private CrashPoint() {}

    public static void reached(String name) {
        if (!AT.equals(name)) return;
        System.err.println("netboot: halting at crash point " + name);
        System.err.flush();
        Runtime.getRuntime().halt(137);
    }
}
