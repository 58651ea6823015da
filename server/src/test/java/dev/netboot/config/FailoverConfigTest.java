package dev.netboot.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The failover keys of the replication section: off by default, all-or-nothing, typos stop the server. */
class FailoverConfigTest {

    @TempDir
    Path dir;

    NetbootConfig load(String... sets) throws Exception {
        List<String> all = new ArrayList<>(List.of("dataDir=" + dir, "replication.role=standby", "replication.peer=10.9.0.1:7789",
                "replication.secret=0123456789abcdef0123"));
        all.addAll(List.of(sets));
        return ConfigLoader.load(Optional.empty(), all);
    }

    @Test
    void offByDefaultWithSaneTimes() throws Exception {
        NetbootConfig.Replication r = load().replication();
        assertThat(r.failover()).isFalse();
        assertThat(r.serviceInterface()).isEqualTo("nbservice0");
        assertThat(r.probeMillis()).isEqualTo(250);
        assertThat(r.deadAfterProbes()).isEqualTo(3);
    }

    @Test
    void aServiceMacNeedsTheClientInterfaceAndIsChecked() throws Exception {
        NetbootConfig.Replication r = load("replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0",
                "replication.serviceIp=192.168.1.5/24").replication();
        assertThat(r.failover()).isTrue();
        assertThat(r.serviceIp()).isEqualTo("192.168.1.5/24");
        assertThat(load("replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0", "replication.serviceIp=fd00::5/64")
                .replication().serviceIp()).isEqualTo("fd00::5/64");
        assertThatThrownBy(() -> load("replication.serviceMac=02:00:5e:10:00:01")).hasMessageContaining("replication.clientInterface is required");
        assertThatThrownBy(() -> load("replication.serviceMac=nonsense", "replication.clientInterface=eth0")).hasMessageContaining("not a MAC address");
        assertThatThrownBy(() -> load("replication.serviceMac=01:00:5e:10:00:01", "replication.clientInterface=eth0")).hasMessageContaining("unicast");
        assertThatThrownBy(() -> load("replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0", "replication.serviceIp=192.168.1.5"))
                .hasMessageContaining("ADDRESS/PREFIX");
        assertThatThrownBy(() -> load("replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0", "replication.serviceInterface=a-name-far-too-long"))
                .hasMessageContaining("at most 15");
        assertThatThrownBy(() -> load("replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0", "replication.deadAfterProbes=0"))
                .hasMessageContaining("deadAfterProbes");
        assertThatThrownBy(() -> load("replication.serviceIp=192.168.1.5/24")).hasMessageContaining("needs replication.serviceMac");
    }

    @Test
    void witnessesAreIpAddressesAndNoneByDefault() throws Exception {
        assertThat(load().replication().witness()).isEmpty();
        assertThatThrownBy(() -> load("replication.witness=192.168.1.1")).hasMessageContaining("replication.witness needs replication.serviceMac");
        String[] failover = {"replication.serviceMac=02:00:5e:10:00:01", "replication.clientInterface=eth0"};
        List<String> sets = new ArrayList<>(List.of(failover));
        sets.add("replication.witness=192.168.1.1, fd00::1");
        assertThat(load(sets.toArray(String[]::new)).replication().witness()).isEqualTo("192.168.1.1, fd00::1");
        sets.set(2, "replication.witness=router.lan");
        assertThatThrownBy(() -> load(sets.toArray(String[]::new))).hasMessageContaining("replication.witness must be IP addresses")
                .hasMessageContaining("router.lan");
    }
}
