package dev.netboot.testlib;

import java.util.List;

/**
 * Random UDP loss installed by {@link NetLab#dropRandomly(Namespace, int)}: an nftables table in the namespace
 * that drops each UDP packet entering or leaving it with the given probability. nftables instead of netem
 * because the CI kernel has no netem; the table vanishes with the namespace.
 */
public record PacketLoss(Namespace namespace, int percent) {

    static final String TABLE = "netlab_loss";

    /** Turns the loss off again, e.g. to check that a transfer recovers once the network is healthy. */
    public void remove() {
        Commands.runOk(Commands.SETUP_TIMEOUT, namespace.inside("nft", "delete", "table", "inet", TABLE));
    }

    static PacketLoss install(Namespace namespace, int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("percent must be 0..100: " + percent);
        }
        String rule = "meta l4proto udp numgen random mod 100 < " + percent + " drop";
        // Declaring then deleting the table first makes a second call replace the rules instead of failing.
        String ruleset = """
                table inet %1$s
                delete table inet %1$s
                table inet %1$s {
                    chain input { type filter hook input priority filter; policy accept; %2$s; }
                    chain output { type filter hook output priority filter; policy accept; %2$s; }
                }
                """.formatted(TABLE, rule);
        List<String> nft = namespace.inside("nft", "-f", "-");
        Commands.runOk(Commands.SETUP_TIMEOUT, nft, ruleset);
        return new PacketLoss(namespace, percent);
    }
}
