package dev.netboot.tftp;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Settles a read request's options (RFC 2347 blksize/tsize/timeout of 2348/2349, windowsize of 7440)
 * against the server's limits. Unknown options are left out of the OACK, as RFC 2347 says;
 * a known option with a value that cannot be honoured is refused (error 8) rather than guessed at.
 */
public final class OptionNegotiator {

    private final int maxWindowSize;

    /** @param maxWindowSize the largest RFC 7440 window we agree to, whatever the client asks */
    public OptionNegotiator(int maxWindowSize) {
        if (maxWindowSize < 1 || maxWindowSize > 65535) throw new IllegalArgumentException("maxWindowSize " + maxWindowSize);
        this.maxWindowSize = maxWindowSize;
    }

    public sealed interface Outcome {}
    public record Accepted(TransferOptions options) implements Outcome {}
    public record Refused(String reason) implements Outcome {}

    /**
     * @param requested     the RRQ's options, names in lower case
     * @param fileSize      the size to report for tsize, or -1 when it is not known in advance
     * @param maxBlockSize  the largest block that fits the path to this client (MTU − IP/UDP/TFTP headers)
     */
    public Outcome negotiate(Map<String, String> requested, long fileSize, int maxBlockSize) {
        int blockSize = TransferOptions.DEFAULT_BLOCK_SIZE;
        int windowSize = 1;
        Optional<Duration> timeout = Optional.empty();
        Map<String, String> oack = new LinkedHashMap<>();
        for (var option : requested.entrySet()) {
            String value = option.getValue();
            switch (option.getKey()) {
                case "blksize" -> {
                    long asked = parse(value);
                    if (asked < 8) return new Refused("blksize '" + value + "' is not a number from 8 to 65464");
                    // RFC 2348: a server may answer with a smaller block; we cap to the path MTU so no IP fragments.
                    blockSize = (int) Math.min(asked, Math.min(maxBlockSize, TftpCodec.MAX_BLOCK_SIZE));
                    oack.put("blksize", Integer.toString(blockSize));
                }
                case "tsize" -> {
                    if (parse(value) < 0) return new Refused("tsize '" + value + "' is not a number");
                    // Not confirmed for an empty file: curl rejects "tsize 0" in an OACK as invalid and aborts,
                    // while leaving an option out is always legal (RFC 2347).
                    if (fileSize > 0) oack.put("tsize", Long.toString(fileSize));
                }
                case "timeout" -> {
                    long seconds = parse(value);
                    if (seconds < 1 || seconds > 255) return new Refused("timeout '" + value + "' is not a number of seconds from 1 to 255");
                    timeout = Optional.of(Duration.ofSeconds(seconds));
                    oack.put("timeout", Long.toString(seconds));
                }
                case "windowsize" -> {
                    long asked = parse(value);
                    if (asked < 1 || asked > 65535) return new Refused("windowsize '" + value + "' is not a number from 1 to 65535");
                    windowSize = (int) Math.min(asked, maxWindowSize);
                    oack.put("windowsize", Integer.toString(windowSize));
                }
                default -> { /* RFC 2347: unknown options are ignored and not acknowledged */ }
            }
        }
        return new Accepted(new TransferOptions(blockSize, windowSize, timeout, oack));
    }

    /** Non-negative decimal within long range, or -1. Leading '+', spaces and hex are not TFTP. */
    private static long parse(String value) {
        if (value.isEmpty() || value.length() > 18) return -1;
        long n = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
