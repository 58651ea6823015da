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

    @Test
    void aReplacedFileIsRememberedAndAStandbysRecordSurvivesUntilDiscarded() throws Exception {
        Path state = dir.resolve("replication");
        ReplicaFiles files = new ReplicaFiles(ReplicaFiles.dirOf(state, "1.3"));
        files.load(SIZE, GenerationIds.created(() -> 0x1111L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        files.close();
        assertThat(ReplicaFiles.replacedBackings(state, "1.3")).isEmpty();
        // Re-imaged twice: both old files are named, oldest first, across restarts.
        for (String next : List.of("bbbb", "cccc")) {
            ReplicaFiles f = new ReplicaFiles(ReplicaFiles.dirOf(state, "1.3"));
            assertThat(f.load(SIZE, GenerationIds.created(() -> 0x2222L), ActivityLog.DEFAULT_SLOTS, next).replaced()).isTrue();
            f.close();
        }
        assertThat(ReplicaFiles.replacedBackings(state, "1.3")).containsExactly("aaaa", "bbbb");
        // The same file again adds nothing.
        ReplicaFiles same = new ReplicaFiles(ReplicaFiles.dirOf(state, "1.3"));
        same.load(SIZE, GenerationIds.created(() -> 0x3333L), ActivityLog.DEFAULT_SLOTS, "cccc");
        same.close();
        assertThat(ReplicaFiles.replacedBackings(state, "1.3")).containsExactly("aaaa", "bbbb");
        // At most REPLACED_KEPT, the newest kept.
        for (int i = 0; i < ReplicaFiles.REPLACED_KEPT + 3; i++) {
            ReplicaFiles f = new ReplicaFiles(ReplicaFiles.dirOf(state, "1.3"));
            f.load(SIZE, GenerationIds.created(() -> 0x4444L), ActivityLog.DEFAULT_SLOTS, "f" + i);
            f.close();
        }
        List<String> kept = ReplicaFiles.replacedBackings(state, "1.3");
        assertThat(kept).hasSize(ReplicaFiles.REPLACED_KEPT).endsWith("f" + (ReplicaFiles.REPLACED_KEPT + 1));

        // A standby's record of the primary file its copy mirrors: kept, replaced, forgotten, and gone with a discard.
        assertThat(ReplicaFiles.mirroredPrimaryFile(state, "1.5")).isEmpty();
        ReplicaFiles.recordMirroredPrimaryFile(state, "1.5", "dddd");
        assertThat(ReplicaFiles.mirroredPrimaryFile(state, "1.5")).isEqualTo("dddd");
        ReplicaFiles.recordMirroredPrimaryFile(state, "1.5", "");
        assertThat(ReplicaFiles.mirroredPrimaryFile(state, "1.5")).isEmpty();
        ReplicaFiles.recordMirroredPrimaryFile(state, "1.3", "eeee");
        ReplicaFiles.discard(state, "1.3");
        assertThat(ReplicaFiles.mirroredPrimaryFile(state, "1.3")).isEmpty();
        assertThat(ReplicaFiles.replacedBackings(state, "1.3")).isEmpty();
        ReplicaFiles blank = new ReplicaFiles(ReplicaFiles.dirOf(state, "1.3"));
        ReplicaFiles.Loaded l = blank.load(SIZE, GenerationIds.BLANK, ActivityLog.DEFAULT_SLOTS, "gggg");
        blank.close();
        assertThat(l.fresh()).isTrue();
        assertThat(l.replaced()).as("nothing left says which file the state was").isFalse();
        assertThat(l.ids()).isEqualTo(GenerationIds.BLANK);
    }
}
