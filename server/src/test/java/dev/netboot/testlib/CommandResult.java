package dev.netboot.testlib;

/** What a finished command produced; stdout and stderr are decoded as UTF-8. */
public record CommandResult(int exitCode, String stdout, String stderr) {

    public boolean ok() {
        return exitCode == 0;
    }
}
