package dev.netboot.boot.installer;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the appliance appends to a stock installer's initrd so that it sees the client's AoE disk: a
 * gzip'd newc cpio with the {@code aoe} module (and what it depends on) of exactly the installer's kernel,
 * the list they load in, and the start-up hook ({@code aoe-hook.sh}) in
 * {@code /lib/debian-installer-startup.d/}. The kernel unpacks concatenated cpio archives one after the
 * other, so the installer's own initrd stays untouched.
 */
public final class AoeAddon {

    static final String HOOK = "/lib/debian-installer-startup.d/S45netboot-aoe";
    static final String MODULE_LIST = "/etc/netboot/aoe.modules";
    static final String PRESEED = "/preseed.cfg";
    static final String UDEV_RULE = "/lib/udev/rules.d/60-netboot-aoe.rules";
    /**
     * Debian's installer counts a block device as a disk (list-devices disk: disk detection, its "no disk
     * found" question) by udev's ID_TYPE=disk or a few name patterns; AoE disks have neither. libparted
     * (partman) lists them anyway (major 152); this makes the rest of the installer agree.
     */
    static final String UDEV_RULE_TEXT = """
            # netboot: the client's AoE disk is a disk to the installer (added by the appliance)
            SUBSYSTEM=="block", KERNEL=="etherd*", ENV{DEVTYPE}=="disk", ENV{ID_TYPE}="disk"
            """;

    private AoeAddon() {}

    /** A module file to pack: where it is read from, where it goes in the initrd. */
    record ModuleFile(Path source, String target) {}

    /**
     * @param modulesRoot a folder with {@code lib/modules/<version>} (the linux-image package, extracted)
     * @param hook        the start-up hook's text
     * @param preseed     the client's preseed, put at {@code /preseed.cfg} (d-i reads it first thing), "" for none
     */
    public static byte[] build(String kernelVersion, Path modulesRoot, String hook, String preseed) throws IOException {
        List<ModuleFile> modules = aoeWithDependencies(modulesRoot, kernelVersion);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(new GzipCompressorOutputStream(out), CpioConstants.FORMAT_NEW)) {
            Writer w = new Writer(cpio);
            StringBuilder list = new StringBuilder();
            for (ModuleFile m : modules) {
                w.file(m.target(), 0644, readModule(m.source()));
                list.append(m.target()).append('\n');
            }
            w.file(MODULE_LIST, 0644, list.toString().getBytes(StandardCharsets.UTF_8));
            w.file(HOOK, 0755, hook.getBytes(StandardCharsets.UTF_8));
            w.file(UDEV_RULE, 0644, UDEV_RULE_TEXT.getBytes(StandardCharsets.UTF_8));
            if (!preseed.isEmpty()) w.file(PRESEED, 0644, preseed.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** aoe and its dependencies, dependencies first, as the module's own .modinfo names them (no modules.dep needed). */
    static List<ModuleFile> aoeWithDependencies(Path modulesRoot, String version) throws IOException {
        Path dir = modulesRoot.resolve("lib/modules").resolve(version);
        if (!Files.isDirectory(dir)) throw new InstallerException("no modules for kernel " + version + " in " + dir);
        Map<String, Path> byName = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(dir.resolve("kernel"))) {
            s.filter(p -> p.getFileName().toString().matches(".*\\.ko(\\.xz|\\.zst|\\.gz)?"))
                    .forEach(p -> byName.put(moduleName(p), p));
        }
        List<ModuleFile> order = new ArrayList<>();
        add(byName, "aoe", dir, modulesRoot, order, new HashSet<>());
        return order;
    }

    private static void add(Map<String, Path> byName, String name, Path dir, Path root, List<ModuleFile> order, Set<String> seen) throws IOException {
        if (!seen.add(name)) return;
        Path ko = byName.get(name);
        if (ko == null) throw new InstallerException("kernel " + dir.getFileName() + " has no module " + name + " in " + dir + " (built in, or the wrong linux-image?)");
        for (String dep : dependsOf(readModule(ko))) if (!dep.isBlank()) add(byName, dep.replace('-', '_'), dir, root, order, seen);
        String target = "/" + root.relativize(ko).toString().replaceAll("\\.(xz|zst|gz)$", "");
        order.add(new ModuleFile(ko, target));
    }

    static String moduleName(Path p) {
        String n = p.getFileName().toString();
        return n.substring(0, n.indexOf(".ko")).replace('-', '_');
    }

    /** The "depends=" entry of a module's .modinfo section (what depmod writes into modules.dep). */
    static List<String> dependsOf(byte[] ko) {
        byte[] key = "\0depends=".getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + key.length < ko.length; i++) {
            for (int j = 0; j < key.length; j++) if (ko[i + j] != key[j]) continue outer;
            int start = i + key.length, end = start;
            while (end < ko.length && ko[end] != 0) end++;
            return List.of(new String(ko, start, end - start, StandardCharsets.US_ASCII).split(","));
        }
        return List.of();
    }

    private static byte[] readModule(Path source) throws IOException {
        String n = source.getFileName().toString();
        try (InputStream raw = Files.newInputStream(source);
             InputStream in = n.endsWith(".xz") ? new org.tukaani.xz.XZInputStream(raw)
                     : n.endsWith(".zst") ? new com.github.luben.zstd.ZstdInputStream(raw)
                     : n.endsWith(".gz") ? new java.util.zip.GZIPInputStream(raw) : raw) {
            return in.readAllBytes();
        }
    }

    /** newc entries, parents first, root-owned, mtime 0: the same inputs give the same bytes. */
    private static final class Writer {
        private final CpioArchiveOutputStream cpio;
        private final Set<String> dirs = new HashSet<>();
        private long inode = 1;

        Writer(CpioArchiveOutputStream cpio) { this.cpio = cpio; }

        void file(String name, int mode, byte[] content) throws IOException {
            parents(name);
            put(name, CpioConstants.C_ISREG | mode, content);
        }

        private void parents(String name) throws IOException {
            int slash = name.lastIndexOf('/');
            if (slash <= 0) return;
            String parent = name.substring(0, slash);
            if (dirs.contains(parent)) return;
            parents(parent);
            dirs.add(parent);
            put(parent, CpioConstants.C_ISDIR | 0755, new byte[0]);
        }

        private void put(String name, int mode, byte[] content) throws IOException {
            CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name.substring(1), content.length);
            e.setMode(mode);
            e.setInode(inode++);
            e.setNumberOfLinks((mode & CpioConstants.C_ISDIR) == CpioConstants.C_ISDIR ? 2 : 1);
            e.setTime(0);
            cpio.putArchiveEntry(e);
            cpio.write(content);
            cpio.closeArchiveEntry();
        }
    }
}
