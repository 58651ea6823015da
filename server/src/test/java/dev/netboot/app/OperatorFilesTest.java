package dev.netboot.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class OperatorFilesTest {

    /**
     * The way the CLI and the server read each other's files: poll for the file, then read it; never a part of it.
     * The writer goes on until the reader has read the file many times (not for a fixed count, which on a busy
     * machine could pass before the reader ever looked), replacing it with texts of two lengths and now and then
     * removing it as the reader of an answer does.
     */
    @Test
    void aReaderPollingForTheFileSeesItWholeOrNotAtAll(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.answer");
        String a = "ok " + "a".repeat(256 * 1024) + "\n";
        String b = "ok " + "b".repeat(100 * 1024) + "\n";
        AtomicInteger seen = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; seen.get() < 200 && i < 1_000_000; i++) {
                    OperatorFiles.put(file, i % 2 == 0 ? a : b);
                    if (i % 7 == 6) Files.delete(file);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            } finally {
                done.set(true);
            }
        });
        while (!done.get()) {
            if (!Files.exists(file)) continue;
            try {
                String got = Files.readString(file);
                assertThat(got.length()).as("characters a reader found after seeing the file exist")
                        .isIn(a.length(), b.length());
                assertThat(got.equals(a) || got.equals(b)).as("the reader found one whole text").isTrue();
                seen.incrementAndGet();
            } catch (NoSuchFileException gone) {
                // deleted between the two looks: the reader polls again
            }
        }
        writer.join();
        assertThat(seen.get()).as("reads that found the file").isPositive();
        try (var left = Files.list(dir)) {
            assertThat(left.filter(p -> !p.equals(file)).toList()).as("no temporary file left behind").isEmpty();
        }
    }
}
