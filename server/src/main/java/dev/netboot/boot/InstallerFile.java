package dev.netboot.boot;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of the files a client's installer boots with, under the name the menus give it and the boot root
 * serves it: {@code installers/<installer>/<mac as 12 hex digits>/linux|initrd.gz|preseed.cfg}. The MAC is
 * in the path because the initrd's fetch is what tells the appliance that this client's install began,
 * and the preseed is rendered for that client. Written and parsed here only.
 */
public record InstallerFile(String installer, String mac, Kind kind) {

    public enum Kind {
        KERNEL("linux"), INITRD("initrd.gz"), PRESEED("preseed.cfg");

        private final String fileName;

        Kind(String fileName) { this.fileName = fileName; }
    }

    private static final Pattern PATH = Pattern.compile("installers/([A-Za-z0-9][A-Za-z0-9._-]*)/([0-9a-f]{12})/(linux|initrd\\.gz|preseed\\.cfg)");

    public static InstallerFile of(String installer, String mac, Kind kind) {
        return new InstallerFile(installer, mac, kind);
    }

    /** The path under the boot root, without a leading slash. */
    public String path() { return "installers/" + installer + "/" + mac.replace(":", "") + "/" + kind.fileName; }

    /** @param relative a path already confined to the boot root, no leading slash */
    public static Optional<InstallerFile> parse(String relative) {
        Matcher m = PATH.matcher(relative);
        if (!m.matches()) return Optional.empty();
        String hex = m.group(2);
        StringBuilder mac = new StringBuilder();
        for (int i = 0; i < 12; i += 2) mac.append(i == 0 ? "" : ":").append(hex, i, i + 2);
        Kind kind = switch (m.group(3)) {
            case "linux" -> Kind.KERNEL;
            case "initrd.gz" -> Kind.INITRD;
            default -> Kind.PRESEED;
        };
        return Optional.of(new InstallerFile(m.group(1), mac.toString(), kind));
    }

    @Override
    public String toString() { return path(); }
}
