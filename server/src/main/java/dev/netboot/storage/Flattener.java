package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a clone into a standalone disk at the same path: copies every chunk still in the base
 * into the overlay, then deletes the sidecar. Restartable: progress is flushed (data, then map)
 * every {@value #CHECKPOINT_BYTES} bytes, so a crash or an interruption leaves a usable clone that
 * a second run finishes from where the last checkpoint was. Deleting the sidecar is the commit
 * point and comes only after the overlay holds every byte durably.
 */
public final class Flattener {


    static final long CHECKPOINT_BYTES = 256L << 20;
    private static final int RUN_CHUNKS = 256; // 1 MiB per base read and per progress update

    private Flattener() {}

    /** Flattens the clone at {@code overlay}; {@code progress} hears about every MiB. */
    public static void flatten(Path overlay, Progress progress) throws IOException {
        flatten(overlay, progress, CHECKPOINT_BYTES);
    }

    static void flatten(Path overlay, Progress progress, long checkpointBytes) throws IOException {
        try (CowBlockStore store = CowBlockStore.open(overlay, false)) {
            AllocationMap map = store.map();
            long total = store.size(), chunks = map.chunks();
            ByteBuffer scratch = ByteBuffer.allocateDirect(RUN_CHUNKS * CowBlockStore.CHUNK_SIZE);
            long sinceCheckpoint = 0;
            progress.update("flattening " + overlay.getFileName(), 0, total);
            for (long first = 0; first < chunks; first += RUN_CHUNKS) {
                int count = (int) Math.min(RUN_CHUNKS, chunks - first);
                store.copyUpFromBase(first, count, scratch);
                sinceCheckpoint += (long) count * CowBlockStore.CHUNK_SIZE;
                if (sinceCheckpoint >= checkpointBytes) {
                    store.flush();
                    sinceCheckpoint = 0;
                }
                progress.update("flattening " + overlay.getFileName(), Math.min(total, (first + count) * CowBlockStore.CHUNK_SIZE), total);
            }
            store.flush();
            if (!map.complete()) throw new IOException("flattening " + overlay + " left " + (chunks - map.allocatedChunks()) + " chunks in the base");
            Path sidecar = store.sidecar();
            // The commit point: from here on the overlay is a plain disk.
            Files.delete(sidecar);
            CowBlockStore.syncDirectory(sidecar.toAbsolutePath().getParent());
        }
    }
}
