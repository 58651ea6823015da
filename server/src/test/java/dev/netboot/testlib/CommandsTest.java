package dev.netboot.testlib;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one way tests run host commands must keep its promises: a timeout that fires while the program
 * still writes or sleeps (the local copies it replaced read all output first, so theirs never did), and
 * output larger than a pipe's buffer that does not block the program.
 */
class CommandsTest {

    @Test
    void aCommandThatOutlivesItsTimeoutIsKilledAtTheTimeout() {
        long started = System.nanoTime();
        assertThatThrownBy(() -> Commands.run(Duration.ofMillis(500), List.of("sh", "-c", "echo started; sleep 30")))
                .isInstanceOf(CommandException.class).hasMessageContaining("timed out").hasMessageContaining("started");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void moreOutputThanAPipeHoldsNeitherBlocksNorIsLost() {
        CommandResult r = Commands.runOk(Duration.ofSeconds(20), List.of("sh", "-c", "head -c 1000000 /dev/zero | tr '\\\\0' x; echo err >&2"));
        assertThat(r.stdout()).hasSize(1_000_000);
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void aFailedCommandSaysItsExitCodeAndOutput() {
        assertThatThrownBy(() -> Commands.runOk(Duration.ofSeconds(5), List.of("sh", "-c", "echo why >&2; exit 3")))
                .hasMessageContaining("exit code 3").hasMessageContaining("why");
    }
}
