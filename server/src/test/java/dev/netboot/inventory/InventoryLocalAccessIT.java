package dev.netboot.inventory;

import dev.netboot.cli.CliRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded H2 inventory of a running server, attacked by a local user ({@code nobody}, via setpriv)
 * the way the security review did: H2's auto-server port, its key from the lock file, user sa with the
 * empty password, then {@code CALL FILE_WRITE} to make a root-owned file. And the operator's CLI beside
 * the running server, which must keep working. Needs root.
 */
class InventoryLocalAccessIT {

    Path base;
    Path dataDir;
    Process holder;

    @BeforeEach
    void serverHoldingTheInventory() throws Exception {
        // Like /var/lib: a parent everyone may pass through.
        base = Files.createTempDirectory("netboot-h2-access");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        dataDir = base.resolve("data");
        String java = ProcessHandle.current().info().command().orElseThrow();
        holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), InventoryHolder.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        var out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
    }

    @AfterEach
    void stop() throws Exception {
        if (holder != null) {
            holder.getOutputStream().close();
            if (!holder.waitFor(20, TimeUnit.SECONDS)) holder.destroyForcibly().waitFor();
        }
        try (var s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    Properties lockFile() throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(dataDir.resolve("inventory.lock.db"))) {
            p.load(in);
        }
        return p;
    }

    /** Runs {@code sh -c script} as nobody:nogroup with no supplementary groups. */
    static Result asNobody(String script) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                "sh", "-c", script).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), output);
    }

    record Result(int exit, String output) {}

    /** H2's own shell, as a local user would run it with the jar downloaded anywhere. */
    String h2Shell(String url, String sql) throws IOException {
        Path jar = Path.of(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Path copy = Files.copy(jar, base.resolve("h2.jar"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
        String java = ProcessHandle.current().info().command().orElseThrow();
        return "'" + java + "' -XX:-UsePerfData -cp '" + copy + "' org.h2.tools.Shell -url '" + url + "' -user sa -password '' -sql \"" + sql + "\"";
    }

    @Test
    void theAutoServerPortListensOnLoopbackOnly() throws Exception {
        String server = lockFile().getProperty("server");
        assertThat(server).as("lock file names the auto-server").isNotNull();
        String port = server.substring(server.lastIndexOf(':') + 1);
        Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        String listening = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        ss.waitFor();
        assertThat(listening).as("ss for port " + port).isNotEmpty();
        for (String line : listening.split("\n")) {
            // A dual-stack socket shows the IPv4 loopback as ::ffff:127.0.0.1.
            assertThat(line.split("\\s+")[3]).as(line).isIn("127.0.0.1:" + port, "[::ffff:127.0.0.1]:" + port);
        }
    }

    @Test
    void aLocalUserWithTheLeakedKeyCannotLogInNorWriteFilesAsRoot() throws Exception {
        Properties lock = lockFile();
        Path proof = base.resolve("written-by-h2");
        String url = "jdbc:h2:tcp://" + lock.getProperty("server") + "/" + lock.getProperty("id");

        Result r = asNobody(h2Shell(url, "CALL FILE_WRITE(STRINGTOUTF8('pwned'), '" + proof + "')"));

        assertThat(proof).as("FILE_WRITE through the inventory as nobody; shell said: " + r.output()).doesNotExist();
        assertThat(r.output()).containsIgnoringCase("Wrong user name or password");
    }

    @Test
    void aLocalUserCannotReadTheLockFileNorThePassword() throws Exception {
        Path lock = dataDir.resolve("inventory.lock.db");
        Result r = asNobody("cat '" + lock + "'; echo; ls '" + dataDir + "'");
        assertThat(r.output()).doesNotContain("id=").contains("Permission denied");
    }

    @Test
    void theCliKeepsWorkingBesideTheRunningServer() {
        List<String> args = new ArrayList<>(List.of("client", "list", "--set", "dataDir=" + dataDir));
        CliRun list = CliRun.netboot(args);
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).contains("52:54:00:00:00:01", "held");

        CliRun add = CliRun.netboot(List.of("client", "add", "52:54:00:00:00:02", "--hostname", "beside", "--set", "dataDir=" + dataDir));
        assertThat(add.exit()).as(add.err()).isZero();
        assertThat(CliRun.netboot(args).out()).contains("52:54:00:00:00:02", "beside");
    }
}
