package dev.netboot.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DirectoryFileProviderTest {

    @TempDir
    Path dir;

    private Lookup open(DirectoryFileProvider provider, String path) {
        return provider.open(new FileRequest(path, new InetSocketAddress("127.0.0.1", 1), "test"));
    }

    @Test
    void servesFilesAndLinksThatStayInside() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(Files.createDirectories(root.resolve("boot")).resolve("menu.cfg"), "menu");
        Files.createSymbolicLink(root.resolve("alias.cfg"), root.resolve("boot/menu.cfg"));
        var provider = new DirectoryFileProvider(root, false);
        for (String path : new String[]{"boot/menu.cfg", "alias.cfg", "boot\\menu.cfg"}) {
            Lookup lookup = open(provider, path);
            assertThat(lookup).as(path).isInstanceOf(Lookup.Found.class);
            try (ServedFile file = ((Lookup.Found) lookup).file()) {
                ByteBuffer b = ByteBuffer.allocate(10);
                assertThat(file.read(0, b)).isEqualTo(4);
                assertThat(file.size()).isEqualTo(4);
            }
        }
    }

    @Test
    void refusesSymlinksThatLeadOutside() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(dir.resolve("secret"), "secret");
        Files.createSymbolicLink(root.resolve("leak"), dir.resolve("secret"));
        Files.createSymbolicLink(root.resolve("up"), dir);
        var provider = new DirectoryFileProvider(root, false);
        assertThat(open(provider, "leak")).isInstanceOf(Lookup.Refused.class);
        assertThat(open(provider, "up/secret")).isInstanceOf(Lookup.Refused.class);
    }

    @Test
    void missingFilesAndDirectoriesAreNotFound() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("sub"));
        var provider = new DirectoryFileProvider(root, false);
        assertThat(open(provider, "nothing")).isInstanceOf(Lookup.NotFound.class);
        assertThat(open(provider, "sub")).isInstanceOf(Lookup.NotFound.class);
    }

    @Test
    void smallFilesAreReadWholeAndStayAsTheyWereWhenOpened() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        byte[] content = new byte[DirectoryFileProvider.READ_WHOLE_BYTES];
        new java.util.Random(3).nextBytes(content);
        Files.write(root.resolve("normal.mod"), content);
        var provider = new DirectoryFileProvider(root, false);
        Lookup atOnce = provider.openAtOnce(new FileRequest("normal.mod", new InetSocketAddress("127.0.0.1", 1), "test")).orElseThrow();
        try (ServedFile file = ((Lookup.Found) atOnce).file()) {
            assertThat(file).isInstanceOf(BytesFile.class);
            Files.write(root.resolve("normal.mod"), new byte[10]);   // replaced while served: the client still gets one whole file
            assertThat(file.size()).isEqualTo(content.length);
            assertThat(file.slice(content.length - 1000, 1024)).isEqualTo(ByteBuffer.wrap(content, content.length - 1000, 1000));
        }
        Files.write(root.resolve("kernel"), new byte[DirectoryFileProvider.READ_WHOLE_BYTES + 1]);
        try (ServedFile file = ((Lookup.Found) open(provider, "kernel")).file()) {
            assertThat(file).isInstanceOf(DirectoryFileProvider.MappedFile.class);
        }
    }

    @Test
    void slicesOfAMappedFileAreViewsWithTheFilesBytes() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        byte[] content = new byte[DirectoryFileProvider.READ_WHOLE_BYTES + 10_000];
        new java.util.Random(7).nextBytes(content);
        Files.write(root.resolve("kernel"), content);
        try (ServedFile file = ((Lookup.Found) open(new DirectoryFileProvider(root, false), "kernel")).file()) {
            for (int position : new int[]{0, 1024, content.length - 784, content.length - 1, content.length}) {
                ByteBuffer slice = file.slice(position, 1024);
                int expected = Math.min(1024, content.length - position);
                assertThat(slice.remaining()).as("at %d", position).isEqualTo(expected);
                assertThat(slice.isReadOnly()).isTrue();
                assertThat(slice).isEqualTo(ByteBuffer.wrap(content, position, expected));
            }
            // A view of the mapping, not a copy on the heap: a TFTP block costs no garbage of its size.
            assertThat(file.slice(1024, 1024).isDirect()).isTrue();
        }
    }

    @Test
    void aMappedFileTruncatedWhileServedFailsTheSliceNotTheCopyAfterIt() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.write(root.resolve("kernel"), new byte[DirectoryFileProvider.READ_WHOLE_BYTES + 64 * 1024]);
        try (ServedFile file = ((Lookup.Found) open(new DirectoryFileProvider(root, false), "kernel")).file()) {
            truncateAndExpectTheSliceToFail(root.resolve("kernel"), file);
            assertThat(file.slice(0, 1024).remaining()).as("the part still there").isEqualTo(1024);
        }
    }

    /** As above, once the JIT has compiled slice() (a kernel served to a few PCs): the truncation still fails the slice. */
    @Test
    void aCompiledSliceStillFindsATruncation() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.write(root.resolve("kernel"), new byte[DirectoryFileProvider.READ_WHOLE_BYTES + 64 * 1024]);
        try (ServedFile file = ((Lookup.Found) open(new DirectoryFileProvider(root, false), "kernel")).file()) {
            long sum = 0;
            for (int i = 0; i < 200_000; i++) sum += file.slice((i % 100) * 1024L, 1024).remaining();
            assertThat(sum).isEqualTo(200_000L * 1024);
            truncateAndExpectTheSliceToFail(root.resolve("kernel"), file);
        }
    }

    /** What `cp new-kernel kernel` does to a file being served: the mapping now reaches past its end. */
    private static void truncateAndExpectTheSliceToFail(Path kernel, ServedFile file) throws Exception {
        try (var channel = java.nio.channels.FileChannel.open(kernel, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(4096);
        }
        // slice() turns the fault into an IOException; where HotSpot delivers the fault of compiled code at a later
        // safepoint poll, its InternalError leaves slice() instead: ReadTransfer and TransferHandler take both.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> file.slice(DirectoryFileProvider.READ_WHOLE_BYTES, 1024))
                .satisfiesAnyOf(
                        e -> assertThat(e).isInstanceOf(java.io.IOException.class).hasMessageContaining("changed while being served"),
                        e -> assertThat(e).isInstanceOf(InternalError.class));
    }

    @Test
    void concatenatedContentSlicesEachPieceAndCopiesOnlyAcrossTheSeam() throws Exception {
        byte[] a = "0123456789".getBytes(), b = "abcdefghij".getBytes();
        var file = new ConcatenatedFile(new BytesFile(a), new BytesFile(b));
        assertThat(file.slice(2, 4)).isEqualTo(ByteBuffer.wrap("2345".getBytes()));
        assertThat(file.slice(8, 4)).isEqualTo(ByteBuffer.wrap("89ab".getBytes()));
        assertThat(file.slice(12, 4)).isEqualTo(ByteBuffer.wrap("cdef".getBytes()));
        assertThat(file.slice(18, 4)).isEqualTo(ByteBuffer.wrap("ij".getBytes()));
        assertThat(file.slice(20, 4).remaining()).isZero();
    }
}
