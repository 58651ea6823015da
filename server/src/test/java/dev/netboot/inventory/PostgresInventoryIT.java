package dev.netboot.inventory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Commands;

import java.io.IOException;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The same contract on a real PostgreSQL: a throw-away cluster from Debian's postgresql package,
 * initdb'd in a temp directory, listening on a Unix socket and a free port on loopback only, run as
 * the postgres user (the server refuses root).
 */
class PostgresInventoryIT extends InventoryContract {

    private static Path dir;
    private static int port;
    private static Path bin;
    private static final AtomicInteger n = new AtomicInteger();

    @BeforeAll
    static void startPostgres() throws Exception {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            bin = versions.sorted(Comparator.reverseOrder()).findFirst().orElseThrow().resolve("bin");
        }
        dir = Files.createTempDirectory("netboot-pg");
        run("chown", "postgres:postgres", dir.toString());
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        asPostgres(bin.resolve("initdb") + " -D " + dir + "/data -A trust -U postgres --no-sync -E UTF8");
        asPostgres(bin.resolve("pg_ctl") + " -D " + dir + "/data -w -t 30 -l " + dir + "/log -o '-c listen_addresses=127.0.0.1 -p " + port
                + " -k " + dir + " -c fsync=off' start");
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (dir == null) return;
        try {
            asPostgres(bin.resolve("pg_ctl") + " -D " + dir + "/data -m immediate -w stop");
        } finally {
            run("rm", "-rf", dir.toString());
        }
    }

    @Override
    String freshUrl() {
        String db = "inv" + ProcessHandle.current().pid() + "_" + n.incrementAndGet();
        try {
            asPostgres(bin.resolve("createdb") + " -h 127.0.0.1 -p " + port + " " + db);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    @Override
    String user() { return "postgres"; }

    private static void asPostgres(String command) throws IOException, InterruptedException {
        run("runuser", "-u", "postgres", "--", "sh", "-c", command);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        CommandResult r = Commands.run(Duration.ofSeconds(60), List.of(command));
        if (!r.ok()) throw new IOException(String.join(" ", command) + " failed: " + r.stdout() + r.stderr());
    }
}
