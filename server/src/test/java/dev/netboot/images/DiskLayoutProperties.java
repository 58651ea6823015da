package dev.netboot.images;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A damaged or hostile partition table (entries past the end, an extended partition whose EBR chain
 * loops or points anywhere, a GPT header with absurd counts) never hangs or crashes the import: it
 * finds what is really there or nothing.
 */
class DiskLayoutProperties {

    private static final int DISK = 64 * 1024;

    @Property(tries = 300)
    void anyPartitionTableEndsWithAListNeverAnException(@ForAll("tables") byte[] disk) throws IOException {
        Path file = Files.createTempFile("disklayout", ".img");
        try {
            Files.write(file, disk);
            List<DiskLayout.ExtFilesystem> found = DiskLayout.extFilesystems(file);
            assertThat(found).allSatisfy(fs -> assertThat(fs.offset()).isBetween(0L, (long) DISK));
            assertThat(found).extracting(DiskLayout.ExtFilesystem::number).doesNotHaveDuplicates();
        } finally {
            Files.delete(file);
        }
    }

    /** An MBR with random entries (types chosen among ext, extended and the GPT marker), random EBRs and ext magics sprinkled in. */
    @Provide
    Arbitrary<byte[]> tables() {
        Arbitrary<Integer> type = Arbitraries.of(0x00, 0x83, 0x05, 0x0F, 0x85, 0xEE, 0x82);
        Arbitrary<Integer> sector = Arbitraries.integers().between(0, DISK / 512 + 8);
        Arbitrary<int[]> entry = Combinators.combine(type, sector).as((t, s) -> new int[]{t, s});
        Arbitrary<List<int[]>> entries = entry.list().ofSize(4);
        Arbitrary<List<Integer>> magics = Arbitraries.integers().between(0, DISK / 512 - 4).list().ofMaxSize(8);
        Arbitrary<List<int[]>> ebrs = entry.list().ofMaxSize(6);
        return Combinators.combine(entries, magics, ebrs, Arbitraries.integers().between(-5, 1000)).as((es, ms, bs, gptCount) -> {
            ByteBuffer b = ByteBuffer.allocate(DISK).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                b.put(446 + 16 * i + 4, (byte) es.get(i)[0]);
                b.putInt(446 + 16 * i + 8, es.get(i)[1]);
            }
            b.putShort(510, (short) 0xAA55);
            // EBRs (and GPT entries) at sectors the entries may point to, pointing on at random.
            for (int[] e : bs) {
                int at = Math.min(e[1], DISK / 512 - 1) * 512;
                b.put(at + 446 + 4, (byte) 0x83).putInt(at + 446 + 8, e[1] % 7);
                b.put(at + 446 + 16 + 4, (byte) 0x05).putInt(at + 446 + 16 + 8, e[1] % 5);
                b.putShort(at + 510, (short) 0xAA55);
            }
            b.putLong(512, 0x5452415020494645L).putLong(512 + 72, 2).putInt(512 + 80, gptCount).putInt(512 + 84, 128);
            for (int s : ms) b.putShort(s * 512 + 1024 + 56, (short) 0xEF53);
            return b.array();
        });
    }
}
