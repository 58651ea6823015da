package dev.netboot.loaders;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The boot loaders the distribution's packages put under one file system root: {@code /} on the server,
 * a {@code dpkg -x} tree in tests. Only looks: nothing is run or copied. Absolute symbolic links (Debian's
 * {@code /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi}) are followed inside the root, never out of it.
 */
public final class BootLoaders {

    private final Path root;
    private final Map<Loader, Path> found;

    private BootLoaders(Path root, Map<Loader, Path> found) {
        this.root = root;
        this.found = found;
    }

    /** Looks for every {@link Loader} under {@code root}. */
    public static BootLoaders discover(Path root) {
        Map<Loader, Path> found = new EnumMap<>(Loader.class);
        for (Loader l : Loader.values()) {
            for (String p : l.paths()) {
                Optional<Path> file = resolveInside(root, p);
                if (file.isPresent() && Files.isRegularFile(file.get())) {
                    found.put(l, file.get());
                    break;
                }
            }
        }
        return new BootLoaders(root, found);
    }

    /** None found: for a server that serves only the operator's files. */
    public static BootLoaders none() {
        return new BootLoaders(Path.of("/nonexistent"), Map.of());
    }

    public Path root() { return root; }

    /** The file on this machine, with every link resolved. */
    public Optional<Path> file(Loader loader) { return Optional.ofNullable(found.get(loader)); }

    public boolean has(Loader loader) { return found.containsKey(loader); }

    public boolean canBoot(ClientKind kind) { return kind.needs().stream().allMatch(this::has); }

    /** The packages to install so that every kind in {@code kinds} can boot, in a stable order. */
    public List<String> missingPackages(List<ClientKind> kinds) {
        Set<String> packages = new LinkedHashSet<>();
        for (ClientKind k : kinds) for (Loader l : k.needs()) if (!has(l)) packages.add(l.debianPackage());
        return List.copyOf(packages);
    }

    public List<String> missingPackages() { return missingPackages(List.of(ClientKind.values())); }

    /** A PXELINUX library module ({@code menu.c32}) next to ldlinux.c32, if the package has it. */
    public Optional<Path> syslinuxModule(String name) {
        if (!name.endsWith(".c32") || name.contains("/") || name.startsWith(".")) return Optional.empty();
        return resolveInside(root, Loader.SYSLINUX_MODULES + "/" + name).filter(Files::isRegularFile);
    }

    /** One line per client kind: whether it boots now, else which packages it waits for. */
    public List<String> describeKinds() {
        List<String> lines = new ArrayList<>();
        for (ClientKind k : ClientKind.values()) {
            lines.add(canBoot(k) ? k.label() + ": ready (" + String.join(", ", k.needs().stream().map(Loader::servedName).toList()) + ")"
                    : k.label() + ": missing " + String.join(", ", k.needs().stream().filter(l -> !has(l)).map(Loader::servedName).toList())
                    + " (apt-get install " + String.join(" ", missingPackages(List.of(k))) + ")");
        }
        return lines;
    }

    /**
     * {@code relative} under {@code root}, following symbolic links one segment at a time and reading an
     * absolute target as relative to {@code root} (a chroot's view); empty if it leaves the root or loops.
     */
    static Optional<Path> resolveInside(Path root, String relative) {
        Path base = root.toAbsolutePath().normalize();
        List<String> todo = new ArrayList<>(List.of(relative.split("/")));
        Path at = base;
        int links = 0;
        while (!todo.isEmpty()) {
            String seg = todo.removeFirst();
            if (seg.isEmpty() || seg.equals(".")) continue;
            if (seg.equals("..")) {
                if (at.equals(base)) return Optional.empty();
                at = at.getParent();
                continue;
            }
            Path next = at.resolve(seg);
            if (Files.isSymbolicLink(next)) {
                if (++links > 40) return Optional.empty();
                String target;
                try {
                    target = Files.readSymbolicLink(next).toString();
                } catch (IOException e) {
                    return Optional.empty();
                }
                List<String> rest = new ArrayList<>(List.of(target.split("/")));
                rest.addAll(todo);
                todo = rest;
                if (target.startsWith("/")) at = base;
                continue;
            }
            if (!Files.exists(next, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
            at = next;
        }
        return at.startsWith(base) ? Optional.of(at) : Optional.empty();
    }
}
