package dev.netboot.storage;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalCommandRunnerTest {

    final LocalCommandRunner runner = new LocalCommandRunner();

    @Test
    void separatesStdoutAndStderrAndKeepsTheExitCode() throws IOException {
        CommandRunner.Result r = runner.execute(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));
        assertThat(r).isEqualTo(new CommandRunner.Result(3, "out\n", "err\n"));
    }

    @Test
    void argumentsAreNotShellSyntax() throws IOException {
        CommandRunner.Result r = runner.run(List.of("printf", "%s|", "a b", "$(id)", "x;y"), Duration.ofSeconds(10));
        assertThat(r.stdout()).isEqualTo("a b|$(id)|x;y|");
    }

    @Test
    void aFailureBecomesAnIOExceptionWithTheCommandAndItsStderr() {
        assertThatThrownBy(() -> runner.run(List.of("sh", "-c", "echo nope >&2; exit 4"), Duration.ofSeconds(10)))
                .isInstanceOf(CommandRunner.CommandFailedException.class)
                .hasMessage("sh -c echo nope >&2; exit 4 failed (exit 4): nope");
    }

    @Test
    void aCommandOverItsTimeIsKilled() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> runner.run(List.of("sleep", "30"), Duration.ofMillis(300))).hasMessageContaining("did not finish within");
        assertThat(System.nanoTime() - t0).isLessThan(10_000_000_000L);
    }

    @Test
    void aMissingProgramIsAnIOException() {
        assertThatThrownBy(() -> runner.run(List.of("/nonexistent/lvs"), Duration.ofSeconds(5))).isInstanceOf(IOException.class);
    }
}
