package dev.netboot.tftp;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Transfer slots, in all and per client address: a host that opens transfer after transfer from new
 * ports (one took all 1000) gets "busy" once it holds its share, and other clients still get theirs.
 */
final class TransferSlots {

    private final int max;
    private final int maxPerAddress;
    private final Map<InetAddress, Integer> byAddress = new HashMap<>();
    private int active;

    TransferSlots(int max, int maxPerAddress) {
        if (max < 1 || maxPerAddress < 1) throw new IllegalArgumentException("transfer limits must be at least 1");
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    /** Takes a slot for {@code client}, or says why not (the text of the TFTP error the client gets). */
    synchronized Optional<String> acquire(InetAddress client) {
        if (active >= max) return Optional.of("server busy: " + max + " transfers running, retry later");
        int mine = byAddress.getOrDefault(client, 0);
        if (mine >= maxPerAddress) return Optional.of("busy: " + mine + " transfers to your address running already, retry later");
        byAddress.put(client, mine + 1);
        active++;
        return Optional.empty();
    }

    synchronized void release(InetAddress client) {
        Integer mine = byAddress.get(client);
        if (mine == null) throw new IllegalStateException("released a transfer slot " + client + " did not hold");
        if (mine == 1) byAddress.remove(client);
        else byAddress.put(client, mine - 1);
        active--;
    }

    synchronized int active() { return active; }

    /** Addresses holding a slot: bounded by the slots themselves, never by how many addresses asked. */
    synchronized int addresses() { return byAddress.size(); }
}
