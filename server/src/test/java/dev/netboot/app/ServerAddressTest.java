package dev.netboot.app;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The address an unassigned PC is told to open the web admin at: ours on its network. */
class ServerAddressTest {

    @Test
    void sameSubnetFollowsThePrefixLength() throws Exception {
        InetAddress a = InetAddress.getByName("192.168.50.1"), b = InetAddress.getByName("192.168.50.200");
        assertThat(ServerAddress.sameSubnet(a, b, 24)).isTrue();
        assertThat(ServerAddress.sameSubnet(a, b, 25)).isFalse();
        assertThat(ServerAddress.sameSubnet(a, InetAddress.getByName("192.168.51.1"), 24)).isFalse();
        assertThat(ServerAddress.sameSubnet(a, a, 32)).isTrue();
        assertThat(ServerAddress.sameSubnet(a, b, 0)).as("no prefix: not a network we can name").isFalse();
    }

    @Test
    void aClientOnLoopbackReachesUsOnLoopbackAndAnUnknownOneNowhere() throws Exception {
        assertThat(ServerAddress.facing(InetAddress.getByName("127.0.0.9"))).hasValueSatisfying(a -> assertThat(a.isLoopbackAddress()).isTrue());
        assertThat(ServerAddress.facing(null)).isEmpty();
        assertThat(ServerAddress.facing(InetAddress.getByName("::1"))).isEmpty();
    }
}
