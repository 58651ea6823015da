package dev.netboot.cli;

import dev.netboot.app.FailoverService;
import dev.netboot.app.OperatorFiles;
import dev.netboot.app.ReplicationService;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.security.SecureRandom;
import java.util.List;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.Callable;

@Command(name = "replication", mixinStandardHelpOptions = true,
        description = {"The replicated standby (docs/replication.md): state, online verify, split-brain resolution, switchover.",
                "Talks to the 'netboot serve' of this machine through <dataDir>/replication."},
        subcommands = {ReplicationCommand.Status.class, ReplicationCommand.Verify.class, ReplicationCommand.Resolve.class,
                ReplicationCommand.Switchover.class, ReplicationCommand.Promote.class, ReplicationCommand.Demote.class,
                ReplicationCommand.Reconnect.class})
final class ReplicationCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot replication status', 'verify [DISK]', 'resolve DISK --discard HOST', 'switchover', 'promote --force' or 'demote'.");
    }

    abstract static class Base implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        @Override
        public Integer call() {
            try {
                NetbootConfig c = configOptions.load();
                if (ReplicationService.role(c.replication()).isEmpty()) {
                    System.err.println("netboot: replication is off here (replication.role: none)");
                    return 2;
                }
                return run(Path.of(c.dataDir()));
            } catch (ConfigLoader.ConfigException | IOException | IllegalArgumentException | IllegalStateException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }

        abstract int run(Path dataDir) throws IOException, InterruptedException;

        /** Sends one request to the running server, prints its answer; exit code 0 when it answered "ok". */
        static int askAndTell(Path dataDir, String request, Duration timeout) throws IOException, InterruptedException {
            String answer = ask(dataDir, request, timeout);
            System.out.println(answer.replaceFirst("^(ok|error) ", ""));
            return answer.startsWith("ok") ? 0 : 1;
        }

        /** The server's status file, refused when it is stale (no server running to keep it fresh). */
        static List<String> status(Path dataDir) throws IOException {
            Path file = ReplicationService.statusFile(dataDir);
            if (!Files.exists(file)) throw new IllegalStateException("no replication status in " + file + ": is 'netboot serve' running with replication on?");
            FileTime t = Files.getLastModifiedTime(file);
            if (t.toInstant().isBefore(Instant.now().minusSeconds(10)))
                throw new IllegalStateException(file + " was last written " + t + ": is 'netboot serve' running?");
            return Files.readAllLines(file);
        }

        static List<String> disks(Path dataDir) throws IOException {
            List<String> out = new ArrayList<>();
            for (String l : status(dataDir)) if (l.startsWith("disk ")) out.add(l.split(" ")[1]);
            return out;
        }

        /** Drops a request for the server and waits for its answer. */
        static String ask(Path dataDir, String request, Duration timeout) throws IOException, InterruptedException {
            status(dataDir);
            Path dir = ReplicationService.requestDir(dataDir);
            Files.createDirectories(dir);
            String id = UUID.randomUUID().toString();
            Path req = dir.resolve(id + ".request"), answer = dir.resolve(id + ".answer");
            OperatorFiles.put(req, request + "\n");
            long end = System.nanoTime() + timeout.toNanos();
            while (!Files.exists(answer)) {
                if (System.nanoTime() > end) throw new IllegalStateException("no answer to '" + request + "' within " + timeout.toSeconds() + " s");
                Thread.sleep(200);
            }
            String text = Files.readString(answer).strip();
            Files.delete(answer);
            return text;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Per disk: role, connection, up to date / outdated / syncing (percent, rate) / split brain.")
    static final class Status extends Base {
        @Override
        int run(Path dataDir) throws IOException {
            status(dataDir).forEach(System.out::println);
            // With failover: the node's phase (PRIMARY, STANDBY, FENCED...), term and link, as the failover last wrote them.
            Path failover = ReplicationService.stateDir(dataDir).resolve(FailoverService.STATUS_FILE);
            if (Files.exists(failover)) System.out.println("failover " + Files.readString(failover).strip());
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Online verify: both servers hash the disk's ranges, only digests cross; differences are listed and marked for resync.")
    static final class Verify extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "DISK", description = "SHELF.SLOT; all replicated disks when left out")
        String disk;

        @Option(names = "--timeout", description = "Seconds to wait per disk (default ${DEFAULT-VALUE})", defaultValue = "3600")
        int timeoutSeconds;

        @Override
        int run(Path dataDir) throws IOException, InterruptedException {
            int rc = 0;
            for (String d : disk != null ? List.of(disk) : disks(dataDir)) {
                String answer = ask(dataDir, "verify " + d, Duration.ofSeconds(timeoutSeconds));
                System.out.println(answer.replaceFirst("^(ok|error) ", ""));
                if (!answer.startsWith("ok") || !answer.contains("identical")) rc = 1;
            }
            return rc;
        }
    }

    @Command(name = "resolve", mixinStandardHelpOptions = true,
            description = {"After a split brain: throw away the writes HOST made while apart; it resyncs from the other server.",
                    "Run it on HOST (the side whose writes are discarded, which must be standby)."})
    static final class Resolve extends Base {
        @Parameters(index = "0", paramLabel = "DISK", description = "SHELF.SLOT")
        String disk;

        @Option(names = "--discard", required = true, paramLabel = "HOST", description = "The server whose writes are discarded: this machine's host name (or 'this')")
        String host;

        @Override
        int run(Path dataDir) throws IOException, InterruptedException {
            String me = InetAddress.getLocalHost().getHostName();
            if (!host.equals("this") && !host.equalsIgnoreCase(me) && !host.equalsIgnoreCase(me.split("\\.")[0])) {
                System.err.println("netboot: the discard runs on the side that loses its writes: run this command on " + host + " (this is " + me + ")");
                return 2;
            }
            return askAndTell(dataDir, "discard " + disk, Duration.ofSeconds(30));
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = {"Make this STANDBY serve its disks although it cannot reach its peer (DRBD's 'primary --force').",
                    "With failover (replication.serviceMac) it is a takeover by the failover: the term grows, the service address",
                    "comes up here, AoE and the boot services start; the way out for an outdated standby whose primary died, or a",
                    "primary started alone (neither serves by itself). The peer, when it returns, hears the higher term and stays standby.",
                    "DANGER: if the peer still serves, both copies take writes: a SPLIT BRAIN when the link heals, which only",
                    "'netboot replication resolve DISK --discard HOST' ends, throwing one side's writes away.",
                    "Use it only when the peer is dead or fenced (powered off). Refused while the peer is connected."})
    static final class Promote extends Base {
        @Option(names = "--force", description = "Required: you have made sure the peer does not serve")
        boolean force;

        @Override
        int run(Path dataDir) throws IOException, InterruptedException {
            if (!force) {
                System.err.println("netboot: refusing without --force. A forced promotion while the peer still serves makes a SPLIT BRAIN:"
                        + " both copies take writes and one side's writes are thrown away when it is resolved. Make sure the peer is dead or powered off.");
                return 2;
            }
            System.err.println("WARNING: forcing this node to primary. If the peer still serves, this is a SPLIT BRAIN when the link heals"
                    + " ('netboot replication status' shows it; 'netboot replication resolve DISK --discard HOST' ends it).");
            return askAndTell(dataDir, "promote-force", Duration.ofSeconds(60));
        }
    }

    @Command(name = "demote", mixinStandardHelpOptions = true,
            description = {"Make this PRIMARY a standby: AoE stops here, writes in flight are answered, then its disks",
                    "are standby copies (after a split brain: before 'resolve DISK --discard this' on this node).",
                    "With failover only while the peer is not connected (the undo of a forced promotion; this node then does not",
                    "take over by itself until it is in sync again); while connected use 'switchover' (no write lost). After a",
                    "split brain the failover has already demoted the side with the lower term."})
    static final class Demote extends Base {
        @Override
        int run(Path dataDir) throws IOException, InterruptedException {
            return askAndTell(dataDir, "demote", Duration.ofSeconds(60));
        }
    }

    @Command(name = "reconnect", mixinStandardHelpOptions = true,
            description = {"Drop the replication link on purpose; it comes back at once and the generation identifiers are compared again",
                    "(e.g. after the standby's failed disk was fixed: its copy, outdated by the failed write, is then resynced)."})
    static final class Reconnect extends Base {
        @Override
        int run(Path dataDir) throws IOException, InterruptedException {
            return askAndTell(dataDir, "reconnect", Duration.ofSeconds(30));
        }
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
            OperatorFiles.put(dir.resolve(FailoverService.SWITCHOVER_REQUEST), nonce + "\n");
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
