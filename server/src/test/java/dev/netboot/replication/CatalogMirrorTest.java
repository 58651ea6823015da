package dev.netboot.replication;

import dev.netboot.replication.BootState.*;
import dev.netboot.replication.CatalogMirror.Effect;
import dev.netboot.replication.ReplicationMessage.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Source and target mirrors back to back, with maps of bytes for the two servers' image folders: the
 * effects are carried out as the app would (read, write, hash for real), the messages pass through the
 * link's codec so they are what crosses the wire.
 */
class CatalogMirrorTest {

    final Map<String, byte[]> primaryFiles = new HashMap<>();
    final Map<String, byte[]> standbyFiles = new HashMap<>();
    final CatalogMirror source = CatalogMirror.source();
    final CatalogMirror target = CatalogMirror.target();
    final List<BootState> applied = new ArrayList<>();
    final List<ImageRequest> requests = new ArrayList<>();
    final List<CatalogApplied> acks = new ArrayList<>();
    /** Corrupts image data on the way to the standby while > 0 (a bad disk, a bug). */
    int corruptions;
    String corruptFile = "demo/disk.img";
    String applyProblem = "";

    static byte[] sha(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    ImageManifest image(String name, int diskBytes, long seed) {
        byte[] disk = new byte[diskBytes];
        new Random(seed).nextBytes(disk);
        byte[] kernel = ("kernel of " + name).getBytes();
        primaryFiles.put(name + "/disk.img", disk);
        primaryFiles.put(name + "/boot/vmlinuz-6.1.0", kernel);
        primaryFiles.put(name + "/lib/modules/6.1.0/modules.dep", new byte[0]);
        return new ImageManifest(name, "disk.img", "6.1.0", "test", "rootfs", 1000, List.of(
                new ImageFile("disk.img", disk.length, sha(disk)),
                new ImageFile("boot/vmlinuz-6.1.0", kernel.length, sha(kernel)),
                new ImageFile("lib/modules/6.1.0/modules.dep", 0, sha(new byte[0]))));
    }

    static BootState state(List<ImageManifest> images, int clients) {
        List<DiskRecord> disks = new ArrayList<>();
        List<ClientRecord> cs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            String mac = String.format("52:54:00:00:%02x:%02x", i >> 8, i & 0xff);
            disks.add(new DiskRecord("1." + i, "pc-" + i, "disks/pc-" + i + ".img", images.getFirst().name(), "clone", 1 << 20, List.of(mac), false, false, List.of()));
            cs.add(new ClientRecord(mac, "pc-" + i, "x64", "", "", "active", 1, 2, images.getFirst().name(), "pc-" + i, 1, i));
        }
        return new BootState(images, disks, cs, List.of(new LeaseRow("10.0.0.5", "01:52:54:00:00:00:00", "52:54:00:00:00:00", "pc-0", "BOUND", 99)));
    }

