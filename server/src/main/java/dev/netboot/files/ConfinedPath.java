package dev.netboot.files;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a client-supplied path into a relative path that cannot leave the served root, or says why not.
 * Lexical checks only; {@link DirectoryFileProvider} also checks where symlinks really lead.
 *
 * <p>Windows PXE clients (WDS, some ROMs) send backslash paths such as {@code boot\x64\wdsnbp.com}:
 * a backslash is read as a separator, so {@code ..\..\x} is refused exactly like {@code ../../x}.
 */
public final class ConfinedPath {

    private ConfinedPath() {}

    public sealed interface Result {}
    public record Relative(List<String> segments) implements Result {
        public String joined() { return String.join("/", segments); }
    }
    public record Outside(String reason) implements Result {}

    /**
     * @param leadingSlashIsRoot when true, "/pxelinux.0" means the root's pxelinux.0 (tftp-hpa --secure
     *                           behaviour, GRUB sends such paths); when false an absolute path is refused
     */
    public static Result of(String requested, boolean leadingSlashIsRoot) {
        if (requested.isEmpty()) return new Outside("empty path");
        if (requested.indexOf('\0') >= 0) return new Outside("path contains NUL");
        for (int i = 0; i < requested.length(); i++) {
            if (requested.charAt(i) < 0x20) return new Outside("path contains a control character");
        }
        String path = requested.replace('\\', '/');
        if (path.length() >= 2 && path.charAt(1) == ':' && Character.isLetter(path.charAt(0))) {
            return new Outside("drive-letter path '" + requested + "'");
        }
        if (path.startsWith("/")) {
            if (!leadingSlashIsRoot) return new Outside("absolute path '" + requested + "'");
            path = path.replaceFirst("^/+", "");
        }
        List<String> segments = new ArrayList<>();
        for (String segment : path.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) continue;
            if (segment.equals("..")) return new Outside("'..' in path '" + requested + "'");
            segments.add(segment);
        }
        if (segments.isEmpty()) return new Outside("path '" + requested + "' names the root itself");
        return new Relative(List.copyOf(segments));
    }

    public static Optional<String> relative(String requested, boolean leadingSlashIsRoot) {
        return of(requested, leadingSlashIsRoot) instanceof Relative r ? Optional.of(r.joined()) : Optional.empty();
    }
}
