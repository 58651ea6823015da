package dev.netboot.boot.installer;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The installers an operator can switch a client to: {@code NAME.properties} in the operator's folder
 * ({@code installers.dir}), read at every use like menus and initrd templates, else the packaged default
 * of that name in the jar ({@code /installers/}). Relative file paths in a definition are relative to
 * {@code <dataDir>/installers/NAME/}, where {@code netboot installers fetch NAME} puts them.
 */
public final class InstallerCatalog {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final String PACKAGED = "/installers/";
    /** Packaged definitions, listed here since a jar cannot be listed portably. */
    private static final List<String> PACKAGED_NAMES = List.of("debian");
    private static final Set<String> KEYS = Set.of("title", "kernel", "initrd", "modules", "cmdline", "preseed", "mirror",
            "fetch.package", "fetch.kernel", "fetch.initrd", "fetch.modules", "fetch.udebs");

    private final Path definitions;
    private final Path files;

    /**
     * @param definitions the operator's folder of definitions and preseed templates
     * @param files       where fetched installers live, one folder per installer
     */
    public InstallerCatalog(Path definitions, Path files) {
        this.definitions = definitions;
        this.files = files;
    }

    public Path definitions() { return definitions; }

    /** Where an installer's fetched files go. */
    public Path filesOf(String name) { return files.resolve(checkName(name)); }

    public List<String> names() throws IOException {
        TreeSet<String> names = new TreeSet<>(PACKAGED_NAMES);
        if (Files.isDirectory(definitions)) {
            try (Stream<Path> s = Files.list(definitions)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".properties"))
                        .map(n -> n.substring(0, n.length() - ".properties".length())).filter(n -> NAME.matcher(n).matches())
                        .forEach(names::add);
            }
        }
        return new ArrayList<>(names);
    }

    /** The definition, if there is one (its files may still be missing: {@link #ready}). */
    public Optional<Installer> find(String name) throws IOException {
        checkName(name);
        Optional<String> text = definitionText(name);
        if (text.isEmpty()) return Optional.empty();
        return Optional.of(parse(name, text.get()));
    }

    /**
     * The installer with every file it boots with in place, or a message that says what is missing and how
     * to get it. This is what a client may be switched to.
     */
    public Installer ready(String name) throws IOException {
        Installer i = find(name).orElseThrow(() -> new InstallerException("no installer '" + name + "' (" + definitions.resolve(name + ".properties")
                + " or a packaged one; netboot installers list)"));
        String fetchHint = i.fetch().isPresent() ? " (netboot installers fetch " + name + ")" : " (see " + definitions.resolve(name + ".properties") + ")";
        if (!Files.isRegularFile(i.kernel())) throw new InstallerException("installer " + name + ": its kernel " + i.kernel() + " is missing" + fetchHint);
        if (!Files.isRegularFile(i.initrd())) throw new InstallerException("installer " + name + ": its initrd " + i.initrd() + " is missing" + fetchHint);
        String version = KernelVersion.of(i.kernel());
        Path modules = i.modules().resolve("lib/modules").resolve(version);
        if (!Files.isDirectory(modules)) {
            throw new InstallerException("installer " + name + ": no modules for its kernel " + version + " in " + modules
                    + " (the AoE module must come from linux-image-" + version + ")" + fetchHint);
        }
        return i;
    }

    private Optional<String> definitionText(String name) throws IOException {
        Path own = definitions.resolve(name + ".properties");
        if (Files.isRegularFile(own)) return Optional.of(Files.readString(own, StandardCharsets.UTF_8));
        try (InputStream in = InstallerCatalog.class.getResourceAsStream(PACKAGED + name + ".properties")) {
            if (in == null) return Optional.empty();
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    Installer parse(String name, String text) throws IOException {
        Properties p = new Properties();
        try (Reader r = new StringReader(text)) {
            p.load(r);
        }
        for (String key : p.stringPropertyNames()) {
            if (!KEYS.contains(key)) throw new InstallerException("installer " + name + ": unknown key '" + key + "' (known: " + new TreeSet<>(KEYS) + ")");
        }
        Path home = filesOf(name);
        Optional<Installer.Fetch> fetch = Optional.empty();
        if (p.containsKey("fetch.package")) {
            for (String k : List.of("fetch.kernel", "fetch.initrd", "fetch.modules")) {
                if (p.getProperty(k, "").isBlank()) throw new InstallerException("installer " + name + ": fetch.package needs " + k);
            }
            fetch = Optional.of(new Installer.Fetch(p.getProperty("fetch.package").trim(), p.getProperty("fetch.kernel").trim(),
                    p.getProperty("fetch.initrd").trim(), p.getProperty("fetch.modules").trim(),
                    List.of(p.getProperty("fetch.udebs", "").trim().split("\\s+")).stream().filter(u -> !u.isEmpty()).toList()));
        }
        String preseed = p.getProperty("preseed", "").trim();
        if (!preseed.isEmpty() && !NAME.matcher(preseed).matches()) throw new InstallerException("installer " + name + ": preseed must be a file name in " + definitions);
        return new Installer(name, p.getProperty("title", name).trim(), home.resolve(p.getProperty("kernel", "linux").trim()),
                home.resolve(p.getProperty("initrd", "initrd.gz").trim()), home.resolve(p.getProperty("modules", "modules").trim()),
                p.getProperty("cmdline", "").trim(), preseed, home.resolve(p.getProperty("mirror", "mirror").trim()), fetch);
    }

    private static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) throw new InstallerException("installer names are letters, digits, '.', '_' and '-': '" + name + "'");
        return name;
    }
}
