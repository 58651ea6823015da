package dev.netboot.dhcp;

import dev.netboot.pcap.Pcap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The DHCP datagrams of the captured PXE boot (iPXE against dnsmasq). */
final class CapturedPackets {

    private static List<byte[]> dhcp;

    static synchronized List<byte[]> dhcp() {
        if (dhcp == null) {
            try {
                dhcp = Pcap.udp(Pcap.frames(CapturedPackets.class, Pcap.PXE_BOOT)).stream()
                        .filter(u -> u.dstPort() == 67 || u.dstPort() == 68 || u.srcPort() == 67)
                        .map(Pcap.Udp::payload).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dhcp;
    }

    /** The DHCP datagrams (either direction) of another capture under src/test/resources, e.g. {@link Pcap#EDK2_PXE}. */
    static List<byte[]> dhcp(String resource) {
        try {
            return Pcap.udp(Pcap.frames(CapturedPackets.class, resource)).stream()
                    .filter(u -> u.dstPort() == 67 || u.dstPort() == 68 || u.srcPort() == 67)
                    .map(Pcap.Udp::payload).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CapturedPackets() {}
}
