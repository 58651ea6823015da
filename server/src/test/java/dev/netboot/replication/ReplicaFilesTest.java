package dev.netboot.replication;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The replica state of a disk is the state of one file: another file under the same name starts afresh. */
class ReplicaFilesTest {

    static final long SIZE = 64L << 20;
    @TempDir Path dir;

    @Test
    void anotherFileUnderTheSameNameDoesNotInheritTheOldIdentifiers() throws Exception {
        GenerationIds old = GenerationIds.created(() -> 0x1111L);
        ReplicaFiles files = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded first = files.load(SIZE, old, ActivityLog.DEFAULT_SLOTS, "aaaa");
        assertThat(first.fresh()).isTrue();
        first.bitmap().markBytes(0, 4096);
        files.saveBitmap(first.bitmap());
        files.markPrimary(true);
        files.close();

        // The same file after a restart: its state, a crash as primary included.
        ReplicaFiles again = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded same = again.load(SIZE, GenerationIds.created(() -> 0x2222L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        assertThat(same.replaced()).isFalse();
        assertThat(same.ids().current()).isEqualTo(old.current());
        assertThat(same.crashedPrimary()).isTrue();
        again.close();

        // A PC re-imaged at the same address: its new file must not count as in sync with the peer's old copy.
        ReplicaFiles other = new ReplicaFiles(dir.resolve("1.0"));
        GenerationIds fresh = GenerationIds.created(() -> 0x3333L);
        ReplicaFiles.Loaded next = other.load(SIZE, fresh, ActivityLog.DEFAULT_SLOTS, "bbbb");
        assertThat(next.replaced()).isTrue();
        assertThat(next.fresh()).isTrue();
        assertThat(next.ids()).isEqualTo(fresh);
        assertThat(next.crashedPrimary()).isFalse();
        assertThat(next.bitmap().dirtyBytes()).isZero();
        other.close();

        // A store with no identity to tell (an LVM volume) keeps the state it finds.
        ReplicaFiles unknown = new ReplicaFiles(dir.resolve("1.0"));
        assertThat(unknown.load(SIZE, GenerationIds.created(() -> 0x4444L), ActivityLog.DEFAULT_SLOTS, "").ids()).isEqualTo(fresh);
        unknown.close();
        assertThat(List.of(dir.resolve("1.0").toFile().list())).contains("backing");
    }
}
