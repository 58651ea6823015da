package dev.netboot.testlib;

import java.util.List;

/**
 * Random UDP loss installed by {@link NetLab#dropRandomly(Namespace, int)}: an nftables table in the namespace
 * that drops each UDP packet entering or leaving its interfaces with the given probability. nftables instead of
 * netem because the CI kernel has no netem; the table vanishes with the namespace.
 *
 * <p>The drops happen on the devices (netdev ingress and egress hooks), not in the IP output hook: a packet
 * dropped in the output hook makes the sender's sendto() fail with EPERM, which real clients (curl) treat as
 * fatal, while a real lossy link never tells the sender anything.
 */
public record PacketLoss(Namespace namespace, int percent) {

    static final String TABLE = "netlab_loss";

    /** Turns the loss off again, e.g. to check that a transfer recovers once the network is healthy. */
    public void remove() {
        Commands.runOk(Commands.SETUP_TIMEOUT, namespace.inside("nft", "delete", "table", "netdev", TABLE));
    }

    static PacketLoss install(Namespace namespace, int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("percent must be 0..100: " + percent);
        }
        String rule = "meta l4proto udp numgen random mod 100 < " + percent + " drop";
        StringBuilder chains = new StringBuilder();
        for (String device : devices(namespace)) {
            for (String hook : List.of("ingress", "egress")) {
                chains.append("    chain %s_%s { type filter hook %s device \"%s\" priority filter; policy accept; %s; }\n"
                        .formatted(hook, device.replace('-', '_'), hook, device, rule));
            }
        }
        // Declaring then deleting the table first makes a second call replace the rules instead of failing.
        String ruleset = "table netdev %1$s\ndelete table netdev %1$s\ntable netdev %1$s {\n%2$s}\n".formatted(TABLE, chains);
        List<String> nft = namespace.inside("nft", "-f", "-");
        Commands.runOk(Commands.SETUP_TIMEOUT, nft, ruleset);
        return new PacketLoss(namespace, percent);
    }

    /** Every interface of the namespace but loopback. */
    private static List<String> devices(Namespace namespace) {
        String links = Commands.runOk(Commands.SETUP_TIMEOUT, namespace.inside("ip", "-o", "link", "show")).stdout();
        List<String> devices = links.lines()
                .map(line -> line.split(":\\s+")[1].split("@")[0])
                .filter(name -> !name.equals("lo"))
                .toList();
        if (devices.isEmpty()) throw new IllegalStateException("namespace " + namespace.name() + " has no interface to make lossy");
        return devices;
    }
}
