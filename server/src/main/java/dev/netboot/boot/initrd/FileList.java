package dev.netboot.boot.initrd;

import java.util.ArrayList;
import java.util.List;

/**
 * What goes into an initrd, in the format of the kernel's own {@code usr/gen_init_cpio} (so people
 * who know it can read ours), plus a {@code module} line for kernel modules taken from the image:
 * <pre>
 * dir   /proc 0755
 * file  /bin/busybox /usr/lib/busybox-static/busybox 0755
 * slink /bin/sh busybox 0777
 * nod   /dev/console 0600 c 5 1
 * module  GROUP NAME      # from the image's modules.dep, with its dependencies; an error if missing
 * module? GROUP NAME      # the same, skipped when the image has no such module
 * </pre>
 * Owners are always root. {@code GROUP} (nic, aoe, fs...) is how the init script finds them.
 */
public record FileList(List<Entry> entries) {

    public sealed interface Entry {}
    public record Dir(String name, int mode) implements Entry {}
    public record File(String name, String source, int mode) implements Entry {}
    public record Symlink(String name, String target, int mode) implements Entry {}
    public record Node(String name, int mode, char type, int major, int minor) implements Entry {}
    public record ModuleRef(String group, String name, boolean optional) implements Entry {}

    public static FileList parse(String text, String source) throws BadFileListException {
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) line = line.substring(0, hash);
            String[] f = line.strip().split("\\s+");
            if (f.length == 0 || f[0].isEmpty()) continue;
            String where = source + " line " + (i + 1);
            try {
                entries.add(switch (f[0]) {
                    case "dir" -> { need(f, 3, "dir NAME MODE"); yield new Dir(path(f[1]), mode(f[2])); }
                    case "file" -> { need(f, 4, "file NAME SOURCE MODE"); yield new File(path(f[1]), f[2], mode(f[3])); }
                    case "slink" -> { need(f, 4, "slink NAME TARGET MODE"); yield new Symlink(path(f[1]), f[2], mode(f[3])); }
                    case "nod" -> {
                        need(f, 6, "nod NAME MODE c|b MAJOR MINOR");
                        if (!f[3].equals("c") && !f[3].equals("b")) throw new IllegalArgumentException("device type must be c or b, not '" + f[3] + "'");
                        yield new Node(path(f[1]), mode(f[2]), f[3].charAt(0), Integer.parseInt(f[4]), Integer.parseInt(f[5]));
                    }
                    case "module", "module?" -> { need(f, 3, f[0] + " GROUP NAME"); yield new ModuleRef(f[1], f[2], f[0].endsWith("?")); }
                    default -> throw new IllegalArgumentException("unknown entry '" + f[0] + "' (dir, file, slink, nod, module, module?)");
                });
            } catch (IllegalArgumentException e) {
                throw new BadFileListException(where + ": " + e.getMessage());
            }
        }
        return new FileList(List.copyOf(entries));
    }

    private static void need(String[] f, int n, String usage) {
        // gen_init_cpio's trailing uid gid are accepted and ignored: everything is root's.
        if (f.length != n && f.length != n + 2) throw new IllegalArgumentException("expected '" + usage + "'");
    }

    private static String path(String p) {
        if (!p.startsWith("/") || p.contains("/../") || p.endsWith("/..") || p.equals("/")) throw new IllegalArgumentException("bad path '" + p + "' (absolute, no ..)");
        return p;
    }

    private static int mode(String m) {
        int v = Integer.parseInt(m, 8);
        if (v < 0 || v > 07777) throw new IllegalArgumentException("bad mode '" + m + "'");
        return v;
    }

    public static final class BadFileListException extends Exception {
        public BadFileListException(String message) { super(message); }
    }
}
