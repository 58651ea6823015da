package dev.netboot.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AoeConfigTest {

    @Test
    void defaultsLeaveAoeOff() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of());
        assertThat(c.aoe().interfaces()).isEmpty();
        assertThat(c.aoe().bufferCount()).isEqualTo(64);
        assertThat(ConfigLoader.toYaml(c)).contains("aoe:", "interfaces:", "syncWrites:");
    }

    @Test
    void interfacesAndStaticTargetsFromOverrides() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("aoe.interfaces=[eth0, eth1]",
                "aoe.targets=[{address: '1.0', path: /srv/disks/a.img, allowedMacs: ['52-54-00-12-34-56']}]"));
        assertThat(c.aoe().interfaces()).containsExactly("eth0", "eth1");
        assertThat(c.aoe().targets()).singleElement().satisfies(t -> {
            assertThat(t.target().shelf()).isEqualTo(1);
            assertThat(t.allowedMacs()).containsExactly("52:54:00:12:34:56");
            assertThat(t.open()).isFalse();
        });
    }

    @Test
    void disksAreBoundToInterfacesAoeServesAndNothingElse() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("aoe.interfaces=[eth1, eth0.20]", "disks.interfaces=[eth0.20]",
                "aoe.targets=[{address: '1.0', path: /srv/a.img, open: true, interfaces: [eth1, eth0.20]}, {address: '1.1', path: /srv/b.img}]"));
        assertThat(c.disks().interfaces()).containsExactly("eth0.20");
        assertThat(c.aoe().targets()).extracting(t -> t.interfaces())
                .containsExactly(List.of("eth0.20", "eth1"), List.of());
        assertThat(c.aoe().targets().getFirst().definition(8).interfaces()).containsExactlyInAnyOrder("eth1", "eth0.20");

        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("aoe.interfaces=[eth1]",
                "aoe.targets=[{address: '1.0', path: /srv/a.img, interfaces: [eth2]}]")))
                .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("1.0 is bound to eth2, which is not one of aoe.interfaces");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("aoe.interfaces=[eth1]", "disks.interfaces=[eth0.30]")))
                .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("disks.interfaces: eth0.30 is not one of aoe.interfaces");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("disks.interfaces=['eth0:1']")))
                .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("not an interface name");
    }

    @Test
    void badTargetIsAConfigError() {
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("aoe.targets=[{address: '1.255', path: /x}]")))
                .isInstanceOf(ConfigLoader.ConfigException.class);
    }
}
