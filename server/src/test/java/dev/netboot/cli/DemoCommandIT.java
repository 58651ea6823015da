package dev.netboot.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** 'netboot demo' as a person runs it (from the project folder): the PC boots and everything is removed afterwards. */
class DemoCommandIT {

    @Test
    void aPcBootsTheDemoImageAndTheLabIsRemovedAfterwards() throws Exception {
        // Tests run in server/: the recipe is found beside the project the classes were built in.
        CliRun demo = CliRun.netboot(java.util.List.of("demo", "--clients", "1", "--quiet"));
        String said = demo.err();
        int exit = demo.exit();
        assertThat(exit).as(said).isZero();
        assertThat(said).containsPattern("52:54:00:de:00:01: booted in \\d+\\.\\d s");
        Process links = new ProcessBuilder("ip", "-o", "link", "show").start();
        assertThat(new String(links.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).doesNotContain("nbdemo0");
    }
}
