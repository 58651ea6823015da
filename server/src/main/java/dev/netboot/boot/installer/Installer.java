package dev.netboot.boot.installer;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One installer definition ({@code installers/NAME.properties}): where its kernel and initrd are, the
 * kernel modules matching that kernel (for the AoE add-on), its extra command line and its preseed
 * template; and, for {@code netboot installers fetch}, which Debian packages hold them.
 *
 * @param kernel   the installer's kernel (bzImage)
 * @param initrd   its own initrd, served with ours appended
 * @param modules  a folder holding {@code lib/modules/<version>} of that kernel's linux-image package
 * @param cmdline  extra kernel command line ({@code [=preseedUrl]} etc. already resolved per client by the caller)
 * @param preseed  a FreeMarker template in the installers folder rendered per client, "" for none
 * @param mirror   a folder holding the installer's own components as a Debian udeb mirror ({@link UdebMirror}),
 *                 served to its clients so that it needs no internet mirror; it may not exist
 * @param fetch    where {@code installers fetch} gets the files, if the definition says
 */
public record Installer(String name, String title, Path kernel, Path initrd, Path modules, String cmdline, String preseed,
                        Path mirror, Optional<Fetch> fetch) {

    /**
     * @param installerPackage the Debian package with the kernel and initrd (apt-get download)
     * @param kernelInPackage  the kernel's path inside it
     * @param initrdInPackage  the initrd's path inside it
     * @param modulesPackage   the linux-image package for the kernel's modules; {@code {version}} is the kernel's version
     * @param udebs            installer components (udebs) to put into its local mirror with what they need, none for no mirror
     */
    public record Fetch(String installerPackage, String kernelInPackage, String initrdInPackage, String modulesPackage, List<String> udebs) {
        public Fetch {
            udebs = List.copyOf(udebs);
        }
    }

    public boolean hasPreseed() { return !preseed.isEmpty(); }

    /** Whether the local udeb mirror was built (its Release file is there). */
    public boolean hasMirror() { return java.nio.file.Files.isDirectory(mirror.resolve("dists")); }
}
