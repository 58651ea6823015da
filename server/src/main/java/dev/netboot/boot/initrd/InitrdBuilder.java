package dev.netboot.boot.initrd;

import com.github.luben.zstd.ZstdInputStream;
import dev.netboot.templates.TemplateException;
import dev.netboot.templates.Templates;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Builds an image's initrd from two templates, {@code files.ftl} (a {@link FileList}) and
 * {@code init.ftl} (the /init script), and caches it per image and content hash: a changed template,
 * module or source file gives a new build; an unchanged one is served from memory.
 *
 * <p>Kernel modules come from the image's own {@code lib/modules/VERSION} with their dependencies,
 * and are stored decompressed ({@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz} become {@code .ko}):
 * the initrd loads them with busybox {@code insmod}, which hands the kernel a buffer through
 * init_module(2). busybox only unpacks xz/gz when built with its "seamless" options and never zstd,
 * and the kernel unpacks only through finit_module with CONFIG_MODULE_DECOMPRESS; a plain .ko loads
 * with every insmod on every kernel. The size is won back by gzip over the whole archive.
 */
public final class InitrdBuilder {

    private static final Logger log = LoggerFactory.getLogger(InitrdBuilder.class);

    private final Templates templates;
    private final Path busybox;
    private final Map<String, Initrd> cache = new ConcurrentHashMap<>();
    private final Map<String, Object> buildLocks = new ConcurrentHashMap<>();
    private final Map<Path, ParsedDep> parsedDeps = new ConcurrentHashMap<>();

    /** @param busybox a static busybox on this host, put into every initrd (the template may pick the image's instead) */
    public InitrdBuilder(Templates templates, Path busybox) {
        this.templates = templates;
        this.busybox = busybox;
    }

    /**
     * @param image     the image's name (cache key, shown in the init's messages)
     * @param imageRoot the image's root filesystem tree
     */
    public Initrd build(String image, Path imageRoot) throws IOException, TemplateException, FileList.BadFileListException {
        // Eight clients of one image switched on together build its initrd once; other images build meanwhile.
        synchronized (buildLocks.computeIfAbsent(image, i -> new Object())) {
            return buildLocked(image, imageRoot);
        }
    }

    private Initrd buildLocked(String image, Path imageRoot) throws IOException, TemplateException, FileList.BadFileListException {
        Recipe recipe = recipe(image, imageRoot);
        Initrd cached = cache.get(image);
        if (cached != null && cached.hash().equals(recipe.hash)) return cached;
        long started = System.nanoTime();
        Initrd built = new Initrd(image, recipe.hash, pack(recipe));
        cache.put(image, built);
        log.info("built initrd for image {}: kernel {}, {} modules, {} bytes, {} ms (hash {})", image, recipe.kernelVersion,
                recipe.modules.size(), built.bytes().length, (System.nanoTime() - started) / 1_000_000, recipe.hash.substring(0, 12));
        return built;
    }

    /** The initrd last built for {@code image}, if any (it may be stale: {@link #build} checks the recipe). */
    public Optional<Initrd> built(String image) {
        return Optional.ofNullable(cache.get(image));
    }

    /** One kernel module as it goes into the initrd. @param target path inside the initrd, decompressed */
    record ModuleFile(String group, String name, Path source, String target) {}

    private record Recipe(String kernelVersion, List<FileList.Entry> entries, List<ModuleFile> modules, String init, String hash) {}

    /**
     * The image's modules.dep, parsed again only when the file changed (size, modification time or inode): every
     * initrd request checks its recipe, and parsing a distribution kernel's ~4 000 lines each time cost CPU (and C2
     * compiles) right when a lockstep PC starts fetching the initrd block by block.
     */
    private ModulesDep modulesDep(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        ParsedDep known = parsedDeps.get(file);
        if (known != null && known.size() == a.size() && known.modified().equals(a.lastModifiedTime())
                && java.util.Objects.equals(known.key(), a.fileKey())) return known.dep();
        ModulesDep dep = ModulesDep.read(file);
        parsedDeps.put(file, new ParsedDep(a.size(), a.lastModifiedTime(), a.fileKey(), dep));
        return dep;
    }

    private record ParsedDep(long size, FileTime modified, Object key, ModulesDep dep) {}

