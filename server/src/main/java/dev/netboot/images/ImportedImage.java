package dev.netboot.images;

import java.nio.file.Path;

/** What an import produced: the image folder (kernel, modules) and the disk image clones start from. */
public record ImportedImage(Path dir, Path disk, String kernelVersion, long sizeBytes) {}
