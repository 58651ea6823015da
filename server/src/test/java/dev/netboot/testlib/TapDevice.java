package dev.netboot.testlib;

/**
 * A persistent tap interface for a future qemu guest ({@code -netdev tap,ifname=NAME,script=no,downscript=no},
 * with qemu started in the same namespace). It has no address: {@link Bridge#attach(String)} it to put the guest
 * on a segment with the server.
 */
public final class TapDevice {

    private final Namespace namespace;
    private final String name;
    private final String mac;

    TapDevice(Namespace namespace, String name, String mac) {
        this.namespace = namespace;
        this.name = name;
        this.mac = mac;
    }

    /** The namespace holding the tap, or null for the host namespace. */
    public Namespace namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    /** The MAC of the host end of the tap; the guest chooses its own. */
    public String mac() {
        return mac;
    }
}