    /** Runs effects on both sides until nothing moves; every message crosses through a real codec pair. */
    void run(List<Effect> fromSource, List<Effect> fromTarget) throws Exception {
        Deque<Object[]> work = new ArrayDeque<>();
        for (Effect e : fromSource) work.add(new Object[]{source, e});
        for (Effect e : fromTarget) work.add(new Object[]{target, e});
        for (int steps = 0; !work.isEmpty(); steps++) {
            assertThat(steps).as("the mirrors keep talking").isLessThan(100_000);
            Object[] w = work.poll();
            CatalogMirror side = (CatalogMirror) w[0];
            CatalogMirror other = side == source ? target : source;
            List<Effect> next = switch ((Effect) w[1]) {
                case Effect.Send s -> {
                    ReplicationMessage m = wire(s.message());
                    if (m instanceof ImageRequest r) requests.add(r);
                    if (m instanceof CatalogApplied a) acks.add(a);
                    if (m instanceof ImageData d && corruptions > 0 && corruptFile.equals(d.image() + "/" + d.file())) {
                        corruptions--;
                        ByteBuffer bad = ByteBuffer.allocate(d.data().remaining()).put(d.data().duplicate()).flip();
                        bad.put(0, (byte) (bad.get(0) ^ 1));
                        m = new ImageData(d.image(), d.file(), d.offset(), bad);
                    }
                    // the message arrives at the other side; its answers are that side's effects
                    List<Effect> answers = other.received(m);
                    for (Effect e : answers) work.add(new Object[]{other, e});
                    yield List.of();
                }
                case Effect.ReadImage r -> {
                    byte[] f = primaryFiles.get(r.request().image() + "/" + r.request().file());
                    yield source.imageRead(r.request(), ByteBuffer.wrap(Arrays.copyOfRange(f, (int) r.request().offset(), (int) r.request().offset() + r.request().length())));
                }
                case Effect.CheckLocalImages c -> {
                    Set<String> present = new HashSet<>();
                    for (ImageManifest i : c.images())
                        for (ImageFile f : i.files()) {
                            byte[] have = standbyFiles.get(i.name() + "/" + f.path());
                            if (have != null && Arrays.equals(sha(have), f.sha256())) present.add(CatalogMirror.fileKey(i.name(), f));
                        }
                    yield target.localImages(c.version(), present);
                }
                case Effect.WriteImage wi -> {
                    String k = wi.image() + "/" + wi.file();
                    byte[] f = standbyFiles.getOrDefault(k, new byte[0]);
                    int end = (int) wi.offset() + wi.data().remaining();
                    if (f.length < end) f = Arrays.copyOf(f, end);
                    wi.data().duplicate().get(f, (int) wi.offset(), wi.data().remaining());
                    standbyFiles.put(k, f);
                    yield target.imageWritten(wi.image(), wi.file(), wi.offset(), wi.data().remaining(), true);
                }
                case Effect.VerifyImageFile v -> {
                    byte[] f = standbyFiles.getOrDefault(v.image() + "/" + v.file().path(), new byte[0]);
                    yield target.imageVerified(v.image(), v.file().path(), Arrays.equals(sha(f), v.file().sha256()));
                }
                case Effect.Apply a -> {
                    if (applyProblem.isEmpty()) applied.add(a.state());
                    yield target.applied(a.version(), applyProblem);
                }
                case Effect.Report r -> List.of();
            };
            for (Effect e : next) work.add(new Object[]{side, e});
        }
    }

    static ReplicationCodec[] codecs() throws Exception {
        byte[] a = ReplicationCodecProperties.nonce(1), b = ReplicationCodecProperties.nonce(2);
        return new ReplicationCodec[]{ReplicationCodec.forConnection("k".getBytes(), a, b, ReplicationCodec.DEFAULT_MAX_FRAME),
                ReplicationCodec.forConnection("k".getBytes(), b, a, ReplicationCodec.DEFAULT_MAX_FRAME)};
    }

    final ReplicationCodec[] pair = codecsUnchecked();

