package dev.netboot.app;

import dev.netboot.tftp.RetransmitPolicy;
import dev.netboot.tftp.TftpSettings;
import dev.netboot.transport.Transport;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The warm-up serves every kind of content over loopback to its end (it checks each size itself and throws on a
 * short or failed read), so a content kind that stops serving fails here instead of only logging one line at start.
 */
class TftpWarmUpTest {

    private final EventLoopGroup group = Transport.best().newGroup(1);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void servesEveryKindOfContentToItsEndAndLeavesNoScratchFiles(@TempDir Path data) throws IOException, InterruptedException {
        TftpSettings settings = new TftpSettings(new InetSocketAddress("127.0.0.1", 69), 16, 1468, 100, 32,
                RetransmitPolicy.defaults());

        // One round: 8 modules, a menu, a size query, a 2 MiB kernel, an initrd, an installer's initrd.
        Duration took = TftpWarmUp.run(1, settings, Transport.best(), group, data);

        assertThat(took).isPositive();
        try (var left = Files.list(data)) {
            assertThat(left).as("the warm-up's scratch directory is removed").isEmpty();
        }
    }
}
