package dev.netboot.replication;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.netboot.replication.FileSuccession.*;
import static org.assertj.core.api.Assertions.assertThat;

/** When a standby may throw its copy away: only on the primary's word that it replaced that very file. */
class FileSuccessionTest {

    @Test
    void onlyAFileThePrimaryReplacedItselfIsFollowed() {
        // A re-image on the primary: its new file names the old one among those it replaced.
        assertThat(decide("aaaa", "bbbb", List.of("aaaa"))).isEqualTo(REPLACED);
        assertThat(decide("aaaa", "cccc", List.of("aaaa", "bbbb"))).as("re-imaged twice while the standby was down").isEqualTo(REPLACED);
        // Unchanged: nothing to do.
        assertThat(decide("aaaa", "aaaa", List.of())).isEqualTo(SAME);
        assertThat(decide("aaaa", "aaaa", List.of("zzzz"))).isEqualTo(SAME);
        // A rebuilt primary, or one with blank/unrelated data: another file, but it never had this copy's: keep the copy.
        assertThat(decide("aaaa", "bbbb", List.of())).isEqualTo(NOT_PROVEN);
        assertThat(decide("aaaa", "bbbb", List.of("cccc"))).isEqualTo(NOT_PROVEN);
        // An upgrade from a build without identities: just recorded.
        assertThat(decide("", "bbbb", List.of("aaaa"))).isEqualTo(FIRST_SIGHT);
        // Nothing to tell (LVM, an older primary): never a replacement.
        assertThat(decide("aaaa", "", List.of("aaaa"))).isEqualTo(NO_IDENTITY);
        assertThat(decide("", "", List.of())).isEqualTo(NO_IDENTITY);
    }
}
