package dev.netboot.cli;

import dev.netboot.storage.Progress;

import java.io.PrintStream;

/**
 * Long work drawn on stderr: a bar redrawn in place on a terminal, one line per phase or per tenth
 * otherwise (logs and CI output stay readable).
 */
final class ProgressBar implements Progress {

    private final PrintStream out;
    private final boolean terminal;
    private String phase = "";
    private int lastTenth = -1;

    ProgressBar(PrintStream out) {
        this.out = out;
        this.terminal = System.console() != null && System.console().isTerminal();
    }

    static ProgressBar onStderr() { return new ProgressBar(System.err); }

    @Override
    public synchronized void update(String phase, long done, long total) {
        boolean newPhase = !phase.equals(this.phase);
        if (newPhase && terminal && !this.phase.isEmpty()) out.println();
        this.phase = phase;
        if (total <= 0) {
            if (newPhase) out.println(phase + " ...");
            return;
        }
        int percent = (int) Math.min(100, done * 100 / total);
        if (terminal) {
            int filled = percent * 30 / 100;
            out.print("\r" + phase + " [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + percent + "% "
                    + DiskCommand.human(done) + " of " + DiskCommand.human(total));
            if (done >= total) out.println();
        } else if (newPhase || percent / 10 != lastTenth) {
            out.println(phase + ": " + percent + "% (" + DiskCommand.human(done) + " of " + DiskCommand.human(total) + ")");
        }
        lastTenth = percent / 10;
        out.flush();
    }
}
