package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.time.Duration;
import java.util.List;

/**
 * The engine's configuration.
 *
 * @param nextServer         TFTP server given as siaddr/option 66; {@link Ipv4#ANY} means the
 *                           address of the interface the request came in on
 * @param offerHold          how long an offered address stays reserved for the client it was offered to
 * @param declineQuarantine  how long an address a client DECLINEd is not offered again
 */
public record DhcpSettings(DhcpMode mode, List<Pool> pools, List<Reservation> reservations, Ipv4 nextServer,
                           Duration offerHold, Duration declineQuarantine) {

    public DhcpSettings {
        pools = List.copyOf(pools);
        reservations = List.copyOf(reservations);
        if (mode == DhcpMode.FULL && pools.isEmpty()) {
            throw new IllegalArgumentException("dhcp.mode full needs at least one pool: this server must never hand out addresses it was not given");
        }
        for (Reservation r : reservations) {
            if (pools.stream().noneMatch(p -> p.inSubnet(r.address()))) {
                throw new IllegalArgumentException("reservation " + r.mac() + " → " + r.address() + " is outside every pool's subnet");
            }
        }
    }
}
