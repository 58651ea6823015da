package dev.netboot.web;

import java.util.Optional;

/**
 * One byte range of an HTTP Range header (RFC 9110 §14.1.2): "bytes=first-last", "bytes=first-",
 * "bytes=-suffix". Written here because Javalin's SeekableWriter reads "-500" as "from 500" and never
 * answers 416; iPXE and curl resumes rely on these being exact. Multi-range requests are answered
 * with the whole file, which RFC 9110 allows.
 */
public record ByteRange(long first, long last) {

    public long length() { return last - first + 1; }

    public sealed interface Parsed {}
    /** No usable range: serve the whole representation with 200. */
    public record Whole() implements Parsed {}
    public record Partial(ByteRange range) implements Parsed {}
    /** Syntactically fine but outside the content: 416 with "bytes * /size". */
    public record Unsatisfiable() implements Parsed {}

    public static Parsed parse(String header, long size) {
        if (header == null) return new Whole();
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) return new Whole();
        String spec = h.substring(6).trim();
        if (spec.contains(",")) return new Whole();
        int dash = spec.indexOf('-');
        if (dash < 0) return new Whole();
        Optional<Long> start = number(spec.substring(0, dash));
        Optional<Long> end = number(spec.substring(dash + 1));
        if (dash > 0 && start.isEmpty()) return new Whole();
        if (dash + 1 < spec.length() && end.isEmpty()) return new Whole();
        if (start.isEmpty()) {
            if (end.isEmpty()) return new Whole();
            long suffix = end.get();
            if (suffix == 0 || size == 0) return new Unsatisfiable();
            return new Partial(new ByteRange(Math.max(0, size - suffix), size - 1));
        }
        long first = start.get();
        if (first >= size) return new Unsatisfiable();
        long last = end.map(e -> Math.min(e, size - 1)).orElse(size - 1);
        if (last < first) return new Whole();   // RFC 9110: an invalid range-spec is ignored
        return new Partial(new ByteRange(first, last));
    }

    private static Optional<Long> number(String s) {
        if (s.isEmpty() || s.length() > 18) return Optional.empty();
        for (int i = 0; i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return Optional.empty();
        return Optional.of(Long.parseLong(s));
    }
}
