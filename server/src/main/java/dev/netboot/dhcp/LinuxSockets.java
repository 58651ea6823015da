package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.posix.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The two socket calls a DHCP server needs that Java and Netty do not offer, through the FFM API:
 * {@code SO_BINDTODEVICE} (one socket per interface, all on port 67) and {@code SIOCSARP} (an ARP
 * entry for a client that has no address yet, so the reply can be unicast to it, as dnsmasq does).
 */
final class LinuxSockets {

    private static final int SOL_SOCKET = 1;
    private static final int SO_BINDTODEVICE = 25;
    private static final long SIOCSARP = 0x8955;
    private static final int ATF_COM = 0x02;
    private static final short AF_INET = 2;
    private static final short ARPHRD_ETHER = 1;
    private static final int IFNAMSIZ = 16;

    private static final MethodHandle SETSOCKOPT = Libc.function("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle IOCTL = Libc.function("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(2));

    private LinuxSockets() {}

    static void bindToDevice(int fd, String device) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.newCapture(arena);
            MemorySegment name = arena.allocateFrom(device, StandardCharsets.US_ASCII);
            int rc = (int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_BINDTODEVICE, name, (int) name.byteSize());
            if (rc != 0) throw new NativeException("SO_BINDTODEVICE " + device, Libc.errno(state));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new NativeException("SO_BINDTODEVICE " + device + ": " + t, 0);
        }
    }

    /** Adds (or replaces) a complete ARP entry ip → mac on device. */
    static void setArp(int fd, String device, Ipv4 ip, byte[] mac) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.newCapture(arena);
            MemorySegment req = arena.allocate(68); // struct arpreq, zeroed
            ValueLayout.OfShort hostShort = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
            req.set(hostShort, 0, AF_INET);                                                    // arp_pa.sin_family
            req.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4, ip.bits()); // arp_pa.sin_addr
            req.set(hostShort, 16, ARPHRD_ETHER);                                              // arp_ha.sa_family
            MemorySegment.copy(mac, 0, req, ValueLayout.JAVA_BYTE, 18, Math.min(mac.length, 14)); // arp_ha.sa_data
            req.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.nativeOrder()), 32, ATF_COM); // arp_flags
            byte[] dev = device.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(dev, 0, req, ValueLayout.JAVA_BYTE, 52, Math.min(dev.length, IFNAMSIZ - 1)); // arp_dev
            int rc = (int) IOCTL.invokeExact(state, fd, SIOCSARP, req);
            if (rc != 0) throw new NativeException("SIOCSARP " + ip + " on " + device, Libc.errno(state));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new NativeException("SIOCSARP: " + t, 0);
        }
    }

    static final class NativeException extends Exception {
        NativeException(String what, int errno) { super(what + (errno != 0 ? " failed: errno " + errno : "")); }
    }
}
