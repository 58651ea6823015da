package dev.netboot.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A disk file's identity survives writes and rereads, and a new file under the same path has another. */
class FileIdentityTest {

    @TempDir Path dir;

    @Test
    void aFileKeepsItsTagAndANewFileAtThePathGetsAnother() throws Exception {
        Path disk = dir.resolve("e1.0.img");
        Files.write(disk, new byte[4096]);
        assertThat(FileIdentity.peek(disk)).as("peek never tags").isEmpty();
        String first = FileIdentity.of(disk);
        // tmpfs before Linux 6.6 has no user extended attributes: there a disk has no identity (and nothing breaks).
        org.junit.jupiter.api.Assumptions.assumeFalse(first.isEmpty(), "no user extended attributes on " + Files.getFileStore(dir));
        assertThat(first).hasSize(16);
        Files.write(disk, new byte[8192], java.nio.file.StandardOpenOption.APPEND);
        assertThat(FileIdentity.of(disk)).isEqualTo(first);
        assertThat(FileIdentity.peek(disk)).isEqualTo(first);

        // Re-imaged: the old file deleted, a new one made at the same path (ext4 hands out the same inode number).
        Files.delete(disk);
        Files.write(disk, new byte[4096]);
        assertThat(FileIdentity.peek(disk)).isEmpty();
        assertThat(FileIdentity.of(disk)).isNotEqualTo(first).hasSize(16);
    }

    @Test
    void whatIsNotARegularFileHasNoIdentity() throws Exception {
        assertThat(FileIdentity.of(dir)).isEmpty();
        assertThat(FileIdentity.of(dir.resolve("missing"))).isEmpty();
    }
}