    static ReplicationCodec[] codecsUnchecked() {
        try {
            return codecs();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    ReplicationMessage wire(ReplicationMessage m) throws Exception {
        return pair[1].decode(pair[0].encode(m));
    }

    void connect() throws Exception {
        run(source.linkUp(), target.linkUp());
    }

    @Test
    void anImageIsCopiedOnceCheckedBySha256AndTheStateAppliedOnlyThen() throws Exception {
        ImageManifest demo = image("demo", 3 * CatalogMirror.CHUNK + 100, 1);
        connect();
        run(source.publish(state(List.of(demo), 2)), List.of());

        assertThat(applied).containsExactly(state(List.of(demo), 2));
        for (String f : List.of("demo/disk.img", "demo/boot/vmlinuz-6.1.0", "demo/lib/modules/6.1.0/modules.dep"))
            assertThat(standbyFiles.get(f)).as(f).isEqualTo(primaryFiles.get(f));
        assertThat(requests).as("the disk image in 4 ranges, the kernel in 1, the empty file in none").hasSize(5);
        assertThat(acks).extracting(CatalogApplied::problem).containsExactly("");
        assertThat(source.peerApplied()).isEqualTo(source.version());

        // A clone more: the image is here already, so nothing but the state crosses.
        requests.clear();
        run(source.publish(state(List.of(demo), 3)), List.of());
        assertThat(requests).isEmpty();
        assertThat(applied).hasSize(2).last().isEqualTo(state(List.of(demo), 3));

        // The same state again (a reconnect): confirmed, not applied a second time.
        run(source.linkDown(), target.linkDown());
        connect();
        assertThat(applied).hasSize(2);
        assertThat(acks).hasSize(3);
        assertThat(source.peerApplied()).isEqualTo(source.version());
    }

    @Test
    void aFileThatArrivesDamagedIsFetchedOnceMoreAndTwiceDamagedFailsTheVersion() throws Exception {
        ImageManifest demo = image("demo", 1000, 2);
        connect();
        corruptions = 1;
        run(source.publish(state(List.of(demo), 1)), List.of());
        assertThat(applied).hasSize(1);
        assertThat(standbyFiles.get("demo/disk.img")).isEqualTo(primaryFiles.get("demo/disk.img"));

        ImageManifest other = image("other", 1000, 3);
        corruptions = 2;
        corruptFile = "other/disk.img";
        run(source.publish(state(List.of(other, demo), 1)), List.of());
        assertThat(applied).as("never applied over an image that differs").hasSize(1);
        assertThat(acks.getLast().problem()).contains("other/disk.img").contains("SHA-256");
        assertThat(source.peerProblem()).contains("differs");
    }

    @Test
    void theSourceServesOnlyFilesOfTheImagesItPublishedAndOnlyWithinThem() {
        ImageManifest demo = image("demo", 1000, 4);
        source.linkUp();
        source.publish(state(List.of(demo), 1));
        assertThat(source.received(new ImageRequest("demo", "disk.img", 0, 1000))).singleElement().isInstanceOf(Effect.ReadImage.class);
        for (ImageRequest bad : List.of(new ImageRequest("demo", "disk.img", 1, 1000), new ImageRequest("demo", "etc/shadow", 0, 10),
                new ImageRequest("secret", "disk.img", 0, 10)))
            assertThat(source.received(bad)).as(bad.toString()).singleElement()
                    .isInstanceOfSatisfying(Effect.Report.class, r -> assertThat(r.problem()).isTrue());
    }

    @Test
    void aStateLargerThanOneFrameCrossesInPartsAndAFailedApplyIsReported() throws Exception {
        ImageManifest demo = image("demo", 10, 5);
        BootState big = state(List.of(demo), 6000);
        assertThat(BootStateCodec.encode(big).length).isGreaterThan(CatalogMirror.PART_BYTES);
        connect();
        applyProblem = "disk 1.7 exists with another image";
        run(source.publish(big), List.of());
        assertThat(applied).isEmpty();
        assertThat(source.peerProblem()).isEqualTo(applyProblem);
        applyProblem = "";
        run(source.linkDown(), target.linkDown());
        connect();
        assertThat(applied).containsExactly(big);
    }

    @Test
    void pathsOutsideTheImageFolderAndDamagedStatesAreRefused() {
        for (String bad : List.of("../x", "/etc/passwd", "a//b", "a/./b", "", "a/.."))
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ImageRequest("demo", bad, 0, 1)).as(bad).isInstanceOf(IllegalArgumentException.class);
        byte[] bytes = BootStateCodec.encode(state(List.of(image("demo", 10, 6)), 2));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BootStateCodec.decode(Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends early");
        assertThat(BootStateCodec.decode(bytes)).isEqualTo(state(List.of(image("demo", 10, 6)), 2));
    }
}
