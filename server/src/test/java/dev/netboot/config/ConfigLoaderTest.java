package dev.netboot.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void fileThenOverridesOnTopOfDefaults() throws Exception {
        Path file = Files.writeString(dir.resolve("netboot.yaml"), "dataDir: /srv/nb\ntftp:\n  port: 1069\n");
        NetbootConfig c = ConfigLoader.load(Optional.of(file), List.of("tftp.maxWindowSize=8", "http.enabled=false"));
        assertThat(c.tftp().port()).isEqualTo(1069);
        assertThat(c.tftp().maxWindowSize()).isEqualTo(8);
        assertThat(c.tftp().giveUpAfterMillis()).isEqualTo(ConfigLoader.defaults().tftp().giveUpAfterMillis());
        assertThat(c.http().enabled()).isFalse();
        assertThat(c.files().root()).as("derived from dataDir").isEqualTo("/srv/nb/boot");
    }

    @Test
    void templateFoldersAreRelativeToTheConfigFileNeverToTheWorkingDirectory() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc/netboot"));
        Path file = Files.writeString(etc.resolve("netboot.yaml"), "dataDir: " + dir.resolve("data") + "\nmenus:\n  dir: site-menus\n");
        NetbootConfig c = ConfigLoader.load(Optional.of(file), List.of("web.templates=../admin-pages"));
        assertThat(c.menus().dir()).isEqualTo(etc.resolve("site-menus").toString());
        assertThat(c.initrd().templates()).isEqualTo(etc.resolve("initrd-templates").toString());
        assertThat(c.web().templates()).isEqualTo(dir.resolve("etc/admin-pages").toString());
        assertThat(ConfigLoader.load(Optional.of(file), List.of("menus.dir=/srv/menus")).menus().dir()).as("absolute stays").isEqualTo("/srv/menus");
        // config show prints where the server will look, whatever folder it is run from.
        assertThat(ConfigLoader.toYaml(c)).contains("dir: " + etc.resolve("site-menus"), "templates: " + etc.resolve("initrd-templates"));
    }

    @Test
    void withoutAConfigFileTemplateFoldersAreInTheDataDirectory() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir.resolve("data")));
        // (A machine with /etc/netboot/netboot.yaml reads that file: then its folder is the base.)
        Path base = Files.isRegularFile(ConfigLoader.SYSTEM_CONFIG) ? ConfigLoader.SYSTEM_CONFIG.getParent() : dir.resolve("data");
        assertThat(c.menus().dir()).isEqualTo(base.resolve("pxe-menus").toString());
        assertThat(c.initrd().templates()).isEqualTo(base.resolve("initrd-templates").toString());
        assertThat(c.web().templates()).isEqualTo(base.resolve("webadmin").toString());
    }

    @Test
    void generatedFirstTakesGlobsAndABadOneIsAnError() throws Exception {
        assertThat(ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir, "files.generatedFirst=[boot.ipxe, 'pxelinux.cfg/*']"))
                .files().generatedFirst()).containsExactly("boot.ipxe", "pxelinux.cfg/*");
        assertThat(ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir)).files().generatedFirst()).isEmpty();
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir, "files.generatedFirst=['ipxe/[a']")))
                .hasMessageContaining("files.generatedFirst").hasMessageContaining("ipxe/[a");
    }

    @Test
    void showPrintsEveryKeyAndReadsBack() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir));
        String yaml = ConfigLoader.toYaml(c);
        assertThat(yaml).contains("maxWindowSize: 64", "port: 69", "port: 8080", "root: " + dir.resolve("boot"));
        Path file = Files.writeString(dir.resolve("shown.yaml"), yaml);
        assertThat(ConfigLoader.load(Optional.of(file), List.of())).isEqualTo(c);
    }

    @Test
    void showHidesThePasswordsThatAreSetUnlessAskedFor() throws Exception {
        NetbootConfig c = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir, "web.adminPassword=s3cret-admin",
                "inventory.password=s3cret-db"));
        String shown = ConfigLoader.toYamlHidingSecrets(c);
        assertThat(shown).doesNotContain("s3cret").contains("adminPassword: '********'", "password: '********'", "maxWindowSize: 64");
        assertThat(ConfigLoader.toYaml(c)).contains("s3cret-admin", "s3cret-db");

        NetbootConfig none = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir));
        assertThat(ConfigLoader.toYamlHidingSecrets(none)).as("an empty password stays visibly empty")
                .isEqualTo(ConfigLoader.toYaml(none));
    }

    @Test
    void dhcpSectionDefaultsToProxyAndReadsPools() throws Exception {
        assertThat(ConfigLoader.defaults().dhcp().mode()).isEqualTo("proxy");
        Path file = Files.writeString(dir.resolve("dhcp.yaml"), """
                dhcp:
                  mode: full
                  pools:
                    - {subnet: 10.0.0.0/24, range: 10.0.0.100-10.0.0.199, router: 10.0.0.1, dns: [10.0.0.53]}
                  reservations:
                    - {mac: "52:54:00:00:00:01", address: 10.0.0.10, hostname: node1}
                inventory:
                  url: jdbc:postgresql://db/netboot
                """);
        NetbootConfig c = ConfigLoader.load(Optional.of(file), List.of("dataDir=" + dir));
        assertThat(c.dhcp().pools()).singleElement().satisfies(p -> {
            assertThat(p.range()).isEqualTo("10.0.0.100-10.0.0.199");
            assertThat(p.leaseSeconds()).isNull();
        });
        assertThat(c.dhcp().reservations()).singleElement().extracting(NetbootConfig.Reservation::hostname).isEqualTo("node1");
        assertThat(c.inventory().url()).isEqualTo("jdbc:postgresql://db/netboot");
        assertThat(ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dir)).inventory().url())
                .as("embedded H2 under dataDir by default").startsWith("jdbc:h2:file:" + dir);
    }

    @Test
    void typosAndBadValuesAreErrorsNotSilence() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "tftp:\n  prot: 69\n");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), List.of())).hasMessageContaining("tftp.prot");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("tftp.port=sixty"))).hasMessageContaining("invalid configuration");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("nope"))).hasMessageContaining("key=value");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("tftp=1"))).hasMessageContaining("section");
    }

    @Test
    void anUnknownSettingInAListIsNamedByItsPathWithWhatIsAllowedThere() throws Exception {
        // What an operator wrote by hand: a pool keyed by interface, which pools do not have.
        Path file = Files.writeString(dir.resolve("pool.yaml"),
                "dhcp:\n  mode: full\n  pools:\n    - interface: eth1\n      range: 10.0.0.10-10.0.0.20\n");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), List.of()))
                .hasMessageContaining("unknown setting 'dhcp.pools[0].interface'")
                .hasMessageContaining("range").hasMessageContaining("subnet")
                .hasMessageNotContaining("UNKNOWN");
        assertThatThrownBy(() -> ConfigLoader.load(Optional.empty(), List.of("tftp.port=sixty")))
                .hasMessageContaining("tftp.port");
    }
}
