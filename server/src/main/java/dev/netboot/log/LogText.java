package dev.netboot.log;

/**
 * Text from the network (request paths, hostnames, form values) made safe for a log line: control
 * characters become visible escapes, so a path with {@code %0a} cannot start a second, genuine-looking
 * line (a forged admin audit entry). Used for every message by {@link EscapedMessageConverter}.
 */
public final class LogText {

    private LogText() {}

    /**
     * {@code \n}, {@code \r} and {@code \t} become their two-character escapes, other controls (C0, DEL,
     * C1, Unicode line and paragraph separators) {@code \\uXXXX}. Backslashes stay single, so a Windows
     * client's {@code boot\x64\wdsnbp.com} reads as it was sent: a real line break never reaches the log.
     */
    public static String escape(String s) {
        if (s == null) return "null";
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String replacement = switch (c) {
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029' || c == '\u0085'
                        ? String.format("\\u%04x", (int) c) : null;
            };
            if (replacement == null) {
                if (out != null) out.append(c);
                continue;
            }
            if (out == null) out = new StringBuilder(s.length() + 16).append(s, 0, i);
            out.append(replacement);
        }
        return out == null ? s : out.toString();
    }
}
