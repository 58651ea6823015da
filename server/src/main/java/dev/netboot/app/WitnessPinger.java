package dev.netboot.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Pings the failover's witnesses (ICMP echo through the client network's interface: {@link InetAddress#isReachable},
 * which as root sends real echo requests) every interval, and reports each round in which one answered. The
 * {@link dev.netboot.replication.Failover} core decides what an answer, or the lack of one, means. Its own
 * thread: the call blocks up to the timeout, and the failover's thread must not.
 */
final class WitnessPinger implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WitnessPinger.class);

    private final List<InetAddress> witnesses;
    private final String interfaceName;
    private final long intervalMillis;
    private final LongConsumer answered;
    private final Thread thread;
    private volatile boolean closed;
    private Boolean lastAnswered;

    WitnessPinger(List<InetAddress> witnesses, String interfaceName, long intervalMillis, LongConsumer answered) {
        this.witnesses = List.copyOf(witnesses);
        this.interfaceName = interfaceName;
        this.intervalMillis = intervalMillis;
        this.answered = answered;
        this.thread = Thread.ofPlatform().name("failover-witness").daemon().start(this::loop);
    }

    /** Witness addresses from the config ("ADDRESS[,ADDRESS...]", IP literals); empty when none. */
    static List<InetAddress> parse(String value) {
        if (value == null || value.isBlank()) return List.of();
        return java.util.Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(InetAddress::ofLiteral).toList();
    }

    private void loop() {
        while (!closed) {
            long start = System.nanoTime();
            boolean any = false;
            for (InetAddress w : witnesses) {
                if (reachable(w)) {
                    any = true;
                    break;
                }
            }
            if (any) answered.accept(System.nanoTime());
            if (lastAnswered == null || lastAnswered != any) {
                if (any) log.info("failover: the witness {} answers on {}", witnesses, interfaceName);
                else log.warn("failover: no witness of {} answers on {}: while they are silent this node will not take over from a silent primary",
                        witnesses, interfaceName);
                lastAnswered = any;
            }
            long left = intervalMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (left > 0) {
                try {
                    Thread.sleep(left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private boolean reachable(InetAddress w) {
        try {
            NetworkInterface nif = NetworkInterface.getByName(interfaceName);
            return nif == null ? false : w.isReachable(nif, 0, (int) intervalMillis);
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
