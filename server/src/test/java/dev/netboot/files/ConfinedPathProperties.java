package dev.netboot.files;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConfinedPathProperties {

    /** Whatever the client sends, an accepted path resolves to somewhere under the root. */
    @Property(tries = 5000)
    void acceptedPathsNeverLeaveTheRoot(@ForAll("hostilePaths") String requested) {
        Path root = Path.of("/srv/root");
        if (ConfinedPath.of(requested, true) instanceof ConfinedPath.Relative r) {
            Path resolved = root.resolve(r.joined()).normalize();
            assertThat(resolved.startsWith(root)).as(requested + " -> " + resolved).isTrue();
            assertThat(resolved).isNotEqualTo(root);
        }
    }

    @Provide
    Arbitrary<String> hostilePaths() {
        Arbitrary<String> pieces = Arbitraries.of("..", ".", "/", "\\", "a", "etc", "C:", "passwd", "...", "..\\", "%2e%2e", "~");
        return pieces.list().ofMaxSize(8).map(l -> String.join("", l));
    }
}