    private Recipe recipe(String image, Path imageRoot) throws IOException, TemplateException, FileList.BadFileListException {
        if (!Files.isDirectory(imageRoot)) throw new IOException("image " + image + ": " + imageRoot + " is not a root filesystem tree");
        ImageRoot root = new ImageRoot(imageRoot);
        String kernelVersion = kernelVersion(root);
        String modulesDir = "lib/modules/" + kernelVersion + "/";
        ModulesDep dep = modulesDep(root.resolve(modulesDir + "modules.dep"));

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("image", image);
        model.put("kernelVersion", kernelVersion);
        model.put("busybox", busyboxFor(root).toString());
        model.put("imageRoot", imageRoot.toString());
        String filesText = templates.render("files.ftl", model);
        FileList list = confined(FileList.parse(filesText, "files.ftl"), root);

        Map<String, List<String>> wanted = new LinkedHashMap<>();
        for (FileList.Entry e : list.entries()) {
            if (e instanceof FileList.ModuleRef m) {
                if (!m.optional() || dep.has(m.name())) wanted.computeIfAbsent(m.group(), g -> new ArrayList<>()).add(m.name());
            }
        }
        List<ModuleFile> modules = new ArrayList<>();
        Map<String, List<Map<String, String>>> byGroup = new LinkedHashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (var group : wanted.entrySet()) {
            List<Map<String, String>> groupModules = new ArrayList<>();
            // Dependencies shared with an earlier group are loaded there already.
            for (ModulesDep.Module m : dep.resolve(group.getValue())) {
                if (!seen.add(m.name())) continue;
                String target = "/lib/modules/" + kernelVersion + "/" + stripCompression(m.path());
                modules.add(new ModuleFile(group.getKey(), m.name(), root.resolve(modulesDir + m.path()), target));
                groupModules.add(Map.of("name", m.name(), "path", target));
            }
            byGroup.put(group.getKey(), groupModules);
        }
        model.put("modules", byGroup);
        String init = templates.render("init.ftl", model);

        MessageDigest sha = sha256();
        sha.update(filesText.getBytes(StandardCharsets.UTF_8));
        sha.update(init.getBytes(StandardCharsets.UTF_8));
        for (FileList.Entry e : list.entries()) if (e instanceof FileList.File f) stamp(sha, Path.of(f.source()));
        for (ModuleFile m : modules) stamp(sha, m.source());
        return new Recipe(kernelVersion, list.entries(), modules, init, HexFormat.of().formatHex(sha.digest()));
    }

    /**
     * The configured static busybox, else the image's own when it has one (Debian's busybox-static is
     * static; a dynamic one would need its libraries in the initrd: prefer the configured one).
     */
    private Path busyboxFor(ImageRoot imageRoot) throws IOException {
        if (Files.isRegularFile(busybox)) return busybox;
        for (String candidate : List.of("bin/busybox", "usr/bin/busybox", "sbin/busybox")) {
            Path inImage = imageRoot.resolve(candidate);
            if (Files.isRegularFile(inImage)) return inImage;
        }
        throw new IOException("no busybox for the initrd: " + busybox + " does not exist and image " + imageRoot.root()
                + " has none (install busybox-static, or set initrd.busybox)");
    }

    /**
     * A file list's sources are the operator's (files.ftl): host files such as the static busybox are
     * taken as they are, but a source inside the image ({@code [=imageRoot]/...}) is confined to it.
     */
    private static FileList confined(FileList list, ImageRoot root) throws IOException {
        Path imageRoot = root.root().toAbsolutePath().normalize();
        List<FileList.Entry> entries = new ArrayList<>();
        for (FileList.Entry e : list.entries()) {
            if (e instanceof FileList.File f && Path.of(f.source()).toAbsolutePath().normalize().startsWith(imageRoot)) {
                String inImage = imageRoot.relativize(Path.of(f.source()).toAbsolutePath().normalize()).toString();
                e = new FileList.File(f.name(), root.resolve(inImage).toString(), f.mode());
            }
            entries.add(e);
        }
        return new FileList(List.copyOf(entries));
    }

    /** The only version under lib/modules, or the one /vmlinuz or /boot/vmlinuz-VERSION names when there are several. */
    static String kernelVersion(ImageRoot imageRoot) throws IOException {
        Path modules = imageRoot.resolve("lib/modules");
        if (!Files.isDirectory(modules)) throw new IOException(imageRoot.root() + " has no lib/modules: not a Linux root filesystem with a kernel");
        TreeSet<String> versions = new TreeSet<>();
        try (Stream<Path> s = Files.list(modules)) {
            s.filter(p -> Files.isRegularFile(p.resolve("modules.dep"))).forEach(p -> versions.add(p.getFileName().toString()));
        }
        if (versions.isEmpty()) throw new IOException(imageRoot.root() + "/lib/modules has no VERSION/modules.dep (run depmod in the image)");
        if (versions.size() == 1) return versions.first();
        Path vmlinuz = imageRoot.root().resolve("vmlinuz");
        if (Files.isSymbolicLink(vmlinuz)) {
            String target = Files.readSymbolicLink(vmlinuz).getFileName().toString();
            if (target.startsWith("vmlinuz-") && versions.contains(target.substring(8))) return target.substring(8);
        }
        throw new IOException("image has kernels " + versions + " and no /vmlinuz link saying which one boots");
    }

