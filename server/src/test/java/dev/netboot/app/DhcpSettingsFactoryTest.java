package dev.netboot.app;

import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.dhcp.DhcpMode;
import dev.netboot.dhcp.DhcpSettings;
import dev.netboot.net.Ipv4;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DhcpSettingsFactoryTest {

    @Test
    void offInYamlIsABooleanAndStillMeansOff() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dhcp.mode=off"));
        assertThat(DhcpSettingsFactory.mode(c.dhcp())).isEqualTo(DhcpMode.OFF);
        assertThat(DhcpSettingsFactory.mode(ConfigLoader.defaults().dhcp())).isEqualTo(DhcpMode.PROXY);
    }

    @Test
    void fullModeWithoutAPoolIsRefused() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dhcp.mode=full"));
        assertThatThrownBy(() -> DhcpSettingsFactory.settings(c.dhcp())).hasMessageContaining("needs at least one pool");
    }

    @Test
    void poolsAndReservationsAreParsed() {
        NetbootConfig.Dhcp d = new NetbootConfig.Dhcp("full", 67, 4011, "10.0.0.2",
                List.of(new NetbootConfig.Pool("10.0.0.0/24", "10.0.0.100-10.0.0.199", "10.0.0.1", List.of("10.0.0.53"), "lab", null)),
                List.of(new NetbootConfig.Reservation("52-54-00-00-00-01", "10.0.0.10", "n1")), 30, 600, false, "arp", "auto");
        DhcpSettings s = DhcpSettingsFactory.settings(d);
        assertThat(s.pools()).singleElement().satisfies(p -> {
            assertThat(p.first()).isEqualTo(Ipv4.parse("10.0.0.100"));
            assertThat(p.leaseSeconds()).isEqualTo(3600);
            assertThat(p.dnsServers()).containsExactly(Ipv4.parse("10.0.0.53"));
        });
        assertThat(s.reservations()).singleElement().satisfies(r -> assertThat(r.mac()).isEqualTo("52:54:00:00:00:01"));
        assertThat(s.nextServer()).isEqualTo(Ipv4.parse("10.0.0.2"));
        assertThatThrownBy(() -> DhcpSettingsFactory.pool(new NetbootConfig.Pool("10.0.0.0", "x", null, null, null, null)))
                .hasMessageContaining("subnet must look like");
    }
    @Test
    void routerAdvertisementsFollowTheModeUnlessSet() throws Exception {
        assertThat(ra("full", "auto")).isTrue();
        assertThat(ra("proxy", "auto")).as("beside another DHCP server a real IPv6 router may answer").isFalse();
        assertThat(ra("proxy", "on")).isTrue();
        assertThat(ra("full", "off")).isFalse();
        assertThat(ra("off", "on")).as("no DHCP, no interfaces to answer on").isFalse();
        assertThatThrownBy(() -> ra("full", "sometimes")).hasMessageContaining("dhcp.routerAdvertisements must be auto, on or off");
    }

    /** Through the loader, as a person types it: unquoted on/off are YAML booleans. */
    static boolean ra(String mode, String setting) throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dhcp.mode=" + mode, "dhcp.routerAdvertisements=" + setting));
        return DhcpSettingsFactory.routerAdvertisements(c.dhcp(), DhcpSettingsFactory.mode(c.dhcp()));
    }
}
