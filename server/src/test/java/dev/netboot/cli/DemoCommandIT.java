package dev.netboot.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** 'netboot demo' as a person runs it (from the project folder): the PC boots and everything is removed afterwards. */
class DemoCommandIT {

    @Test
    void aPcBootsTheDemoImageAndTheLabIsRemovedAfterwards() throws Exception {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        int exit;
        try {
            // Tests run in server/: the recipe is found beside the jar's project (or the current folder).
            exit = Main.commandLine().execute("demo", "--clients", "1", "--quiet");
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String said = e.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(said).isZero();
        assertThat(said).containsPattern("52:54:00:de:00:01: booted in \\d+\\.\\d s");
        Process links = new ProcessBuilder("ip", "-o", "link", "show").start();
        assertThat(new String(links.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).doesNotContain("nbdemo0");
    }
}
