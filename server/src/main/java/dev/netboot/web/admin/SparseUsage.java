package dev.netboot.web.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Bytes files really take on disk (a sparse clone of a 10 GiB image may take a few MiB). The JDK
 * does not expose st_blocks, so one {@code du} for all the files of a page.
 */
final class SparseUsage {

    private SparseUsage() {}

    /** Files du could not measure are missing from the answer. */
    static Map<Path, Long> allocatedBytes(List<Path> files) {
        Map<Path, Long> out = new HashMap<>();
        if (files.isEmpty()) return out;
        List<String> command = new ArrayList<>(List.of("du", "--block-size=1", "--"));
        files.forEach(f -> command.add(f.toString()));
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            for (String line : output.split("\n")) {
                int tab = line.indexOf('\t');
                if (tab > 0) out.put(Path.of(line.substring(tab + 1)), Long.parseLong(line.substring(0, tab).trim()));
            }
        } catch (IOException | NumberFormatException e) {
            // no du, or odd output: the page says "unknown"
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
