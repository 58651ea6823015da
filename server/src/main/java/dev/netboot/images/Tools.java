package dev.netboot.images;

import dev.netboot.storage.CommandRunner;
import dev.netboot.storage.LocalCommandRunner;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The system tools an import uses: GNU tar keeps owners, modes, device nodes and xattrs of a root
 * filesystem, which no Java archive library restores; e2fsprogs builds and reads ext4. Run as argv,
 * never through a shell, so image and file names cannot inject anything.
 */
final class Tools {

    private static final CommandRunner RUNNER = new LocalCommandRunner();

    private Tools() {}

    static String run(Duration timeout, List<String> argv) throws IOException {
        try {
            return RUNNER.run(argv, timeout).stdout();
        } catch (CommandRunner.CommandFailedException e) {
            throw e;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("error=2,")) {
                throw new IOException(argv.getFirst() + " is not installed (Debian: apt-get install "
                        + (argv.getFirst().equals("tar") ? "tar" : "e2fsprogs") + ")", e);
            }
            throw e;
        }
    }
}
