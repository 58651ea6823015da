package dev.netboot.files;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The operator's boot root first, then what the server generates (menus, images' kernels and initrds):
 * a file the operator put in the root under a generated name, say their own {@code boot.ipxe}, is what
 * the client gets, as it would from dnsmasq or tftp-hpa. For names matching one of {@code generatedFirst}
 * (globs such as {@code boot.ipxe} or {@code pxelinux.cfg/*}) the generated file wins instead.
 *
 * <p>When neither has the file, the client gets the boot root's answer (its "not found" or "refused"),
 * except that a generated file is still found when the root refuses its path as absolute: GRUB asks for
 * {@code /grub/grub.cfg-01-...}. An absolute path outside the root stays "refused" (an access violation) even
 * when no such file exists: whether a path escapes the root is answered the same for every path.
 */
public final class OperatorFilesFirst implements FileProvider {

    private static final Logger log = LoggerFactory.getLogger(OperatorFilesFirst.class);

    private final FileProvider bootRoot;
    private final FileProvider generated;
    private final Predicate<String> isGeneratedName;
    private final List<PathMatcher> generatedFirst;

    /**
     * @param isGeneratedName whether a relative path is one {@code generated} may answer (for the log only)
     * @param generatedFirst  globs of names for which {@code generated} is asked first
     */
    public OperatorFilesFirst(FileProvider bootRoot, FileProvider generated, Predicate<String> isGeneratedName, List<String> generatedFirst) {
        this.bootRoot = bootRoot;
        this.generated = generated;
        this.isGeneratedName = isGeneratedName;
        this.generatedFirst = generatedFirst.stream().map(OperatorFilesFirst::glob).toList();
    }

    /** A glob as {@link FileSystems#getDefault()} reads it ({@code *} stays within one folder, {@code **} crosses them). */
    public static PathMatcher glob(String pattern) {
        try {
            return FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad name pattern '" + pattern + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Lookup open(FileRequest request) {
        return answer(request, provider -> Optional.of(provider.open(request))).orElseThrow();
    }

    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        return answer(request, provider -> provider.openAtOnce(request));
    }

    /** The rule above, for both ways of asking: {@code ask} is empty when a provider cannot answer now, and so is this then. */
    private Optional<Lookup> answer(FileRequest request, Function<FileProvider, Optional<Lookup>> ask) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        if (relative.isPresent() && generatedWins(relative.get())) {
            Optional<Lookup> ours = ask.apply(generated);
            return ours.isEmpty() || ours.get() instanceof Lookup.Found ? ours : ask.apply(bootRoot);
        }
        Optional<Lookup> operators = ask.apply(bootRoot);
        if (operators.isEmpty()) return operators;
        if (operators.get() instanceof Lookup.Found found) {
            if (log.isDebugEnabled() && relative.isPresent() && isGeneratedName.test(relative.get())) {
                log.debug("{}: served the boot root's {} to {}, not the generated one (files.generatedFirst turns this round)",
                        request.protocol(), found.name(), request.client());
            }
            return operators;
        }
        Optional<Lookup> ours = ask.apply(generated);
        return ours.isEmpty() || ours.get() instanceof Lookup.Found ? ours : operators;
    }

    public boolean generatedWins(String relative) {
        Path name = Path.of(relative);
        for (PathMatcher m : generatedFirst) if (m.matches(name)) return true;
        return false;
    }

    /**
     * The files in the boot root (at most {@code depth} folders deep) under names the server also generates,
     * and not listed in {@code generatedFirst}: for the start-up log, so an operator sees whose file a client gets.
     */
    public List<String> shadowedBy(Path root, int depth) {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> files = Files.walk(root, depth)) {
            return files.filter(Files::isRegularFile)
                    .map(f -> root.relativize(f).toString())
                    .filter(isGeneratedName)
                    .filter(name -> !generatedWins(name))
                    .sorted().limit(50).toList();
        } catch (IOException | UncheckedIOException e) {
            log.warn("could not look through {} for files named like generated ones: {}", root, e.getMessage());
            return List.of();
        }
    }
}
