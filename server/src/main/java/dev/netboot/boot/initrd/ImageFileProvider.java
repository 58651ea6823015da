package dev.netboot.boot.initrd;

import dev.netboot.boot.KernelSignature;

import dev.netboot.boot.ImageFile;
import dev.netboot.templates.TemplateException;
import dev.netboot.files.BytesFile;
import dev.netboot.files.ConfinedPath;
import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * An image's kernel and initrd under the names the menus give them: {@code images/<name>/vmlinuz}
 * (the image's own kernel, {@code /boot/vmlinuz-VERSION} for the version its modules are for) and
 * {@code images/<name>/initrd.img} (built by {@link InitrdBuilder}, cached). Other paths fall through.
 */
public final class ImageFileProvider implements FileProvider {

    private static final Logger log = LoggerFactory.getLogger(ImageFileProvider.class);

    private final Function<String, Optional<String>> imagePath;
    private final InitrdBuilder initrds;
    private final java.util.Map<String, KernelSignature> signatures = new java.util.concurrent.ConcurrentHashMap<>();

    /** @param imagePath an image's root filesystem tree by name (the inventory) */
    public ImageFileProvider(Function<String, Optional<String>> imagePath, InitrdBuilder initrds) {
        this.imagePath = imagePath;
        this.initrds = initrds;
    }

    /** Whether {@code relative} (a path under the boot root) names an image's kernel or initrd. */
    public static boolean isImageFileName(String relative) {
        return ImageFile.parse(relative).isPresent();
    }

    @Override
    public Lookup open(FileRequest request) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        Optional<ImageFile> file = relative.flatMap(ImageFile::parse);
        if (file.isEmpty()) return new Lookup.NotFound("not an image file");
        String image = file.get().image();
        Optional<String> path;
        try {
            path = imagePath.apply(image);
        } catch (RuntimeException e) {
            log.error("image {}: inventory lookup failed: {}", image, e.getMessage());
            return new Lookup.NotFound("inventory lookup failed: " + e.getMessage());
        }
        if (path.isEmpty()) return new Lookup.NotFound("no image '" + image + "' in the inventory");
        Path root = Path.of(path.get());
        try {
            if (file.get().kind() == ImageFile.Kind.KERNEL) return kernel(root, relative.get());
            Initrd initrd = initrds.build(image, root);
            return new Lookup.Found(new BytesFile(initrd.bytes()), relative.get());
        } catch (IOException | TemplateException | FileList.BadFileListException e) {
            log.error("image {}: cannot serve {}: {}", image, file.get().path(), e.getMessage());
            return new Lookup.NotFound("image " + image + ": " + e.getMessage());
        }
    }

    /** Says at once only that a path is no image file: an image's files need the inventory, an initrd may be built. */
    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        return ConfinedPath.relative(request.path(), true).flatMap(ImageFile::parse).isEmpty()
                ? Optional.of(new Lookup.NotFound("not an image file")) : Optional.empty();
    }

    /**
     * Builds the image's initrd now, into the cache a PC's request is served from, so the first PC of an image
     * does not wait for the build (templates, modules, gzip: a quarter of a second for a cloud kernel's, on the
     * CPUs that PC shares). A request meanwhile waits for this build rather than making a second one. Failures
     * are logged as a request's would be, and a request later tries again.
     */
    public void prepare(String image) {
        Optional<String> path;
        try {
            path = imagePath.apply(image);
        } catch (RuntimeException e) {
            log.warn("image {}: its initrd is built at the first request (inventory lookup failed: {})", image, e.getMessage());
            return;
        }
        if (path.isEmpty()) return;
        try {
            initrds.build(image, Path.of(path.get()));
        } catch (IOException | TemplateException | FileList.BadFileListException | RuntimeException e) {
            log.error("image {}: cannot build its initrd: {} (PCs asking for it are refused until this is fixed)", image, e.getMessage());
        }
    }

    /**
     * Whether the kernel of {@code image} is signed for Secure Boot ({@link KernelSignature}); empty when the
     * image or its kernel cannot be read. Reads the kernel (a few MiB) once per file version.
     */
    public Optional<KernelSignature> kernelSignature(String image) {
        try {
            Optional<String> path = imagePath.apply(image);
            if (path.isEmpty()) return Optional.empty();
            ImageRoot root = new ImageRoot(Path.of(path.get()));
            Path kernel = root.resolve("boot/vmlinuz-" + InitrdBuilder.kernelVersion(root));
            String key = kernel + "@" + Files.getLastModifiedTime(kernel).toMillis() + "/" + Files.size(kernel);
            KernelSignature known = signatures.get(key);
            if (known != null) return Optional.of(known);
            KernelSignature s = KernelSignature.of(java.nio.ByteBuffer.wrap(Files.readAllBytes(kernel)));
            if (signatures.size() > 1000) signatures.clear();
            signatures.put(key, s);
            return Optional.of(s);
        } catch (IOException | RuntimeException e) {
            log.debug("image {}: kernel signature not read: {}", image, e.toString());
            return Optional.empty();
        }
    }

    private static Lookup kernel(Path root, String name) throws IOException {
        ImageRoot image = new ImageRoot(root);
        String version = InitrdBuilder.kernelVersion(image);
        Path boot = image.resolve("boot");
        if (!Files.isDirectory(boot)) throw new IOException(root + " has no /boot with the kernel");
        Lookup found = new DirectoryFileProvider(boot, false).open(new FileRequest("vmlinuz-" + version, null, "image"));
        return found instanceof Lookup.Found f ? new Lookup.Found(f.file(), name) : found;
    }
}
