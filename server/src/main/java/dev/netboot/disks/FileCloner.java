package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.FileBlockStore;
import dev.netboot.storage.Flattener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Client disks as copy-on-write files under {@code <dataDir>/disks}: the image's disk.img read-only below, a sparse overlay on top. */
public final class FileCloner implements DiskCloner {

    private final Path dir;
    private final Path root;

    /** @param dir where clones go ({@code <dataDir>/disks}); its parent is the data directory, all this store may delete in */
    public FileCloner(Path dir) { this(dir, dir.toAbsolutePath().normalize().getParent()); }

    public FileCloner(Path dir, Path dataDir) {
        this.dir = dir;
        this.root = dataDir.toAbsolutePath().normalize();
    }

    @Override
    public Path clone(Image image, String diskName) throws IOException {
        Files.createDirectories(dir);
        Path overlay = dir.resolve(diskName + ".img");
        // Left by an assign that crashed before the inventory recorded it: nobody uses it.
        Files.deleteIfExists(CowBlockStore.sidecarOf(overlay));
        Files.deleteIfExists(overlay);
        CowBlockStore.create(Path.of(image.diskPath()), overlay).close();
        return overlay;
    }

    @Override
    public void delete(Disk disk) throws IOException {
        Path overlay = Path.of(disk.path());
        Files.deleteIfExists(CowBlockStore.sidecarOf(overlay));
        Files.deleteIfExists(overlay);
    }

    @Override
    public void flatten(Disk disk, Progress progress) throws IOException {
        Flattener.flatten(Path.of(disk.path()), progress);
    }

    /** A clone overlay of the image's disk.img where it has the disk's size (it always has for a file clone's image), else a sparse file. */
    @Override
    public Path copyOf(Optional<Image> image, String diskName, long sizeBytes, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Optional<Path> base = image.map(i -> Path.of(i.diskPath())).filter(Files::isRegularFile);
        if (base.isPresent() && Files.size(base.get()) == sizeBytes) CowBlockStore.create(base.get(), file).close();
        else FileBlockStore.createSparse(file, sizeBytes).close();
        return file;
    }

    @Override
    public boolean holds(Path path) {
        return path.toAbsolutePath().normalize().startsWith(root);
    }

    @Override
    public void deleteCopy(Path path) throws IOException {
        if (!holds(path)) throw new IOException(path + " is not under the data directory " + root);
        Files.deleteIfExists(CowBlockStore.sidecarOf(path));
        Files.deleteIfExists(path);
    }

    @Override
    public String kind() { return Disk.CLONE; }
}
