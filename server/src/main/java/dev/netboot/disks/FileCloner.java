package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.Flattener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Client disks as copy-on-write files under {@code <dataDir>/disks}: the image's disk.img read-only below, a sparse overlay on top. */
public final class FileCloner implements DiskCloner {

    private final Path dir;

    public FileCloner(Path dir) { this.dir = dir; }

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

    @Override
    public String kind() { return Disk.CLONE; }
}
