package dev.netboot.boot.installer;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Debian installer's own components, as a mirror its {@code net-retriever} can read from this server:
 * Debian's netboot initrd holds only what it needs to reach a mirror, and downloads the rest (the
 * partitioner {@code partman}, its filesystems, disk detection, ...) from {@code dists/SUITE/main/
 * debian-installer/binary-ARCH/Packages} there. This builds such a mirror holding just the udebs asked
 * for and what they depend on that the initrd does not already have (its {@code /var/lib/dpkg/status}),
 * with the real index entries (so the installer checks each udeb's SHA256 as it would against Debian),
 * fetched by apt from the archive this machine's apt gets the installer package from, into a private
 * apt state (the machine's own apt lists and sources are not touched).
 * <p>
 * The Release file is ours and unsigned: the installer must be told
 * {@code debian-installer/allow_unauthenticated=true} (the packaged preseed does so when it points the
 * installer at this mirror). The udebs themselves were verified by apt against Debian's signed index
 * when they were fetched.
 */
public final class UdebMirror {

    /** What the installer's initrd says about itself. */
    record InitrdFacts(String suite, Set<String> installed) {}

    /** Where apt gets the installer package from, and for which architecture it is. */
    record Archive(String uri, String architecture) {}

    /** One stanza of a Packages index, its text kept as it was. */
    record Stanza(String name, String text, Map<String, String> fields) {
        String field(String key) { return fields.getOrDefault(key, ""); }
    }

    private UdebMirror() {}

    /**
     * Builds the mirror into {@code target} (replaced as a whole at the end).
     *
     * @param installerPackage the package the installer came from: its archive is where the udebs come from
     * @param initrd           the installer's own initrd (what it has already, its suite and architecture)
     * @param kernelVersion    the installer's kernel: kernel-module udebs are taken for exactly that version
     * @param udebs            what to put in, with everything they depend on
     * @param work             a scratch folder (deleted by the caller)
     */
    public static List<String> build(String installerPackage, Path initrd, String kernelVersion, List<String> udebs, Path target, Path work,
                                     Consumer<String> progress) throws IOException, InterruptedException {
        InitrdFacts facts = facts(initrd);
        Archive archive = archiveOf(installerPackage, work);
        Downloaded fetched;
        try {
            fetched = download(archive.uri(), facts, archive, udebs, kernelVersion, work, progress);
        } catch (IOException e) {
            // Some archives (deb.debian.org as seen from here) answer plain http for .deb and the indexes but 404 for
            // every .udeb; over https the same archive serves them. The SHA256 check against the index holds either way.
            if (!archive.uri().startsWith("http://")) throw e;
            String https = "https://" + archive.uri().substring("http://".length());
            progress.accept("the udebs could not be had from " + archive.uri() + " (" + firstLine(e.getMessage()) + "): trying " + https);
            deleteTreeQuietly(work.resolve("apt"));
            deleteTreeQuietly(work.resolve("udebs"));
            fetched = download(https, facts, archive, udebs, kernelVersion, work, progress);
        }
        List<Stanza> chosen = fetched.chosen();
        Path debs = fetched.dir();
        Path staging = work.resolve("mirror");
        Files.createDirectories(staging);
        StringBuilder packages = new StringBuilder();
        for (Stanza s : chosen) {
            String filename = s.field("Filename");
            Path into = staging.resolve(filename).normalize();
            if (!into.startsWith(staging) || filename.isEmpty()) throw new IOException("udeb " + s.name() + " has a bad Filename: '" + filename + "'");
            Path got = downloaded(debs, s);
            if (!sha256(Files.readAllBytes(got)).equals(s.field("SHA256"))) throw new IOException(got + " does not match the index's SHA256");
            Files.createDirectories(into.getParent());
            Files.move(got, into);
            packages.append(s.text().strip()).append("\n\n");
        }
        String dir = "main/debian-installer/binary-" + archive.architecture();
        Path packagesDir = Files.createDirectories(staging.resolve("dists").resolve(facts.suite()).resolve(dir));
        byte[] plain = packages.toString().getBytes(StandardCharsets.UTF_8);
        byte[] gz = gzip(plain);
        Files.write(packagesDir.resolve("Packages"), plain);
        Files.write(packagesDir.resolve("Packages.gz"), gz);
        String release = "Origin: netboot\nLabel: netboot installer components\nSuite: " + facts.suite() + "\nCodename: " + facts.suite()
                + "\nArchitectures: " + archive.architecture() + "\nComponents: main\nDescription: the udebs of installer " + installerPackage
                + " this server serves (unsigned: allow_unauthenticated)\nSHA256:\n"
                + " " + sha256(plain) + " " + plain.length + " " + dir + "/Packages\n"
                + " " + sha256(gz) + " " + gz.length + " " + dir + "/Packages.gz\n";
        Files.writeString(staging.resolve("dists").resolve(facts.suite()).resolve("Release"), release);
        InstallerFetcher.deleteTree(target);
        Files.createDirectories(target.getParent());
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        return chosen.stream().map(Stanza::name).toList();
    }

    /** The chosen udebs and the folder apt downloaded them into. */
    private record Downloaded(List<Stanza> chosen, Path dir) {}

    /** apt-get update of {@code uri}'s installer index into a private apt state, then download of the udebs asked for and their closure. */
    private static Downloaded download(String uri, InitrdFacts facts, Archive archive, List<String> udebs, String kernelVersion, Path work,
                                       Consumer<String> progress) throws IOException, InterruptedException {
        Path apt = Files.createDirectories(work.resolve("apt"));
        Files.createDirectories(apt.resolve("lists/partial"));
        Files.createDirectories(apt.resolve("cache/archives/partial"));
        Files.writeString(apt.resolve("sources.list"), "deb " + uri + " " + facts.suite() + " main/debian-installer\n");
        List<String> aptOptions = List.of("-o", "Dir::Etc::SourceList=" + apt.resolve("sources.list"), "-o", "Dir::Etc::SourceParts=" + apt.resolve("none"),
                "-o", "Dir::State::Lists=" + apt.resolve("lists"), "-o", "Dir::Cache=" + apt.resolve("cache"),
                "-o", "APT::Architecture=" + archive.architecture(), "-o", "APT::Get::List-Cleanup=false");
        progress.accept("reading the installer's component index (" + uri + " " + facts.suite() + " main/debian-installer, " + archive.architecture() + ")");
        run(work, concat(List.of("apt-get"), aptOptions, List.of("update")));
        String indexFile = run(work, concat(List.of("apt-get"), aptOptions, List.of("indextargets", "--format", "$(FILENAME)", "Identifier: Packages"))).strip();
        if (indexFile.isEmpty() || indexFile.contains("\n")) throw new IOException("apt-get indextargets: expected one Packages index, got '" + indexFile + "'");
        List<Stanza> index = parse(run(work, List.of("/usr/lib/apt/apt-helper", "cat-file", indexFile)));
        List<Stanza> chosen = closure(index, facts.installed(), udebs, kernelVersion);
        progress.accept("downloading " + chosen.size() + " installer components: " + String.join(" ", chosen.stream().map(Stanza::name).toList()));
        Path debs = Files.createDirectories(work.resolve("udebs"));
        run(debs, concat(List.of("apt-get"), aptOptions, List.of("download"), chosen.stream().map(s -> s.name() + "=" + s.field("Version")).toList()));
        return new Downloaded(chosen, debs);
    }

    private static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl) + " ...";
    }

    private static void deleteTreeQuietly(Path dir) throws IOException {
        InstallerFetcher.deleteTree(dir);
    }

    /** The suite and installed udebs (with what they provide) of an installer's initrd. */
    static InitrdFacts facts(Path initrd) throws IOException {
        String status = null, suite = null;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(initrd));
             // ISO-8859-1: any byte is a character (the installer ships file names that are not UTF-8)
             CpioArchiveInputStream cpio = new CpioArchiveInputStream(new GzipCompressorInputStream(raw, true), "ISO-8859-1")) {
            CpioArchiveEntry e;
            while ((e = cpio.getNextCPIOEntry()) != null) {
                String name = e.getName().replaceFirst("^\\./", "").replaceFirst("^/", "");
                if (name.equals("var/lib/dpkg/status")) status = new String(cpio.readAllBytes(), StandardCharsets.UTF_8);
                else if (name.equals("etc/udebs-source")) suite = new String(cpio.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
        }
        if (status == null) throw new InstallerException(initrd + " has no var/lib/dpkg/status: not a Debian installer initrd?");
        if (suite == null || suite.isEmpty()) throw new InstallerException(initrd + " has no etc/udebs-source: which suite's components it needs is unknown");
        Set<String> installed = new TreeSet<>();
        for (Stanza s : parse(status)) {
            installed.add(s.name());
            for (String p : s.field("Provides").split(",")) if (!p.isBlank()) installed.add(bareName(p));
        }
        return new InitrdFacts(suite, installed);
    }

    /**
     * The udebs to serve: the ones asked for and, depth first, whatever their Depends need that is neither
     * in the initrd nor chosen already. A virtual name ({@code ext4-modules}) is satisfied by a provider,
     * kernel-module udebs only for the installer's kernel. Versions are not compared: the index and the
     * initrd are the same release of the installer.
     */
    static List<Stanza> closure(List<Stanza> index, Set<String> installed, List<String> wanted, String kernelVersion) {
        Map<String, Stanza> byName = new LinkedHashMap<>();
        Map<String, List<Stanza>> providers = new LinkedHashMap<>();
        for (Stanza s : index) {
            byName.putIfAbsent(s.name(), s);
            for (String p : s.field("Provides").split(",")) if (!p.isBlank()) providers.computeIfAbsent(bareName(p), k -> new ArrayList<>()).add(s);
        }
        Map<String, Stanza> chosen = new LinkedHashMap<>();
        Set<String> satisfied = new TreeSet<>(installed);
        for (String w : wanted) {
            Stanza s = byName.get(w);
            if (s == null) throw new InstallerException("the installer's component index has no udeb '" + w + "'");
            add(s, byName, providers, chosen, satisfied, kernelVersion);
        }
        return List.copyOf(chosen.values());
    }

    private static void add(Stanza s, Map<String, Stanza> byName, Map<String, List<Stanza>> providers, Map<String, Stanza> chosen,
                            Set<String> satisfied, String kernelVersion) {
        if (satisfied.contains(s.name()) || chosen.containsKey(s.name())) return;
        chosen.put(s.name(), s);
        satisfied.add(s.name());
        for (String p : s.field("Provides").split(",")) if (!p.isBlank()) satisfied.add(bareName(p));
        for (String group : s.field("Depends").split(",")) {
            if (group.isBlank()) continue;
            List<String> alternatives = List.of(group.split("\\|")).stream().map(UdebMirror::bareName).toList();
            if (alternatives.stream().anyMatch(satisfied::contains)) continue;
            Optional<Stanza> pick = alternatives.stream().map(a -> pick(a, byName, providers, kernelVersion)).flatMap(Optional::stream).findFirst();
            if (pick.isEmpty()) {
                throw new InstallerException("udeb " + s.name() + " depends on " + group.strip() + ", which neither the installer's initrd nor its component index has"
                        + " (for kernel " + kernelVersion + ")");
            }
            add(pick.get(), byName, providers, chosen, satisfied, kernelVersion);
        }
    }

    private static Optional<Stanza> pick(String name, Map<String, Stanza> byName, Map<String, List<Stanza>> providers, String kernelVersion) {
        Stanza real = byName.get(name);
        if (real != null && forKernel(real, kernelVersion)) return Optional.of(real);
        return providers.getOrDefault(name, List.of()).stream().filter(p -> forKernel(p, kernelVersion)).findFirst();
    }

    /** A kernel-module udeb ({@code NAME-VERSION-di}, with a Kernel-Version field) fits only its own kernel. */
    private static boolean forKernel(Stanza s, String kernelVersion) {
        String k = s.field("Kernel-Version");
        return k.isEmpty() || k.equals(kernelVersion);
    }

    private static String bareName(String dependency) {
        String d = dependency.strip();
        int cut = d.length();
        for (char c : new char[] {' ', '(', ':'}) {
            int i = d.indexOf(c);
            if (i >= 0 && i < cut) cut = i;
        }
        return d.substring(0, cut);
    }

    /** Debian control stanzas (Packages, dpkg status): fields by name, continuation lines kept in the value. */
    static List<Stanza> parse(String text) {
        List<Stanza> out = new ArrayList<>();
        for (String block : text.replace("\r", "").split("\n\\s*\n")) {
            if (block.isBlank()) continue;
            Map<String, String> fields = new LinkedHashMap<>();
            String last = null;
            for (String line : block.split("\n")) {
                if (line.startsWith(" ") || line.startsWith("\t")) {
                    if (last != null) fields.put(last, fields.get(last) + "\n" + line);
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon <= 0) continue;
                last = line.substring(0, colon);
                fields.put(last, line.substring(colon + 1).strip());
            }
            String name = fields.get("Package");
            if (name != null) out.add(new Stanza(name, block, fields));
        }
        return out;
    }

    private static final Pattern URI = Pattern.compile("'([a-z+]+://[^']+?)/pool/[^']+_([a-z0-9]+)\\.deb'");

    /** The archive (the URL before {@code /pool/}) apt would download the installer package from, and its architecture. */
    static Archive archiveOf(String installerPackage, Path work) throws IOException, InterruptedException {
        String out = run(work, List.of("apt-get", "download", "--print-uris", installerPackage));
        Matcher m = URI.matcher(out);
        if (!m.find()) throw new IOException("apt-get download --print-uris " + installerPackage + " names no archive: " + out.strip());
        // Debian's installer image packages are "all" and named for the installer's architecture (...-netboot-amd64).
        String arch = m.group(2).equals("all") ? installerPackage.substring(installerPackage.lastIndexOf('-') + 1) : m.group(2);
        return new Archive(m.group(1), arch);
    }

    private static Path downloaded(Path dir, Stanza s) throws IOException {
        String base = s.field("Filename").substring(s.field("Filename").lastIndexOf('/') + 1);
        Path exact = dir.resolve(base);
        if (Files.isRegularFile(exact)) return exact;
        // apt names the file NAME_VERSION_ARCH.udeb with an epoch's ':' encoded; find it by its name.
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(s.name() + "_")).findFirst()
                    .orElseThrow(() -> new IOException("apt-get download left no udeb for " + s.name() + " in " + dir));
        }
    }

    private static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GzipCompressorOutputStream gz = new GzipCompressorOutputStream(out)) {
            gz.write(plain);
        }
        return out.toByteArray();
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> p : parts) all.addAll(p);
        return all;
    }

    /** Runs a command; its output is the result, its errors (to a file: no pipe to fill) are in the exception. */
    private static String run(Path dir, List<String> argv) throws IOException, InterruptedException {
        Path err = Files.createTempFile("udeb-mirror", ".err");
        try {
            Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new IOException(String.join(" ", argv) + " failed: " + (out + Files.readString(err)).strip());
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
