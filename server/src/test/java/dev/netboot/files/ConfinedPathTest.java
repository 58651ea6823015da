package dev.netboot.files;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConfinedPathTest {

    private static ConfinedPath.Result of(String path) { return ConfinedPath.of(path, false); }

    @Test
    void plainRelativePathsStayAsTheyAre() {
        assertThat(ConfinedPath.relative("pxelinux.0", false)).hasValue("pxelinux.0");
        assertThat(ConfinedPath.relative("boot//x86/./vmlinuz", false)).hasValue("boot/x86/vmlinuz");
    }

    @Test
    void windowsBackslashesAreSeparators() {
        assertThat(ConfinedPath.relative("boot\\x64\\wdsnbp.com", false)).hasValue("boot/x64/wdsnbp.com");
    }

    @Test
    void everyWayOutOfTheRootIsRefused() {
        assertThat(of("../etc/passwd")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("boot/../../etc/passwd")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("..\\..\\windows\\win.ini")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("/etc/passwd")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("\\etc\\passwd")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("C:\\Windows\\win.ini")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("a\u0001b")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of(".")).isInstanceOf(ConfinedPath.Outside.class);
        assertThat(of("")).isInstanceOf(ConfinedPath.Outside.class);
    }

    @Test
    void leadingSlashCanMeanTheRootWhenConfigured() {
        assertThat(ConfinedPath.relative("/boot/grub/grub.cfg", true)).hasValue("boot/grub/grub.cfg");
        assertThat(ConfinedPath.of("/../etc/passwd", true)).isInstanceOf(ConfinedPath.Outside.class);
    }
}
