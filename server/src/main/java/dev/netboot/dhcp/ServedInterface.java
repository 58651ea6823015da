package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A network interface DHCP answers on: its name, its IPv4 address (our server identifier there) and its MAC. */
public record ServedInterface(String name, Ipv4 address, int prefixLength, Bytes mac) {

    /** The named interface, or with an empty name every interface that is up, not loopback and has IPv4. */
    public static List<ServedInterface> resolve(String name) throws IOException {
        List<ServedInterface> out = new ArrayList<>();
        if (name != null && !name.isBlank()) {
            NetworkInterface nic = NetworkInterface.getByName(name);
            if (nic == null) throw new IOException("network interface '" + name + "' does not exist (networkInterface in the config)");
            ServedInterface s = of(nic);
            if (s == null) throw new IOException("network interface '" + name + "' has no IPv4 address");
            out.add(s);
            return out;
        }
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) continue;
            ServedInterface s = of(nic);
            if (s != null) out.add(s);
        }
        return out;
    }

    private static ServedInterface of(NetworkInterface nic) throws SocketException {
        for (InterfaceAddress a : nic.getInterfaceAddresses()) {
            if (a.getAddress() instanceof Inet4Address v4) {
                byte[] mac = nic.getHardwareAddress();
                return new ServedInterface(nic.getName(), Ipv4.of(v4), a.getNetworkPrefixLength(), mac == null ? Bytes.EMPTY : Bytes.of(mac));
            }
        }
        return null;
    }
}
