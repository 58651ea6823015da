package dev.netboot.tftp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The largest TFTP block that reaches a client without IP fragmentation: the MTU of the local
 * interface whose subnet holds the client, less IPv4 (20), UDP (8) and TFTP (4) headers. A lost
 * fragment loses the whole block, so fragmenting is never worth it. Clients beyond a router get
 * the Ethernet default. Looked up once per client address and cached.
 */
final class PathMtu {

    static final int ETHERNET_BLOCK = 1500 - 32;

    private final Map<InetAddress, Integer> cache = new ConcurrentHashMap<>();

    int maxBlockSize(InetAddress client) {
        return cache.computeIfAbsent(client, PathMtu::lookup);
    }

    private static int lookup(InetAddress client) {
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp()) continue;
                for (InterfaceAddress address : nic.getInterfaceAddresses()) {
                    if (sameSubnet(address, client)) return Math.min(TftpCodec.MAX_BLOCK_SIZE, nic.getMTU() - 32);
                }
            }
        } catch (SocketException e) {
            // Fall through to the safe default.
        }
        return ETHERNET_BLOCK;
    }

    private static boolean sameSubnet(InterfaceAddress local, InetAddress client) {
        InetAddress mine = local.getAddress();
        if (!(mine instanceof Inet4Address) || !(client instanceof Inet4Address)) return mine.equals(client);
        int prefix = local.getNetworkPrefixLength();
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return (toInt(mine) & mask) == (toInt(client) & mask);
    }

    private static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }
}
