package dev.netboot.inventory;

import java.time.Instant;

/**
 * One imported image.
 *
 * @param path          the image's folder: {@code boot/vmlinuz-VERSION} and {@code lib/modules/VERSION}
 *                      (what the initrd builder and the kernel route read) beside the disk
 * @param diskPath      the read-only disk image clients' disks are cloned from
 * @param kernelVersion the kernel the image boots (its modules are under lib/modules/VERSION)
 * @param source        what it was imported from, for the operator
 */
public record Image(long id, String name, String path, String diskPath, String kernelVersion, long sizeBytes,
                    String description, String source, Instant created) {}
