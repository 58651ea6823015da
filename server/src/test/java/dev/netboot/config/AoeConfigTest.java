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
    void badTargetIsAConfigError() {
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("aoe.targets=[{address: '1.255', path: /x}]")))
                .isInstanceOf(ConfigLoader.ConfigException.class);
    }
}
