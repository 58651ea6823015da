package dev.netboot.replication;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * What a standby needs to boot the primary's clients after a takeover, in the replication's own words
 * (the app maps its catalog and inventory to and from these; this package knows neither): the images
 * (each a folder of immutable files named by SHA-256), the disk catalog, the clients with their
 * assignments and, in full DHCP mode, the leases. The primary sends the whole state when it changes
 * ({@link CatalogMirror}); it is small (a few hundred bytes per client) next to one disk's bitmap.
 */
public record BootState(List<ImageManifest> images, List<DiskRecord> disks, List<ClientRecord> clients, List<LeaseRow> leases) {

    public static final BootState EMPTY = new BootState(List.of(), List.of(), List.of(), List.of());

    public BootState {
        images = List.copyOf(images);
        disks = List.copyOf(disks);
        clients = List.copyOf(clients);
        leases = List.copyOf(leases);
    }

    /**
     * One file of an image, {@code path} relative to the image's folder ("disk.img", "boot/vmlinuz-6.1.0").
     * Images never change after import, so name + SHA-256 is the file's identity: copied once, checked once.
     */
    public record ImageFile(String path, long sizeBytes, byte[] sha256) {
        public ImageFile {
            checkRelative(path);
            if (sizeBytes < 0) throw new IllegalArgumentException("file " + path + " of " + sizeBytes + " bytes");
            if (sha256.length != 32) throw new IllegalArgumentException("SHA-256 of " + path + " has " + sha256.length + " bytes");
            sha256 = sha256.clone();
        }
        @Override public byte[] sha256() { return sha256.clone(); }
        public String sha256Hex() { return HexFormat.of().formatHex(sha256); }
        @Override public boolean equals(Object o) {
            return o instanceof ImageFile f && f.path.equals(path) && f.sizeBytes == sizeBytes && Arrays.equals(f.sha256, sha256);
        }
        @Override public int hashCode() { return path.hashCode() * 31 + Arrays.hashCode(sha256); }
        @Override public String toString() { return path + " (" + sizeBytes + " bytes, sha256 " + sha256Hex() + ")"; }
    }

    /** An imported image: the inventory's fields and its files ({@code diskFile}: the one clones read from, "" for none). */
    public record ImageManifest(String name, String diskFile, String kernelVersion, String description, String source,
                                long createdMillis, List<ImageFile> files) {
        public ImageManifest {
            checkName(name);
            files = List.copyOf(files);
            if (!diskFile.isEmpty() && files.stream().noneMatch(f -> f.path().equals(diskFile)))
                throw new IllegalArgumentException("image " + name + ": its disk file " + diskFile + " is not among its files");
        }
        public long sizeBytes() { return files.stream().mapToLong(ImageFile::sizeBytes).sum(); }
    }

    /**
     * One catalog disk. {@code path} is relative to the data directory when the disk lives under it (so
     * two servers with different data directories agree), absolute otherwise. {@code image} and
     * {@code kind} come from the inventory ("" when the disk is not a client's: a plain export).
     * {@code fileIdentity} is the primary's file's identity ("" when it has none: LVM, read-only) and
     * {@code replacedIdentities} those of the files it replaced at this address on the primary (a re-image):
     * together they let a standby follow a replacement, and only a real one ({@link FileSuccession}).
     */
    public record DiskRecord(String address, String name, String path, String image, String kind, long sizeBytes,
                             List<String> allowedMacs, boolean open, boolean readOnly, List<String> interfaces,
                             String fileIdentity, List<String> replacedIdentities) {
        public DiskRecord {
            allowedMacs = List.copyOf(allowedMacs);
            interfaces = List.copyOf(interfaces);
            replacedIdentities = List.copyOf(replacedIdentities);
        }

        /** A disk whose file's identity is not known (a peer of format 1). */
        public DiskRecord(String address, String name, String path, String image, String kind, long sizeBytes,
                          List<String> allowedMacs, boolean open, boolean readOnly, List<String> interfaces) {
            this(address, name, path, image, kind, sizeBytes, allowedMacs, open, readOnly, interfaces, "", List.of());
        }
    }

    /** A client row and, if it has one, its assignment ({@code image}/{@code disk} "" and shelf -1 when none). */
    public record ClientRecord(String mac, String hostname, String architecture, String uuid, String bootFile, String state,
                               long firstSeenMillis, long lastSeenMillis, String image, String disk, int shelf, int slot) {}

    /** A DHCP lease (full mode): the address as text, so this package needs no address type. */
    public record LeaseRow(String address, String clientKey, String mac, String hostname, String state, long expiresMillis) {}

    static void checkName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\0"))
            throw new IllegalArgumentException("not an image name: '" + name + "'");
    }

    /** A path inside an image folder: relative, no "..", no empty or "." parts (a peer must not write outside). */
    static void checkRelative(String path) {
        if (path.isEmpty() || path.startsWith("/") || path.contains("\0") || path.contains("\\"))
            throw new IllegalArgumentException("not a relative path: '" + path + "'");
        for (String part : path.split("/", -1))
            if (part.isEmpty() || part.equals(".") || part.equals(".."))
                throw new IllegalArgumentException("path '" + path + "' leaves its folder or has an empty part");
    }
}