    static String stripCompression(String path) {
        for (String ext : List.of(".xz", ".zst", ".gz")) if (path.endsWith(".ko" + ext)) return path.substring(0, path.length() - ext.length());
        return path;
    }

    private static byte[] moduleBytes(Path source) throws IOException {
        String name = source.getFileName().toString();
        try (InputStream raw = Files.newInputStream(source);
             InputStream in = name.endsWith(".xz") ? new XZInputStream(raw)
                     : name.endsWith(".zst") ? new ZstdInputStream(raw)
                     : name.endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException("cannot read module " + source + ": " + e.getMessage(), e);
        }
    }

    private byte[] pack(Recipe recipe) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        GzipParameters gzip = new GzipParameters();
        gzip.setCompressionLevel(6);
        try (CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(new GzipCompressorOutputStream(out, gzip), CpioConstants.FORMAT_NEW)) {
            Archive archive = new Archive(cpio);
            archive.file("/init", 0755, recipe.init.getBytes(StandardCharsets.UTF_8));
            for (FileList.Entry e : recipe.entries) {
                switch (e) {
                    case FileList.Dir d -> archive.dir(d.name(), d.mode());
                    case FileList.File f -> archive.file(f.name(), f.mode(), readSource(Path.of(f.source())));
                    case FileList.Symlink l -> archive.symlink(l.name(), l.target());
                    case FileList.Node n -> archive.node(n.name(), n.mode(), n.type(), n.major(), n.minor());
                    case FileList.ModuleRef m -> { } // packed below, resolved with their dependencies
                }
            }
            for (ModuleFile m : recipe.modules) archive.file(m.target(), 0644, moduleBytes(m.source()));
        }
        return out.toByteArray();
    }

    private static byte[] readSource(Path source) throws IOException {
        if (!Files.isRegularFile(source)) throw new IOException("file list names " + source + ", which is not a regular file");
        return Files.readAllBytes(source);
    }

    private static void stamp(MessageDigest sha, Path source) throws IOException {
        // Size and modification time stand for the content: hashing a 2 MB busybox on every request would cost more than it saves.
        sha.update(source.toString().getBytes(StandardCharsets.UTF_8));
        if (Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            sha.update(Long.toString(Files.size(source)).getBytes(StandardCharsets.UTF_8));
            sha.update(Files.getLastModifiedTime(source).toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes newc entries: parents before children (the kernel's unpacker does not create them),
     * each path once, owned by root, mtime 0 so that the same recipe gives the same bytes.
     */
    private static final class Archive {
        private final CpioArchiveOutputStream cpio;
        private final java.util.Set<String> written = new java.util.HashSet<>();
        private long inode = 1;

        Archive(CpioArchiveOutputStream cpio) { this.cpio = cpio; }

        void dir(String name, int mode) throws IOException {
            parents(name);
            if (!written.add(name)) return;
            put(entry(name, CpioConstants.C_ISDIR | mode, 0, 2), new byte[0]);
        }

        void file(String name, int mode, byte[] content) throws IOException {
            parents(name);
            if (!written.add(name)) throw new IOException("initrd file list names " + name + " twice");
            put(entry(name, CpioConstants.C_ISREG | mode, content.length, 1), content);
        }

        void symlink(String name, String target) throws IOException {
            parents(name);
            if (!written.add(name)) throw new IOException("initrd file list names " + name + " twice");
            byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
            put(entry(name, CpioConstants.C_ISLNK | 0777, bytes.length, 1), bytes);
        }

        void node(String name, int mode, char type, int major, int minor) throws IOException {
            parents(name);
            if (!written.add(name)) throw new IOException("initrd file list names " + name + " twice");
            CpioArchiveEntry e = entry(name, (type == 'b' ? CpioConstants.C_ISBLK : CpioConstants.C_ISCHR) | mode, 0, 1);
            e.setRemoteDeviceMaj(major);
            e.setRemoteDeviceMin(minor);
            put(e, new byte[0]);
        }

        private void parents(String name) throws IOException {
            int slash = name.lastIndexOf('/');
            if (slash > 0) dir(name.substring(0, slash), 0755);
        }

        private CpioArchiveEntry entry(String name, int mode, long size, int links) {
            CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name.substring(1), size);
            e.setMode(mode);
            e.setInode(inode++);
            e.setNumberOfLinks(links);
            e.setUID(0);
            e.setGID(0);
            e.setTime(0);
            return e;
        }

        private void put(CpioArchiveEntry e, byte[] content) throws IOException {
            cpio.putArchiveEntry(e);
            cpio.write(content);
            cpio.closeArchiveEntry();
        }
    }
}
