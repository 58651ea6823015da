package dev.netboot.testlib;

import java.net.InetAddress;

/**
 * A Linux bridge: one L2 segment that taps and veth ends can join. It owns the segment's subnet and holds host
 * number 1 of it, so a server in the bridge's namespace listens on {@link #address()}.
 */
public final class Bridge {

    private final NetLab lab;
    private final Namespace namespace;
    private final String name;
    private final Subnet subnet;
    private int nextHost = 2;

    Bridge(NetLab lab, Namespace namespace, String name, Subnet subnet) {
        this.lab = lab;
        this.namespace = namespace;
        this.name = name;
        this.subnet = subnet;
    }

    /**
     * Makes interface {@code ifname} (in the bridge's namespace) a port of this bridge and brings it up. A port
     * should carry no address of its own: the kernel would answer for it through the bridge anyway.
     */
    public void attach(String ifname) {
        lab.ip(namespace, "link", "set", "dev", ifname, "master", name);
        lab.ip(namespace, "link", "set", "dev", ifname, "up");
    }

    /**
     * Plugs namespace {@code peer} into this segment with a new veth pair: the bridge-side end becomes a port
     * without address, the peer end gets the next free address of the bridge's subnet.
     */
    public synchronized VethPair connect(Namespace peer) {
        return lab.addVeth(namespace, peer, subnet, null, subnet.host(nextHost++), this);
    }

    /** The namespace holding the bridge, or null for the host namespace. */
    public Namespace namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    public InetAddress address() {
        return subnet.host(1);
    }

    public Subnet subnet() {
        return subnet;
    }
}
