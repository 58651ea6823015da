package dev.netboot.boot;

import java.util.Optional;

/**
 * Everything about one client's boot once its loader runs, as {@link Booter} decided it: the image it
 * boots from which disk, with the kernel, initrd and command line; or, when it boots nothing yet, what
 * it waits for (said on its console). The menus only render this.
 *
 * @param mac        lower-case colon form, or "" for a loader that did not say which client it is
 * @param boots      what it boots, empty while it waits
 * @param waitingFor why it waits, for the person at the PC; "" when it boots
 */
public record ClientBoot(String mac, Optional<Boots> boots, String waitingFor) {

    /** What a machine with no image waits for, unless something more particular holds it back. */
    public static final String WAITING_FOR_OPERATOR = "an operator to assign it an image";

    /**
     * @param image      the image's name
     * @param aoeAddress its disk as the Linux aoe driver names it ({@code shelf.slot} of {@code /dev/etherd/eS.S})
     * @param cmdline    the kernel command line: which NIC to raise, which disk to wait for, the operator's extras
     * @param installer  the installer it boots instead of its system (installer mode), "" when it boots its system
     */
    public record Boots(String image, String aoeAddress, String cmdline, String installer) {
        public Boots(String image, String aoeAddress, String cmdline) { this(image, aoeAddress, cmdline, ""); }

        public ImageFile kernel() { return ImageFile.kernel(image); }
        public ImageFile initrd() { return ImageFile.initrd(image); }
        public String aoeDevice() { return "/dev/etherd/e" + aoeAddress; }
        public boolean installing() { return !installer.isEmpty(); }

        /** The kernel the menus load: the installer's while it installs, else the image's. */
        public String kernelPath(String mac) {
            return installing() ? InstallerFile.of(installer, mac, InstallerFile.Kind.KERNEL).path() : kernel().path();
        }

        public String initrdPath(String mac) {
            return installing() ? InstallerFile.of(installer, mac, InstallerFile.Kind.INITRD).path() : initrd().path();
        }
    }

    /** What a loader that named no client gets (pxelinux.cfg/default, grub.cfg, boot.ipxe). */
    public static ClientBoot unknownClient() {
        return new ClientBoot("", Optional.empty(), WAITING_FOR_OPERATOR);
    }

    public boolean isWaiting() { return boots.isEmpty(); }
}
