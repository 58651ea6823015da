package dev.netboot.tftp;

import dev.netboot.files.BytesFile;
import dev.netboot.files.ServedFile;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Netascii converted block by block, as a transfer reads it: forwards, with resends inside the window. */
class NetasciiTest {

    /** The reference: RFC 1350's rule applied to the whole content at once. */
    static byte[] reference(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte b : raw) {
            if (b == '\n') out.write('\r');
            out.write(b);
            if (b == '\r') out.write(0);
        }
        return out.toByteArray();
    }

    /** Reads blocks like a transfer with this window: forwards, and now and then back to a block inside the window. */
    static byte[] readLikeATransfer(ServedFile file, int blockSize, int window, long seed) throws Exception {
        Random random = new Random(seed);
        byte[] out = new byte[(int) file.size()];
        long blocks = file.size() / blockSize + 1;
        for (long block = 1; block <= blocks; block++) {
            if (block > window && random.nextInt(4) == 0) {
                long back = block - 1 - random.nextInt(window);      // a resend from inside the window
                assertThat(readBlock(file, back, blockSize)).isEqualTo(slice(out, back, blockSize));
            }
            byte[] data = readBlock(file, block, blockSize);
            System.arraycopy(data, 0, out, (int) ((block - 1) * blockSize), data.length);
        }
        return out;
    }

    static byte[] readBlock(ServedFile file, long block, int blockSize) throws Exception {
        long offset = (block - 1) * blockSize;
        ByteBuffer b = ByteBuffer.allocate((int) Math.max(0, Math.min(blockSize, file.size() - offset)));
        assertThat(file.read(offset, b)).isEqualTo(b.capacity());
        byte[] bytes = new byte[b.capacity()];
        b.flip().get(bytes);
        return bytes;
    }

    static byte[] slice(byte[] all, long block, int blockSize) {
        int from = (int) ((block - 1) * blockSize);
        return java.util.Arrays.copyOfRange(all, from, Math.min(all.length, from + blockSize));
    }

    @Provide
    Arbitrary<byte[]> texts() {
        // Mostly line ends, so that pairs straddle block boundaries often.
        return Arbitraries.of((byte) '\n', (byte) '\r', (byte) 'a', (byte) 0, (byte) 'z').array(byte[].class).ofMaxSize(3000);
    }

    @Property(tries = 300)
    void blockByBlockEqualsTheWholeConversion(@ForAll("texts") byte[] raw, @ForAll @IntRange(min = 1, max = 70) int blockSize,
                                              @ForAll @IntRange(min = 1, max = 8) int window, @ForAll long seed) throws Exception {
        ServedFile file = Netascii.convert(new BytesFile(raw));
        byte[] expected = reference(raw);
        assertThat(file.size()).isEqualTo(expected.length);
        assertThat(readLikeATransfer(file, blockSize, window, seed)).isEqualTo(expected);
    }

    /** A large file of text, generated as read; remembers the largest buffer a reader asked for. */
    static final class LargeText implements ServedFile {
        final long size;
        int largestRead;
        LargeText(long size) { this.size = size; }
        static byte at(long i) { return (byte) (i % 61 == 60 ? '\n' : i % 97 == 0 ? '\r' : 'a' + (i % 26)); }
        @Override public long size() { return size; }
        @Override public int read(long position, ByteBuffer dst) {
            largestRead = Math.max(largestRead, dst.remaining());
            int n = (int) Math.min(dst.remaining(), size - position);
            for (int i = 0; i < n; i++) dst.put(at(position + i));
            return n;
        }
        @Override public void close() {}
    }

    @Test
    void a33MiBFileIsConvertedWithoutAWholeCopy() throws Exception {
        LargeText text = new LargeText(33L << 20);
        ServedFile file = Netascii.convert(text);

        long expectedSize = text.size;
        for (long i = 0; i < text.size; i++) if (LargeText.at(i) == '\n' || LargeText.at(i) == '\r') expectedSize++;
        assertThat(file.size()).isEqualTo(expectedSize);
        // The last block and a block in the middle, as a transfer would read them (a checkpoint per read end).
        ByteBuffer block = ByteBuffer.allocate(1468);
        for (long offset = 0; offset < 4 * 1468; offset += 1468) {
            block.clear();
            assertThat(file.read(offset, block)).isEqualTo(1468);
        }
        assertThat(text.largestRead).as("largest buffer read from the file at once").isLessThanOrEqualTo(Netascii.CHUNK);
    }
}
