package dev.netboot.app;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Optional;

/** This host's own IPv4 address on the network a client is on: what that client can reach us at. */
final class ServerAddress {

    private ServerAddress() {}

    /** The address of the local interface whose subnet holds {@code client}; empty when none does (or client is null). */
    static Optional<InetAddress> facing(InetAddress client) {
        if (!(client instanceof Inet4Address)) return Optional.empty();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress a : nic.getInterfaceAddresses()) {
                    if (a.getAddress() instanceof Inet4Address local && sameSubnet(local, client, a.getNetworkPrefixLength())) return Optional.of(local);
                }
            }
        } catch (SocketException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    static boolean sameSubnet(InetAddress a, InetAddress b, int prefixLength) {
        if (prefixLength <= 0 || prefixLength > 32) return false;
        int mask = prefixLength == 32 ? -1 : ~(-1 >>> prefixLength);
        return (toInt(a) & mask) == (toInt(b) & mask);
    }

    private static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }
}
