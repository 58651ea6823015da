package dev.netboot.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationConfigTest {

    @TempDir
    Path dir;

    NetbootConfig load(String... sets) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("dataDir=" + dir));
        all.addAll(List.of(sets));
        return ConfigLoader.load(Optional.empty(), all);
    }

    @Test
    void offByDefaultWithTheSecretFileInTheDataDirectory() throws Exception {
        NetbootConfig.Replication r = load().replication();
        assertThat(r.role()).isEqualTo("none");
        assertThat(r.listen()).isEqualTo("0.0.0.0:7789");
        assertThat(r.secretFile()).isEqualTo(dir.resolve("replication-secret").toString());
        assertThat(r.tls()).isFalse();
    }

    @Test
    void aPrimaryNeedsAPeerToConnectTo() throws Exception {
        NetbootConfig.Replication r = load("replication.role=primary", "replication.peer=10.9.0.2:7789", "replication.secret=0123456789abcdef0123").replication();
        assertThat(r.peer()).isEqualTo("10.9.0.2:7789");
        assertThat(ConfigLoader.toYamlHidingSecrets(load("replication.secret=0123456789abcdef0123"))).doesNotContain("0123456789abcdef0123");
        assertThatThrownBy(() -> load("replication.role=primary")).hasMessageContaining("replication.peer is required");
        assertThatThrownBy(() -> load("replication.role=standby", "replication.peer=host")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> load("replication.role=standby", "replication.peer=host:99999")).hasMessageContaining("outside 1-65535");
        assertThatThrownBy(() -> load("replication.role=standby", "replication.peer=0.0.0.0:7789")).hasMessageContaining("not an address to connect to");
        assertThatThrownBy(() -> load("replication.role=primary", "replication.peer=h:1", "replication.listen=:x")).hasMessageContaining("replication.listen");
    }

    @Test
    void typosAndBadTlsSettingsAreErrors() {
        assertThatThrownBy(() -> load("replication.role=master")).hasMessageContaining("none, primary or standby");
        assertThatThrownBy(() -> load("replication.tls=true", "replication.peerFingerprint=AB:CD")).hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> load("replication.tls=true", "replication.tlsCertificate=/x.pem")).hasMessageContaining("go together");
        assertThatThrownBy(() -> load("replication.pingMillis=5000")).hasMessageContaining("timeoutMillis");
        assertThatThrownBy(() -> load("replication.resyncBytesPerSecond=-1")).hasMessageContaining("resyncBytesPerSecond");
    }

    @Test
    void tlsIsAcceptedWithAPinOrWithoutOneYet() throws Exception {
        String pin = "AB:".repeat(31) + "AB";
        assertThat(load("replication.tls=true", "replication.peerFingerprint=" + pin).replication().peerFingerprint()).isEqualTo(pin);
        // A first start has no pin yet: it prints its own fingerprint and refuses every peer until one is set.
        assertThat(load("replication.tls=true").replication().tls()).isTrue();
    }
}
