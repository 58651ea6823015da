package dev.netboot.app;

import dev.netboot.config.NetbootConfig;
import dev.netboot.dhcp.DhcpMode;
import dev.netboot.dhcp.DhcpSettings;
import dev.netboot.net.Ipv4;
import dev.netboot.dhcp.Pool;
import dev.netboot.dhcp.Reservation;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** Turns the {@code dhcp} section of the config into engine settings, with errors an operator can act on. */
final class DhcpSettingsFactory {

    private DhcpSettingsFactory() {}

    static DhcpMode mode(NetbootConfig.Dhcp d) {
        // YAML 1.1 reads an unquoted "off" (in a file or in --set) as the boolean false.
        if (d.mode().equalsIgnoreCase("false")) return DhcpMode.OFF;
        try {
            return DhcpMode.valueOf(d.mode().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dhcp.mode must be off, proxy or full, not '" + d.mode() + "'");
        }
    }

    /** dhcp.routerAdvertisements as auto, on or off; YAML 1.1 reads unquoted on/off as booleans, which arrive as "true"/"false". */
    static String routerAdvertisementSetting(NetbootConfig.Dhcp d) {
        return switch (d.routerAdvertisements().trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> "auto";
            case "on", "true" -> "on";
            case "off", "false" -> "off";
            default -> throw new IllegalArgumentException("dhcp.routerAdvertisements must be auto, on or off, not '" + d.routerAdvertisements() + "'");
        };
    }

    /**
     * Whether to answer IPv6 router solicitations: auto = only in full mode (we own the segment's
     * configuration there; beside another DHCP server a real IPv6 router may exist, and we keep out).
     */
    static boolean routerAdvertisements(NetbootConfig.Dhcp d, DhcpMode mode) {
        return switch (routerAdvertisementSetting(d)) {
            case "auto" -> mode == DhcpMode.FULL;
            case "on" -> mode != DhcpMode.OFF;
            default -> false;
        };
    }

    static DhcpSettings settings(NetbootConfig.Dhcp d) {
        List<Pool> pools = d.pools().stream().map(DhcpSettingsFactory::pool).toList();
        List<Reservation> reservations = d.reservations().stream()
                .map(r -> new Reservation(dev.netboot.inventory.Inventory.normalizeMac(r.mac()), Ipv4.parse(r.address()), r.hostname()))
                .toList();
        Ipv4 next = d.nextServer() == null || d.nextServer().isBlank() ? Ipv4.ANY : Ipv4.parse(d.nextServer());
        return new DhcpSettings(mode(d), pools, reservations, next, Duration.ofSeconds(d.offerHoldSeconds()),
                Duration.ofSeconds(d.declineQuarantineSeconds()));
    }

    static Pool pool(NetbootConfig.Pool p) {
        String[] subnet = p.subnet().split("/");
        if (subnet.length != 2) throw new IllegalArgumentException("dhcp pool subnet must look like 192.168.50.0/24, not '" + p.subnet() + "'");
        String[] range = p.range().split("-");
        if (range.length != 2) throw new IllegalArgumentException("dhcp pool range must look like 192.168.50.100-192.168.50.199, not '" + p.range() + "'");
        return new Pool(Ipv4.parse(subnet[0]), Integer.parseInt(subnet[1].trim()), Ipv4.parse(range[0]), Ipv4.parse(range[1]),
                p.router() == null || p.router().isBlank() ? Ipv4.ANY : Ipv4.parse(p.router()),
                p.dns() == null ? List.of() : p.dns().stream().map(Ipv4::parse).toList(),
                p.domain(), p.leaseSeconds() == null ? 3600 : p.leaseSeconds());
    }
}
