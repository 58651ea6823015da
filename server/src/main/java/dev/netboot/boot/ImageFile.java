package dev.netboot.boot;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of an image's boot files, under the name the menus give it and the boot root serves it:
 * {@code images/<name>/vmlinuz} and {@code images/<name>/initrd.img}. Written and parsed here only,
 * so the menus and the file provider cannot drift apart.
 */
public record ImageFile(String image, Kind kind) {

    public enum Kind {
        KERNEL("vmlinuz"), INITRD("initrd.img");

        private final String fileName;

        Kind(String fileName) { this.fileName = fileName; }
    }

    /** Image names as {@code images.ImageName} allows them: no separators, no leading dot. */
    private static final Pattern PATH = Pattern.compile("images/([A-Za-z0-9][A-Za-z0-9._-]*)/(vmlinuz|initrd\\.img)");

    public static ImageFile kernel(String image) { return new ImageFile(image, Kind.KERNEL); }

    public static ImageFile initrd(String image) { return new ImageFile(image, Kind.INITRD); }

    /** The path under the boot root, without a leading slash. */
    public String path() { return "images/" + image + "/" + kind.fileName; }

    /** @param relative a path already confined to the boot root, no leading slash */
    public static Optional<ImageFile> parse(String relative) {
        Matcher m = PATH.matcher(relative);
        if (!m.matches()) return Optional.empty();
        return Optional.of(new ImageFile(m.group(1), m.group(2).equals("vmlinuz") ? Kind.KERNEL : Kind.INITRD));
    }

    @Override
    public String toString() { return path(); }
}
