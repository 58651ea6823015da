package dev.netboot.tftp;

import dev.netboot.files.ServedFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;

/**
 * RFC 1350 netascii: LF becomes CR LF and a bare CR becomes CR NUL, converted as blocks are read, never
 * held whole (a whole copy per transfer was ~33 MiB: 250 requests filled a 6 GB heap).
 *
 * <p>The converted size (tsize, and where the last block ends) costs one counting pass over the file.
 * A transfer reads forwards and resends only inside its window, so every read starts where a recent
 * read ended: a checkpoint (converted offset, raw offset, half-written pair). A bounded number of them is
 * kept; a read before all of them converts from the start again (correct, only slower).
 */
final class Netascii implements ServedFile {

    /** Raw bytes read from the file at a time. */
    static final int CHUNK = 8192;
    private static final int MAX_CHECKPOINTS = 1024;

    /** Where the conversion stands: {@code pending} is the second byte of a pair not yet emitted, or -1. */
    private record Cursor(long converted, long raw, int pending) {}

    private final ServedFile raw;
    private final long size;
    private final TreeMap<Long, Cursor> checkpoints = new TreeMap<>();

    private Netascii(ServedFile raw, long size) {
        this.raw = raw;
        this.size = size;
        checkpoints.put(0L, new Cursor(0, 0, -1));
    }

    /** Wraps {@code file}; the wrapper owns it (closing one closes both). */
    static ServedFile convert(ServedFile file) throws IOException {
        return new Netascii(file, convertedSize(file));
    }

    private static long convertedSize(ServedFile file) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        long size = 0;
        for (long position = 0; position < file.size(); ) {
            chunk.clear();
            int n = file.read(position, chunk);
            if (n <= 0) throw new IOException("file shrank while being converted to netascii");
            for (int i = 0; i < n; i++) {
                byte b = chunk.get(i);
                size += b == '\n' || b == '\r' ? 2 : 1;
            }
            position += n;
        }
        return size;
    }

    @Override public long size() { return size; }

    @Override
    public synchronized int read(long position, ByteBuffer dst) throws IOException {
        if (position >= size || !dst.hasRemaining()) return 0;
        Cursor from = checkpoints.floorEntry(position).getValue();
        ByteBuffer chunk = ByteBuffer.allocate(Math.min(CHUNK, Math.max(1, dst.remaining())));
        // Convert from the checkpoint, dropping what lies before position, keeping what fits in dst.
        long converted = from.converted();
        long rawPos = from.raw();
        int pending = from.pending();
        int written = 0;
        while (dst.hasRemaining() && converted < size) {
            if (pending >= 0) {
                if (converted >= position) { dst.put((byte) pending); written++; }
                converted++;
                pending = -1;
            } else {
                chunk.clear();
                chunk.limit((int) Math.min(chunk.capacity(), raw.size() - rawPos));
                int n = raw.read(rawPos, chunk);
                if (n <= 0) throw new IOException("file shrank while being served in netascii mode");
                int i = 0;
                for (; i < n && dst.hasRemaining(); i++) {
                    byte b = chunk.get(i);
                    byte first = b == '\n' ? (byte) '\r' : b;
                    int second = b == '\n' ? '\n' : b == '\r' ? 0 : -1;
                    if (converted >= position) { dst.put(first); written++; }
                    converted++;
                    if (second >= 0) {
                        if (converted >= position && dst.hasRemaining()) { dst.put((byte) second); written++; converted++; }
                        else if (converted >= position) { pending = second; i++; break; }
                        else converted++;
                    }
                }
                rawPos += i;
            }
        }
        // The next block starts here, and a resend starts at some block's start: both find this.
        remember(new Cursor(converted, rawPos, pending));
        return written;
    }

    private void remember(Cursor c) {
        checkpoints.put(c.converted(), c);
        while (checkpoints.size() > MAX_CHECKPOINTS) {
            Map.Entry<Long, Cursor> oldest = checkpoints.higherEntry(0L); // the start stays: the fallback
            checkpoints.remove(oldest.getKey());
        }
    }

    @Override
    public void close() { raw.close(); }
}
