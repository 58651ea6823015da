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

    /** An activity-log eviction writes only the evicted extent's words, and a background save older than it never lands. */
    @Test
    void wordsWrittenInPlaceSurviveARestartAndAnOlderWholeSaveIsSkipped() throws Exception {
        ReplicaFiles files = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded l = files.load(SIZE, GenerationIds.created(() -> 0x1111L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        DirtyBitmap b = l.bitmap();
        ReplicaFiles.BitmapSnapshot before = files.snapshotBitmap(b);   // a background save taken now, written late

        b.markBytes(4L << 20, 4096);          // extent 1: region 1024 = word 16
        b.markBytes(40L << 20, 4096);         // extent 10: changed in memory, not evicted, not saved
        files.saveBitmapWords(b, 16, 16);     // extent 1 evicted: its 16 words

        assertThat(files.writeBitmap(before)).as("a whole save older than the in-place write").isFalse();
        assertThat(files.takeSkippedSave()).as("the caller is told to save again").isTrue();
        assertThat(files.takeSkippedSave()).isFalse();
        java.nio.file.attribute.FileTime written = java.nio.file.Files.getLastModifiedTime(dir.resolve("1.0/bitmap"));
        Thread.sleep(20);
        files.saveBitmapWords(b, 16, 16);     // the file holds them already: nothing written
        assertThat(java.nio.file.Files.getLastModifiedTime(dir.resolve("1.0/bitmap"))).isEqualTo(written);
        files.close();

        ReplicaFiles again = new ReplicaFiles(dir.resolve("1.0"));
        DirtyBitmap restored = again.load(SIZE, GenerationIds.created(() -> 0x2222L), ActivityLog.DEFAULT_SLOTS, "aaaa").bitmap();
        assertThat(restored.isDirty(1024)).as("the evicted extent's bit").isTrue();
        assertThat(restored.isDirty((40L << 20) / 4096)).as("a bit of an extent still in the log: not written").isFalse();
        assertThat(restored.dirtyRegions()).isEqualTo(1);

        // After a restart the in-place writes go on from the file's own words.
        restored.markBytes(40L << 20, 4096);
        again.saveBitmapWords(restored, 160, 16);
        again.close();
        ReplicaFiles third = new ReplicaFiles(dir.resolve("1.0"));
        assertThat(third.load(SIZE, GenerationIds.created(() -> 0x3333L), ActivityLog.DEFAULT_SLOTS, "aaaa").bitmap().dirtyRegions()).isEqualTo(2);
        third.close();
    }
    /** After a restart the log's next transaction must win on restore, or a crash would resync the last run's extents. */
    @Test
    void aRestartedPrimarysTransactionsOutnumberTheStoredOnes() throws Exception {
        ReplicaFiles files = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded l = files.load(SIZE, GenerationIds.created(() -> 0x1111L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        DiskReplica first = new DiskReplica("1.0", SIZE, Role.PRIMARY, l.ids(), l.bitmap(), l.activityLog(), () -> 7L);
        for (int i = 0; i < 3; i++) persistLogOf(files, first.submitWrite(i, (long) i << 22, java.nio.ByteBuffer.allocate(4096), false));
        files.markPrimary(true);
        files.close();

        ReplicaFiles again = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded l2 = again.load(SIZE, GenerationIds.created(() -> 0x2222L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        assertThat(l2.activityLog().extents()).containsExactlyInAnyOrder(0L, 1L, 2L);
        DiskReplica second = new DiskReplica("1.0", SIZE, Role.PRIMARY, l2.ids(), l2.bitmap(), l2.activityLog(), () -> 8L);
        persistLogOf(again, second.submitWrite(9, 10L << 22, java.nio.ByteBuffer.allocate(4096), false));   // extent 10, new in this run
        again.close();

        ReplicaFiles third = new ReplicaFiles(dir.resolve("1.0"));
        ReplicaFiles.Loaded l3 = third.load(SIZE, GenerationIds.created(() -> 0x3333L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        assertThat(l3.activityLog().extents()).as("the crash after the restart finds this run's log").contains(10L);
        assertThat(l3.bitmap().isDirty((10L << 22) / 4096)).as("and marks the extent written in it").isTrue();
        third.close();
    }

    /** A log stored in the first format (one block, 8-byte extents) is restored, and the new format's areas take over. */
    @Test
    void aLogOfTheFirstFormatIsRestoredAndTheAreasFollowIt() throws Exception {
        Path d = dir.resolve("1.0");
        java.nio.file.Files.createDirectories(d);
        var v1 = java.nio.ByteBuffer.allocate(ActivityLog.TRANSACTION_BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        v1.putInt(0x4E42414C).putLong(41).putLong(ActivityLog.DEFAULT_EXTENT).putInt(1).putLong(6);
        var crc = new java.util.zip.CRC32C();
        crc.update(v1.array(), 0, v1.position());
        v1.putInt((int) crc.getValue());
        java.nio.file.Files.write(d.resolve("activity-log"), v1.array());
        java.nio.file.Files.write(d.resolve("primary"), new byte[0]);   // it crashed as primary

        ReplicaFiles files = new ReplicaFiles(d);
        ReplicaFiles.Loaded l = files.load(SIZE, GenerationIds.created(() -> 0x1111L), ActivityLog.DEFAULT_SLOTS, "aaaa");
        assertThat(l.activityLog().extents()).containsExactly(6L);
        assertThat(l.bitmap().isDirty((6L << 22) / 4096)).as("the crash resyncs the old log's extent").isTrue();
        DiskReplica r = new DiskReplica("1.0", SIZE, Role.PRIMARY, l.ids(), l.bitmap(), l.activityLog(), () -> 7L);
        persistLogOf(files, r.submitWrite(1, 9L << 22, java.nio.ByteBuffer.allocate(4096), false));
        persistLogOf(files, r.submitWrite(2, 11L << 22, java.nio.ByteBuffer.allocate(4096), false));
        files.close();
        assertThat(java.nio.file.Files.size(d.resolve("activity-log"))).as("the old blocks stay; two areas after them")
                .isEqualTo(2L * ActivityLog.TRANSACTION_BYTES + ActivityLog.AREA_BYTES + 4096);

        ReplicaFiles again = new ReplicaFiles(d);
        assertThat(again.load(SIZE, GenerationIds.created(() -> 0x2222L), ActivityLog.DEFAULT_SLOTS, "aaaa").activityLog().extents())
                .containsExactlyInAnyOrder(6L, 9L, 11L);
        again.close();
        // The newest area torn: the other area's transaction (one extent fewer) wins, not the old block.
        try (var c = java.nio.channels.FileChannel.open(d.resolve("activity-log"), java.nio.file.StandardOpenOption.WRITE)) {
            // transaction 43 (the newest) is in area 1
            c.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 2L * ActivityLog.TRANSACTION_BYTES + ActivityLog.AREA_BYTES + 20);
        }
        ReplicaFiles third = new ReplicaFiles(d);
        assertThat(third.load(SIZE, GenerationIds.created(() -> 0x3333L), ActivityLog.DEFAULT_SLOTS, "aaaa").activityLog().extents())
                .containsExactlyInAnyOrder(6L, 9L);
        third.close();
    }

    private static void persistLogOf(ReplicaFiles files, List<ReplicaEffect> effects) throws Exception {
        for (ReplicaEffect e : effects) if (e instanceof ReplicaEffect.PersistActivityLog p) files.saveActivityLog(p.transaction());
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
