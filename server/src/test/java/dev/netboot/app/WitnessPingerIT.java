package dev.netboot.app;

import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failover's witness pinger against a real kernel: the witness is an address in a namespace at the far end
 * of a veth (the client network), answering ICMP echo as any router does. Its answers arrive while the wire is
 * up, stop when the namespace's end goes down (a pulled cable, a dead switch port), and come back with it.
 * What the failover does with them is {@code FailoverTest}'s.
 */
class WitnessPingerIT {

    NetLab lab;

    @BeforeEach
    void lab() {
        Assumptions.assumeTrue(NetLab.available(), "needs root and iproute2");
        lab = NetLab.create();
    }

    @AfterEach
    void close() {
        if (lab != null) lab.close();
    }

    @Test
    void answersWhileTheWitnessIsReachableAndNoneWhileItsWireIsDown() throws Exception {
        Namespace router = lab.namespace("rtr");
        VethPair wire = lab.veth(null, router);
        AtomicLong answers = new AtomicLong();
        try (WitnessPinger pinger = new WitnessPinger(WitnessPinger.parse(wire.peerAddress().getHostAddress()), wire.hostSideName(), 100,
                at -> answers.incrementAndGet())) {
            await(() -> answers.get() >= 3, "three rounds answered");

            router.execOk(Duration.ofSeconds(10), "ip", "link", "set", "dev", wire.peerName(), "down");
            Thread.sleep(300);   // a ping already answered may still be counted
            long before = answers.get();
            Thread.sleep(1000);
            assertThat(answers.get()).as("no answer while the witness's wire is down").isEqualTo(before);

            router.execOk(Duration.ofSeconds(10), "ip", "link", "set", "dev", wire.peerName(), "up");
            await(() -> answers.get() >= before + 2, "answers again");
        }
        // An address nobody holds on that network never answers.
        AtomicLong none = new AtomicLong();
        try (WitnessPinger pinger = new WitnessPinger(List.of(java.net.InetAddress.ofLiteral(wire.subnet().host(99).getHostAddress())), wire.hostSideName(), 100,
                at -> none.incrementAndGet())) {
            Thread.sleep(800);
            assertThat(none.get()).isZero();
        }
    }

    static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }
}
