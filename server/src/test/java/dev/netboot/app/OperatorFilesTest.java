package dev.netboot.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class OperatorFilesTest {

    /** The way the CLI and the server read each other's files: poll for the file, then read it; never a part of it. */
    @Test
    void aReaderPollingForTheFileSeesItWholeOrNotAtAll(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.answer");
        String text = "ok " + "a".repeat(256 * 1024) + "\n";
        AtomicBoolean done = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < 200; i++) {
                    OperatorFiles.put(file, text);
                    Files.delete(file); // as the reader of an answer does
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            } finally {
                done.set(true);
            }
        });
        int seen = 0;
        while (!done.get()) {
            if (!Files.exists(file)) continue;
            try {
                assertThat(Files.readString(file).length()).as("characters a reader found after seeing the file exist").isEqualTo(text.length());
                seen++;
            } catch (NoSuchFileException gone) {
                // deleted between the two looks: the reader polls again
            }
        }
        writer.join();
        assertThat(seen).as("reads that found the file").isPositive();
        try (var left = Files.list(dir)) {
            assertThat(left.toList()).as("no temporary file left behind").isEmpty();
        }
    }
}
