package dev.netboot.testlib;

import java.net.InetAddress;

/**
 * A virtual Ethernet cable. The "host side" is the end in the first namespace given to
 * {@link NetLab#veth(Namespace, Namespace)} (the real host namespace when that was null, which is where the JVM
 * under test listens); the "peer" is the other end.
 */
public final class VethPair {

    private final NetLab lab;
    private final Namespace hostSide;
    private final Namespace peer;
    private final String hostSideName;
    private final String peerName;
    private final Subnet subnet;
    private final InetAddress hostSideAddress;
    private final InetAddress peerAddress;
    private final String hostSideMac;
    private final String peerMac;

    VethPair(NetLab lab, Namespace hostSide, Namespace peer, String hostSideName, String peerName, Subnet subnet,
             InetAddress hostSideAddress, InetAddress peerAddress) {
        this.lab = lab;
        this.hostSide = hostSide;
        this.peer = peer;
        this.hostSideName = hostSideName;
        this.peerName = peerName;
        this.subnet = subnet;
        this.hostSideAddress = hostSideAddress;
        this.peerAddress = peerAddress;
        this.hostSideMac = lab.mac(hostSide, hostSideName);
        this.peerMac = lab.mac(peer, peerName);
    }

    /** Sets the MTU of both ends (they must agree, or large frames vanish silently). */
    public VethPair mtu(int mtu) {
        lab.ip(hostSide, "link", "set", "dev", hostSideName, "mtu", Integer.toString(mtu));
        lab.ip(peer, "link", "set", "dev", peerName, "mtu", Integer.toString(mtu));
        return this;
    }

    /** The host side's namespace, or null for the real host namespace. */
    public Namespace hostSide() {
        return hostSide;
    }

    public Namespace peer() {
        return peer;
    }

    public String hostSideName() {
        return hostSideName;
    }

    public String peerName() {
        return peerName;
    }

    /** Where the peer reaches the host side; for a pair plugged into a {@link Bridge} that is the bridge's address. */
    public InetAddress hostSideAddress() {
        return hostSideAddress;
    }

    public InetAddress peerAddress() {
        return peerAddress;
    }

    public Subnet subnet() {
        return subnet;
    }

    public int prefixLength() {
        return subnet.prefixLength();
    }

    /** MAC address as {@code ip link} prints it, lower case with colons. */
    public String hostSideMac() {
        return hostSideMac;
    }

    public String peerMac() {
        return peerMac;
    }
}
