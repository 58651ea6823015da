package dev.netboot.replication;

import dev.netboot.replication.BootState.ImageFile;
import dev.netboot.replication.BootState.ImageManifest;
import dev.netboot.replication.ReplicationMessage.CatalogApplied;
import dev.netboot.replication.ReplicationMessage.CatalogPart;
import dev.netboot.replication.ReplicationMessage.ImageData;
import dev.netboot.replication.ReplicationMessage.ImageRequest;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The boot state's mirror over the replication link, one per node and connection lifetime. Sans-I/O:
 * messages and answers in, {@link Effect}s out; the app reads its catalog and inventory, hashes and
 * writes files and applies the state.
 *
 * <p><b>Source</b> (the primary): {@link #publish} a new {@link BootState} whenever the catalog or the
 * inventory changed; it goes out whole (in {@link CatalogPart}s) now and at every link-up, and the peer's
 * {@link CatalogApplied} is kept for the status. It answers {@link ImageRequest}s only for files of an image
 * the current state names, within their size: the peer cannot read anything else of this server.
 *
 * <p><b>Target</b> (the standby): once every part of a version is in, it asks the app which image files
 * are already here with the right SHA-256 ({@link Effect.CheckLocalImages}), fetches the rest in ranges
 * ({@link #CHUNK} bytes, {@link #WINDOW} requests in flight), has each finished file hashed
 * ({@link Effect.VerifyImageFile}; a mismatch is fetched once more, then the version fails), and only when
 * every image the state names is here and checked says {@link Effect.Apply}. So a disk is never made
 * here over an image that is missing or differs, and an image crosses the link once in its life (images
 * never change: a file with the same name and SHA-256 is never asked for again).
 */
public final class CatalogMirror {

    public static final int CHUNK = 256 << 10;
    public static final int WINDOW = 8;
    /** Bytes of boot state per {@link CatalogPart}, well under the link's frame maximum. */
    public static final int PART_BYTES = 512 << 10;

    public sealed interface Effect {
        record Send(ReplicationMessage message) implements Effect {}
        /** Source: read this range of an image file and answer {@link #imageRead}. */
        record ReadImage(ImageRequest request) implements Effect {}
        /** Target: which files of these images are here with the given SHA-256? Answer {@link #localImages}. */
        record CheckLocalImages(long version, List<ImageManifest> images) implements Effect {}
        /** Target: write into the image's incoming copy, then answer {@link #imageWritten}. */
        record WriteImage(String image, String file, long offset, ByteBuffer data) implements Effect {}
        /** Target: hash the fetched file, compare with {@code file.sha256()}, answer {@link #imageVerified}. */
        record VerifyImageFile(String image, ImageFile file) implements Effect {}
        /** Target: every image is here and checked: make catalog and inventory match, answer {@link #applied}. */
        record Apply(long version, BootState state) implements Effect {}
        record Report(String message, boolean problem) implements Effect {}
    }

    public enum Side { SOURCE, TARGET }

    private final Side side;
    private boolean up;

    // source
    private BootState current;
    private long version;
    private long peerApplied;
    private String peerProblem = "";

    // target
    private long assembling;
    private byte[][] parts;
    private int partsIn;
    private long pendingVersion;
    private BootState pending;
    private BootState lastApplied;
    private long lastAppliedVersion;
    private final Deque<ImageRequest> toAsk = new ArrayDeque<>();
    private final Map<String, ImageRequest> asked = new HashMap<>();
    private final Map<String, Fetch> fetching = new LinkedHashMap<>();
    private long fetchedBytes;

    private static final class Fetch {
        final String image;
        final ImageFile file;
        long missing;
        boolean verifying, retried;
        Fetch(String image, ImageFile file) { this.image = image; this.file = file; this.missing = file.sizeBytes(); }
    }

    private CatalogMirror(Side side) { this.side = side; }

    public static CatalogMirror source() { return new CatalogMirror(Side.SOURCE); }
    public static CatalogMirror target() { return new CatalogMirror(Side.TARGET); }

    public Side side() { return side; }
    /** Source: the version last published; target: the version last applied. */
    public long version() { return side == Side.SOURCE ? version : lastAppliedVersion; }
    /** Source: the version the peer said it applied (0: none yet) and its problem ("" when it applied it). */
    public long peerApplied() { return peerApplied; }
    public String peerProblem() { return peerProblem; }
    /** Target: whether a state is being fetched or applied. */
    public boolean busy() { return pending != null; }
    /** Target: image bytes received for the state being fetched. */
    public long fetchedBytes() { return fetchedBytes; }
    /** Target: the state last applied (null: none since start). */
    public BootState lastApplied() { return lastApplied; }

    // ------------------------------------------------------------------ both

    public List<Effect> linkUp() {
        up = true;
        parts = null;
        resetTarget();
        List<Effect> out = new ArrayList<>();
        if (side == Side.SOURCE && current != null) sendState(out);
        return out;
    }

    public List<Effect> linkDown() {
        up = false;
        parts = null;
        resetTarget();
        return List.of();
    }

    public List<Effect> received(ReplicationMessage m) {
        List<Effect> out = new ArrayList<>();
        switch (m) {
            case CatalogPart p when side == Side.TARGET -> part(p, out);
            case CatalogApplied a when side == Side.SOURCE -> {
                if (a.version() == version) {
                    peerApplied = a.version();
                    peerProblem = a.problem();
                }
                out.add(a.problem().isEmpty() ? new Effect.Report("the standby applied boot state " + a.version(), false)
                        : new Effect.Report("the standby could NOT apply boot state " + a.version() + ": " + a.problem(), true));
            }
            case ImageRequest r when side == Side.SOURCE -> {
                String refusal = refusal(r);
                if (refusal == null) out.add(new Effect.ReadImage(r));
                else out.add(new Effect.Report("refused the peer's image request " + r.image() + "/" + r.file() + " at " + r.offset() + ": " + refusal, true));
            }
            case ImageData d when side == Side.TARGET -> {
                ImageRequest r = asked.remove(key(d.image(), d.file(), d.offset()));
                if (r == null || r.length() != d.data().remaining()) {
                    out.add(new Effect.Report("image data " + d.image() + "/" + d.file() + " at " + d.offset() + " was not asked for (or of another length): ignored", true));
                    if (r != null) toAsk.addFirst(r);
                } else {
                    fetchedBytes += r.length();
                    out.add(new Effect.WriteImage(d.image(), d.file(), d.offset(), d.data()));
                }
            }
            default -> out.add(new Effect.Report(m.getClass().getSimpleName() + " is not for a " + side.name().toLowerCase() + ": ignored", true));
        }
        return out;
    }

    // ------------------------------------------------------------------ source

    /** A new state; sent at once if the link is up and it differs from the last. */
    public List<Effect> publish(BootState state) {
        if (side != Side.SOURCE) throw new IllegalStateException("only the source publishes");
        if (state.equals(current)) return List.of();
        current = state;
        version++;
        List<Effect> out = new ArrayList<>();
        if (up) sendState(out);
        return out;
    }

    /** The read a {@link Effect.ReadImage} asked for; null if it failed (the peer asks again after a reconnect). */
    public List<Effect> imageRead(ImageRequest r, ByteBuffer data) {
        if (!up) return List.of();
        if (data == null || data.remaining() != r.length())
            return List.of(new Effect.Report("cannot read " + r.image() + "/" + r.file() + " at " + r.offset() + " for the peer", true));
        return List.of(new Effect.Send(new ImageData(r.image(), r.file(), r.offset(), data)));
    }

    private void sendState(List<Effect> out) {
        byte[] bytes = BootStateCodec.encode(current);
        int count = Math.max(1, (bytes.length + PART_BYTES - 1) / PART_BYTES);
        for (int i = 0; i < count; i++) {
            int from = i * PART_BYTES;
            out.add(new Effect.Send(new CatalogPart(version, i, count, ByteBuffer.wrap(bytes, from, Math.min(PART_BYTES, bytes.length - from)).slice())));
        }
    }

    private String refusal(ImageRequest r) {
        if (current == null) return "nothing published";
        for (ImageManifest i : current.images()) {
            if (!i.name().equals(r.image())) continue;
            for (ImageFile f : i.files())
                if (f.path().equals(r.file()))
                    return r.offset() + r.length() <= f.sizeBytes() ? null : "past the end of the file (" + f.sizeBytes() + " bytes)";
            return "no such file in the image";
        }
        return "no such image in the boot state";
    }

    // ------------------------------------------------------------------ target

    private void part(CatalogPart p, List<Effect> out) {
        if (p.version() != assembling || parts == null || parts.length != p.count()) {
            assembling = p.version();
            parts = new byte[p.count()][];
            partsIn = 0;
        }
        if (parts[p.index()] == null) partsIn++;
        byte[] b = new byte[p.bytes().remaining()];
        p.bytes().duplicate().get(b);
        parts[p.index()] = b;
        if (partsIn < parts.length) return;
        int total = Arrays.stream(parts).mapToInt(x -> x.length).sum();
        ByteBuffer all = ByteBuffer.allocate(total);
        for (byte[] x : parts) all.put(x);
        parts = null;
        BootState state;
        try {
            state = BootStateCodec.decode(all.array());
        } catch (IllegalArgumentException e) {
            out.add(new Effect.Report("boot state " + p.version() + " from the primary does not parse: " + e.getMessage(), true));
            out.add(new Effect.Send(new CatalogApplied(p.version(), "does not parse: " + e.getMessage())));
            return;
        }
        resetTarget();
        if (state.equals(lastApplied)) {
            // Sent again at a link-up, nothing new: confirm without touching anything.
            lastAppliedVersion = p.version();
            out.add(new Effect.Send(new CatalogApplied(p.version(), "")));
            return;
        }
        pending = state;
        pendingVersion = p.version();
        out.add(new Effect.CheckLocalImages(pendingVersion, state.images()));
    }

    /** Which image files ({@link #fileKey}) are here already with the SHA-256 the state names. */
    public List<Effect> localImages(long version, Set<String> present) {
        if (pending == null || version != pendingVersion) return List.of();
        List<Effect> out = new ArrayList<>();
        long bytes = 0;
        for (ImageManifest i : pending.images()) {
            for (ImageFile f : i.files()) {
                if (present.contains(fileKey(i.name(), f))) continue;
                Fetch fetch = new Fetch(i.name(), f);
                fetching.put(fileKey(i.name(), f), fetch);
                queue(fetch);
                bytes += f.sizeBytes();
                // An empty file has no range to ask for: written (created) here as it is, then checked like the others.
                if (f.sizeBytes() == 0) out.add(new Effect.WriteImage(i.name(), f.path(), 0, ByteBuffer.allocate(0)));
            }
        }
        if (!fetching.isEmpty())
            out.add(new Effect.Report("boot state " + version + ": fetching " + fetching.size() + " image file(s), " + (bytes >> 20) + " MiB, from the primary", false));
        pump(out);
        finishIfDone(out);
        return out;
    }

    public List<Effect> imageWritten(String image, String file, long offset, int length, boolean ok) {
        List<Effect> out = new ArrayList<>();
        Fetch f = fetchOf(image, file);
        if (f == null) return out;
        if (!ok) {
            fail("cannot write " + image + "/" + file + " at " + offset, out);
            return out;
        }
        f.missing -= length;
        if (f.missing == 0) {
            f.verifying = true;
            out.add(new Effect.VerifyImageFile(f.image, f.file));
        }
        pump(out);
        return out;
    }

    public List<Effect> imageVerified(String image, String file, boolean ok) {
        List<Effect> out = new ArrayList<>();
        Fetch f = fetchOf(image, file);
        if (f == null || !f.verifying) return out;
        if (ok) {
            fetching.remove(fileKey(image, f.file));
            out.add(new Effect.Report("image file " + image + "/" + f.file + " copied and checked", false));
            finishIfDone(out);
        } else if (!f.retried) {
            f.retried = true;
            f.verifying = false;
            f.missing = f.file.sizeBytes();
            out.add(new Effect.Report("image file " + image + "/" + file + " does not have the primary's SHA-256 after the copy: fetching it once more", true));
            queue(f);
            pump(out);
        } else {
            fail("image file " + image + "/" + file + " differs from the primary's (SHA-256) twice", out);
        }
        return out;
    }

    public List<Effect> applied(long version, String problem) {
        if (pending == null || version != pendingVersion) return List.of();
        List<Effect> out = new ArrayList<>();
        if (problem.isEmpty()) {
            lastApplied = pending;
            lastAppliedVersion = version;
        }
        pending = null;
        if (up) out.add(new Effect.Send(new CatalogApplied(version, problem)));
        return out;
    }

    public static String fileKey(String image, ImageFile f) {
        return image + "/" + f.path() + "@" + f.sha256Hex();
    }

    private Fetch fetchOf(String image, String file) {
        for (Fetch f : fetching.values()) if (f.image.equals(image) && f.file.path().equals(file)) return f;
        return null;
    }

    private void queue(Fetch f) {
        for (long o = 0; o < f.file.sizeBytes(); o += CHUNK)
            toAsk.add(new ImageRequest(f.image, f.file.path(), o, (int) Math.min(CHUNK, f.file.sizeBytes() - o)));
    }

    private void pump(List<Effect> out) {
        while (up && asked.size() < WINDOW && !toAsk.isEmpty()) {
            ImageRequest r = toAsk.poll();
            asked.put(key(r.image(), r.file(), r.offset()), r);
            out.add(new Effect.Send(r));
        }
    }

    private void finishIfDone(List<Effect> out) {
        if (pending != null && fetching.isEmpty() && toAsk.isEmpty() && asked.isEmpty())
            out.add(new Effect.Apply(pendingVersion, pending));
    }

    private void fail(String why, List<Effect> out) {
        out.add(new Effect.Report("boot state " + pendingVersion + " NOT applied: " + why, true));
        if (up) out.add(new Effect.Send(new CatalogApplied(pendingVersion, why)));
        resetTarget();
    }

    private void resetTarget() {
        pending = null;
        toAsk.clear();
        asked.clear();
        fetching.clear();
        fetchedBytes = 0;
    }

    private static String key(String image, String file, long offset) {
        return image + "/" + file + "@" + offset;
    }
}
