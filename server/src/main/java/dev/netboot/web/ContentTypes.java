package dev.netboot.web;

import java.util.Locale;
import java.util.Map;

/** Content types for what a boot server serves; anything unknown is a binary download. */
final class ContentTypes {

    private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
            Map.entry("ipxe", "text/plain; charset=utf-8"),
            Map.entry("cfg", "text/plain; charset=utf-8"),
            Map.entry("conf", "text/plain; charset=utf-8"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("lst", "text/plain; charset=utf-8"),
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("iso", "application/x-iso9660-image"),
            Map.entry("gz", "application/gzip"),
            Map.entry("xz", "application/x-xz"),
            Map.entry("zst", "application/zstd"),
            Map.entry("cpio", "application/x-cpio"),
            Map.entry("tar", "application/x-tar"),
            Map.entry("img", "application/octet-stream"),
            Map.entry("efi", "application/efi"));

    private ContentTypes() {}

    static String of(String path) {
        int slash = path.lastIndexOf('/');
        String name = path.substring(slash + 1);
        if (name.startsWith("grub.cfg")) return "text/plain; charset=utf-8";
        int dot = name.lastIndexOf('.');
        if (dot < 0) return "application/octet-stream";
        return BY_EXTENSION.getOrDefault(name.substring(dot + 1).toLowerCase(Locale.ROOT), "application/octet-stream");
    }

    /** Types a browser would render (and run scripts in) rather than save: those are sent as downloads. */
    static boolean rendersInABrowser(String path) {
        String type = of(path);
        return type.startsWith("text/html") || type.contains("xml") || type.startsWith("image/svg");
    }
}
