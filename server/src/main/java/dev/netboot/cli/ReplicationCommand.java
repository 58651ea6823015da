package dev.netboot.cli;

import dev.netboot.app.FailoverService;
import dev.netboot.app.ReplicationService;
import dev.netboot.config.NetbootConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;

@Command(name = "replication", mixinStandardHelpOptions = true, description = "The replicated standby (docs/replication.md).",
        subcommands = {ReplicationCommand.Switchover.class})
final class ReplicationCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot replication switchover'.");
    }

    @Command(name = "switchover", mixinStandardHelpOptions = true,
            description = {"Move the primary role to the peer with no write lost (planned maintenance): run on the primary.",
                    "It releases the service address, lets every write in flight complete on both copies, and hands the role over;",
                    "the peer takes it with the next term and announces itself. Refused unless connected and in sync."})
    static final class Switchover implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long to wait for the peer to take over (default ${DEFAULT-VALUE})")
        int timeout = 30;

        @Override
        public Integer call() throws Exception {
            NetbootConfig config = configOptions.load();
            Path dir = ReplicationService.stateDir(Path.of(config.dataDir()));
            if (!config.replication().failover()) {
                System.err.println("replication.serviceMac is not set: this server has no failover to switch over");
                return 2;
            }
            String nonce = HexFormat.of().formatHex(SecureRandom.getSeed(8));
            Path result = dir.resolve("switchover." + nonce + ".result");
            Files.writeString(dir.resolve(FailoverService.SWITCHOVER_REQUEST), nonce + "\n");
            long deadline = System.nanoTime() + timeout * 1_000_000_000L;
            while (!Files.exists(result)) {
                if (System.nanoTime() > deadline) {
                    System.err.println("no answer from the server in " + timeout + " s: is 'netboot serve' running with this config (dataDir " + config.dataDir() + ")?");
                    Files.deleteIfExists(dir.resolve(FailoverService.SWITCHOVER_REQUEST));
                    return 1;
                }
                Thread.sleep(50);
            }
            String answer = Files.readString(result).strip();
            Files.deleteIfExists(result);
            System.out.println(answer);
            if (!answer.startsWith("ok")) return 1;
            // Done when this node is standby under a newer term (the peer announced itself as primary).
            boolean handingOver = false;
            while (System.nanoTime() < deadline) {
                String status = Files.exists(dir.resolve(FailoverService.STATUS_FILE)) ? Files.readString(dir.resolve(FailoverService.STATUS_FILE)).strip() : "";
                handingOver |= status.startsWith("phase=DRAINING") || status.startsWith("phase=HANDED_OFF");
                if (handingOver && (status.startsWith("phase=STANDBY") || status.startsWith("phase=PRIMARY"))) {
                    System.out.println(status.startsWith("phase=STANDBY") ? "done: the peer is primary now (" + status + ")"
                            : "the peer refused (its copy is not up to date): this node serves again (" + status + ")");
                    return status.startsWith("phase=STANDBY") ? 0 : 1;
                }
                Thread.sleep(50);
            }
            System.err.println("the role was handed over but the peer has not announced itself within " + timeout + " s");
            return 1;
        }
    }
}
