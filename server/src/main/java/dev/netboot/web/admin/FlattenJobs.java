package dev.netboot.web.admin;

import dev.netboot.disks.ClientDisks;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Flattens run in the background (copying a whole image takes minutes) and the client's page shows
 * how far they got. One flatten per client at a time; the last outcome stays until the next start.
 */
public final class FlattenJobs {

    private static final Logger log = LoggerFactory.getLogger(FlattenJobs.class);

    private final ClientDisks disks;
    private final Clock clock;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();

    public FlattenJobs(ClientDisks disks, Clock clock) {
        this.disks = disks;
        this.clock = clock;
    }

    /** Starts flattening the client's disk; false if one runs already. */
    public boolean start(String mac, String who) {
        String m = Inventory.normalizeMac(mac);
        Job job = new Job(m, clock.instant());
        Job previous = jobs.get(m);
        if (previous != null && previous.running) return false;
        jobs.put(m, job);
        Thread.ofVirtual().name("flatten-" + m).start(() -> job.run(who));
        return true;
    }

    public Optional<FlattenStatus> status(String mac) {
        return Optional.ofNullable(jobs.get(Inventory.normalizeMac(mac))).map(Job::status);
    }

    public boolean running(String mac) {
        Job j = jobs.get(Inventory.normalizeMac(mac));
        return j != null && j.running;
    }

    /** Waits for the client's flatten to end (tests; a closing server). */
    public void await(String mac, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(mac) && System.nanoTime() < deadline) Thread.sleep(20);
    }

    private final class Job implements Progress {
        final String mac;
        final Instant started;
        volatile boolean running = true;
        volatile String phase = "starting";
        volatile long done;
        volatile long total;
        volatile String error = "";

        Job(String mac, Instant started) {
            this.mac = mac;
            this.started = started;
        }

        void run(String who) {
            try {
                disks.flatten(mac, this);
                phase = "done: the disk is standalone";
                log.info("web admin ({}): client {}: disk flattened in {} s", who, mac,
                        java.time.Duration.between(started, clock.instant()).toSeconds());
            } catch (Exception e) {
                error = e.getMessage() == null ? e.toString() : e.getMessage();
                phase = "failed";
                log.warn("web admin ({}): flattening the disk of client {} failed: {}", who, mac, error);
            } finally {
                running = false;
            }
        }

        @Override
        public void update(String phase, long done, long total) {
            this.phase = phase;
            this.done = done;
            this.total = total;
        }

        FlattenStatus status() {
            long t = total, d = done;
            int percent = !running && error.isEmpty() ? 100 : t > 0 ? (int) Math.min(100, d * 100 / t) : -1;
            String progress = t > 0 ? Formats.bytes(d) + " of " + Formats.bytes(t) : d > 0 ? Formats.bytes(d) : "";
            return new FlattenStatus(mac, running, phase, percent, progress, Formats.time(started), error);
        }
    }
}
