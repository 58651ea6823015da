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
}
