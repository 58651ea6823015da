package dev.netboot.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs the netboot command line in this JVM as a person would type it, capturing what it prints.
 * (Tests that start the appliance run the CLI beside it, as an operator's second terminal would.)
 */
public record CliRun(int exit, String out, String err) {

    public static CliRun netboot(List<String> args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        try {
            int exit = Main.commandLine().execute(args.toArray(String[]::new));
            return new CliRun(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
