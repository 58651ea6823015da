package dev.netboot.dhcp;


import dev.netboot.net.Ipv4;
import java.time.Instant;
import java.util.List;

/**
 * What DHCP tells the rest of the appliance: {@link DhcpServer} carries out the engine's
 * {@link DhcpEffect.ClientSeen} and {@link DhcpEffect.Booted} through it, and the inventory
 * registers clients and records boot events. Called on the event loop: implementations hand slow
 * work off.
 */
public interface ClientObserver {

    /** A network-boot client asked (DISCOVER or boot-server REQUEST). */
    default void seen(Machine machine, Instant at) {}

    /** We acknowledged boot information (and, in full mode, an address) to a client. */
    default void booted(Machine machine, BootPlan plan, Ipv4 address, Instant at) {}

    ClientObserver NONE = new ClientObserver() {};

    /** Tells each of {@code observers}, in order. */
    static ClientObserver all(ClientObserver... observers) {
        List<ClientObserver> list = List.of(observers);
        return new ClientObserver() {
            @Override public void seen(Machine machine, Instant at) { for (ClientObserver o : list) o.seen(machine, at); }
            @Override public void booted(Machine machine, BootPlan plan, Ipv4 address, Instant at) {
                for (ClientObserver o : list) o.booted(machine, plan, address, at);
            }
        };
    }
}
