package dev.netboot.loaders;

import dev.netboot.files.ConfinedPath;
import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Serves the loaders the packages brought under their stable names ({@link Loader#servedName()}), PXELINUX's
 * {@code .c32} modules at the top (where pxelinux.0 looks for them) and BIOS GRUB's network image under
 * {@code grub/}, straight from where the packages put them: the operator copies nothing. It sits under the
 * operator's boot root ({@code files.OperatorFilesFirst}), so a file there of the same name wins.
 */
public final class LoaderFileProvider implements FileProvider {

    private final BootLoaders loaders;
    private final Map<String, Path> byName = new HashMap<>();
    private final Optional<DirectoryFileProvider> grubNetDir;
    /** The packages' folders, each resolved once (a lookup runs on the TFTP event loop, per file a PC asks). */
    private final Map<Path, DirectoryFileProvider> folders = new java.util.concurrent.ConcurrentHashMap<>();

    /** @param grubNetDir the folder holding {@code grub/i386-pc/core.0} ({@link GrubNetDirectory}), if made */
    public LoaderFileProvider(BootLoaders loaders, Optional<Path> grubNetDir) throws IOException {
        this.loaders = loaders;
        for (Loader l : Loader.values()) {
            if (l == Loader.GRUB_PC || l == Loader.GRUB_MKNETDIR) continue;
            loaders.file(l).ifPresent(p -> byName.put(l.servedName(), p));
        }
        this.grubNetDir = grubNetDir.isPresent() ? Optional.of(new DirectoryFileProvider(grubNetDir.get(), true)) : Optional.empty();
    }

    @Override
    public Lookup open(FileRequest request) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        if (relative.isEmpty()) return new Lookup.NotFound("not a loader");
        String name = relative.get();
        Path file = byName.get(name);
        if (file == null && !name.contains("/")) file = loaders.syslinuxModule(name).orElse(null);
        if (file != null) return serve(file, name, request);
        if (grubNetDir.isPresent() && name.startsWith("grub/") && !name.startsWith("grub/grub.cfg")) {
            return grubNetDir.get().open(new FileRequest(name, request.client(), request.protocol(), request.server()));
        }
        return new Lookup.NotFound("not a loader");
    }

    /** Loaders are files the packages put on this host: the answer never waits on more than the file system. */
    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        return Optional.of(open(request));
    }

    private Lookup serve(Path file, String name, FileRequest request) {
        try {
            DirectoryFileProvider folder = folders.get(file.getParent());
            if (folder == null) folders.put(file.getParent(), folder = new DirectoryFileProvider(file.getParent(), false));
            Lookup l = folder.open(new FileRequest(file.getFileName().toString(), request.client(), request.protocol(), request.server()));
            return l instanceof Lookup.Found f ? new Lookup.Found(f.file(), name) : l;
        } catch (IOException e) {
            return new Lookup.NotFound("loader " + name + ": " + e.getMessage());
        }
    }
}
