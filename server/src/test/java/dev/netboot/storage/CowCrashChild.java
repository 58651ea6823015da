package dev.netboot.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

/**
 * Runs in its own JVM for {@link CowBlockStoreCrashTest}: writes a known sequence into a clone and
 * reports what must survive ("FLUSHED n": writes 0..n were followed by a completed flush; with
 * syncWrites, or with neither ({@code ack}: what the AoE server acknowledges to the Linux driver,
 * which never sends FLUSH), "WRITTEN n": write n returned), until the test kills it with SIGKILL.
 *
 * <p>Arguments: overlay, {@code flush}, {@code sync} or {@code ack}, seed. Or overlay, {@code flatten}: flattens
 * with a checkpoint every MiB and prints "DONE n" after each MiB.
 */
public final class CowCrashChild {

    static final int SLOT = 8192;
    private static final int STRIDE = 1031; // odd, so slot = i * STRIDE mod slots visits every slot, spread over the disk

    /** Write {@code i} of the sequence: each pass writes a random part of every 8 KiB slot once. */
    record Planned(long offset, byte[] data) {}

    static Planned planned(long seed, int i, long diskSize) {
        int slots = (int) (diskSize / SLOT);
        Random r = new Random(seed * 1_000_003L + i);
        int slot = (int) ((long) i * STRIDE % slots);
        int start, length;
        if (r.nextBoolean()) { // whole aligned chunks: the path without copy-up
            start = 4096 * r.nextInt(2);
            length = 4096 * (1 + r.nextInt((SLOT - start) / 4096));
        } else { // anything, mostly a partial first write that copies the chunk up
            start = r.nextInt(SLOT);
            length = 1 + r.nextInt(SLOT - start);
        }
        byte[] data = new byte[length];
        r.nextBytes(data);
        return new Planned((long) slot * SLOT + start, data);
    }

    static int writes(long diskSize) { return 2 * (int) (diskSize / SLOT); }

    public static void main(String[] args) throws Exception {
        Path overlay = Path.of(args[0]);
        if (args[1].equals("flatten")) {
            Flattener.flatten(overlay, (phase, done, total) -> {
                System.out.println("DONE " + done);
                System.out.flush();
            }, 1 << 20);
            System.out.println("FLAT");
            return;
        }
        boolean sync = args[1].equals("sync");
        boolean flushes = args[1].equals("flush");
        long seed = Long.parseLong(args[2]);
        try (CowBlockStore store = CowBlockStore.open(overlay, sync)) {
            int total = writes(store.size());
            for (int i = 0; i < total; i++) {
                Planned p = planned(seed, i, store.size());
                store.write(p.offset(), ByteBuffer.wrap(p.data()));
                if (!flushes) {
                    System.out.println("WRITTEN " + i);
                } else if (i % 4 == 3) {
                    store.flush();
                    System.out.println("FLUSHED " + i);
                }
                System.out.flush();
            }
        }
        System.out.println("DONE");
    }
}
