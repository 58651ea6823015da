package dev.netboot.images;

import dev.netboot.faults.CrashPoint;
import dev.netboot.storage.Progress;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** The images an operator imported: their folders under {@code <dataDir>/images} and their rows in the inventory. */
public final class ImageLibrary {

    private final Inventory inventory;
    private final ImageImporter importer;
    private final Clock clock;
    private final Path imagesDir;

    public ImageLibrary(Inventory inventory, Path dataDir, Clock clock) {
        this.inventory = inventory;
        this.imagesDir = dataDir.resolve("images").toAbsolutePath();
        this.importer = new ImageImporter(imagesDir);
        this.clock = clock;
    }

    public Image importImage(String name, Path source, OptionalLong size, String description, Progress progress) throws IOException {
        return importImage(name, source, size, description, source.toAbsolutePath().toString(), progress);
    }

    /** @param recordedSource what the inventory says the image came from (a captured client's disk, not the temporary copy) */
    public Image importImage(String name, Path source, OptionalLong size, String description, String recordedSource, Progress progress) throws IOException {
        ImageName.check(name);
        if (inventory.image(name).isPresent()) throw new IOException("image " + name + " exists already");
        ImportedImage imported = importer.importFrom(name, source, size, progress);
        // A crash from here until the row is in leaves a folder without a row: the next start removes it.
        CrashPoint.reached("image-import:folder-in-place");
        try {
            return inventory.addImage(new Image(0, name, imported.dir().toString(), imported.disk().toString(), imported.kernelVersion(),
                    imported.sizeBytes(), description, recordedSource, clock.instant()));
        } catch (InventoryException e) {
            ImageImporter.deleteTree(imported.dir());
            throw e;
        }
    }

    /**
     * The empty disk of this size clients are given to install onto ({@code netboot client install --size}):
     * image {@code blank-<MiB>m}, a sparse file with no kernel (a client of it boots the kernel its installer
     * put on its own disk). Made once per size, shared by every clone.
     */
    public Image blank(long sizeBytes) throws IOException {
        long mib = 1 << 20;
        if (sizeBytes < 64 * mib) throw new IllegalArgumentException("a disk to install onto needs at least 64 MiB, not " + sizeBytes + " bytes");
        long rounded = (sizeBytes + mib - 1) / mib * mib;
        String name = "blank-" + rounded / mib + "m";
        Optional<Image> existing = inventory.image(name);
        if (existing.isPresent()) return existing.get();
        Path dir = imagesDir.resolve(name);
        Files.createDirectories(dir);
        Path disk = dir.resolve("disk.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(rounded); // a hole: no blocks until clients write (into their own overlays)
        }
        return inventory.addImage(new Image(0, name, dir.toString(), disk.toString(), null, rounded,
                "an empty " + rounded / mib + " MiB disk to install onto", BLANK_SOURCE, clock.instant()));
    }

    /** The source recorded for blank images. */
    public static final String BLANK_SOURCE = "blank";

    /** Where images live: a capture stages its copy here, on the same filesystem. */
    public Path imagesDir() { return imagesDir; }

    public List<Image> list() { return inventory.images(); }

    public Optional<Image> find(String name) { return inventory.image(name); }

    /** Removes the image and its folder; refused (InventoryException) while clones or clients use it. */
    public boolean remove(String name) throws IOException {
        Optional<Image> image = inventory.image(name);
        if (image.isEmpty()) return false;
        inventory.removeImage(name);
        // A crash here leaves the folder without its row: the next start finishes the removal.
        CrashPoint.reached("image-remove:row-deleted");
        // Only folders an import made: an image registered by path (a tree elsewhere) is the operator's.
        Path dir = Path.of(image.get().path()).toAbsolutePath();
        if (dir.startsWith(imagesDir)) ImageImporter.deleteTree(dir);
        return true;
    }
}
