package dev.netboot.testlib;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Picks /24 subnets for lab links from 198.18.0.0/15 (RFC 2544, reserved for benchmarking, so it never routes
 * to anything real). JVM-wide so two labs in one JVM never share a subnet.
 */
final class SubnetAllocator {

    private static final Subnet RANGE = Subnet.parse("198.18.0.0/15");
    private static final int SLOTS = 1 << (24 - 15);
    private static final Pattern INET = Pattern.compile("\\binet (\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+)");

    private static final Set<Integer> handedOut = new HashSet<>();

    private SubnetAllocator() {
    }

    /**
     * A /24 that this JVM has not handed out and that overlaps no address configured on the host. The random
     * starting slot makes it unlikely that two concurrently running JVMs (parallel builds) race for the same one.
     */
    static synchronized Subnet next() {
        List<Subnet> onHost = hostSubnets();
        int start = ThreadLocalRandom.current().nextInt(SLOTS);
        for (int i = 0; i < SLOTS; i++) {
            int slot = (start + i) % SLOTS;
            Subnet candidate = RANGE.slice(slot, 24);
            if (!handedOut.contains(slot) && onHost.stream().noneMatch(candidate::overlaps)) {
                handedOut.add(slot);
                return candidate;
            }
        }
        throw new IllegalStateException("no free /24 left in " + RANGE);
    }

    private static List<Subnet> hostSubnets() {
        String addrs = Commands.runOk(Commands.SETUP_TIMEOUT, List.of("ip", "-o", "-4", "addr")).stdout();
        Matcher m = INET.matcher(addrs);
        return m.results().map(r -> Subnet.parse(r.group(1))).toList();
    }
}
