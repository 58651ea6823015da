package dev.netboot.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Client disks, the database and the catalog under the data directory are the server's alone. */
class DataDirectoryTest {

    @TempDir Path tmp;

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    static Path file(Path p, String perms) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, "another client's disk\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        return p;
    }

    /** A data directory as the server left it before: everything readable by everyone. */
    Path worldReadable() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path data = Files.createDirectories(tmp.resolve("data"));
        for (Path d : new Path[] {data, Files.createDirectories(data.resolve("disks")), Files.createDirectories(data.resolve("images/demo"))}) {
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        file(data.resolve("inventory.mv.db"), "rw-r--r--");
        file(data.resolve("disks/client-525400000001.img"), "rw-r--r--");
        file(data.resolve("images/demo/disk.img"), "rw-rw-r--");
        file(data.resolve("aoe/disks.json"), "rw-r--r--");
        file(data.resolve("images/demo/bin/busybox"), "rwxr-xr-x");
        return data;
    }

    @Test
    void existingDataDirectoryIsTightenedFolders0700Files0600() throws Exception {
        Path data = worldReadable();
        Path outside = file(tmp.resolve("operator-file"), "rw-r--r--");
        Files.createSymbolicLink(data.resolve("link-out"), outside);

        int changed = DataDirectory.secure(data);

        assertThat(changed).as("6 folders and 5 files were open to others").isEqualTo(11);
        assertThat(mode(data)).isEqualTo("rwx------");
        assertThat(mode(data.resolve("disks"))).isEqualTo("rwx------");
        assertThat(mode(data.resolve("images/demo"))).isEqualTo("rwx------");
        assertThat(mode(data.resolve("inventory.mv.db"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("disks/client-525400000001.img"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("images/demo/disk.img"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("aoe/disks.json"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("images/demo/bin/busybox"))).as("owner's execute bit stays").isEqualTo("rwx------");
        assertThat(mode(outside)).as("a link is not followed out").isEqualTo("rw-r--r--");
        assertThat(DataDirectory.secure(data)).as("nothing left to change").isZero();
    }

    @Test
    void aMissingDataDirectoryIsCreated0700() throws Exception {
        Path data = tmp.resolve("new/data");
        DataDirectory.secure(data);
        assertThat(mode(data)).isEqualTo("rwx------");
    }

    @Test
    void anotherLocalUserCannotReadAClientsDisk() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("needs root for setpriv").isZero();
        Path data = worldReadable();
        Path disk = data.resolve("disks/client-525400000001.img");

        DataDirectory.secure(data);
        // Even with the folders opened up again by hand, the file itself is the server's alone.
        for (Path d : new Path[] {data, data.resolve("disks")}) Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));

        Process p = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "cat", disk.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero();
        assertThat(out).contains("Permission denied").doesNotContain("another client's disk");
    }
}
