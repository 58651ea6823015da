package dev.netboot.tftp;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What a read transfer runs with after option negotiation (RFC 2347).
 *
 * @param blockSize  bytes per DATA packet (512 without blksize)
 * @param windowSize DATA packets sent before waiting for an ACK (1 = RFC 1350 lock-step)
 * @param timeout    the client's RFC 2349 timeout, if it asked for one: our retransmission cap
 * @param oack       the options to confirm in an OACK; empty means "no OACK, start with DATA 1"
 */
public record TransferOptions(int blockSize, int windowSize, Optional<Duration> timeout, Map<String, String> oack) {

    public static final int DEFAULT_BLOCK_SIZE = 512;

    public TransferOptions {
        if (blockSize < 8 || blockSize > TftpCodec.MAX_BLOCK_SIZE) throw new IllegalArgumentException("blksize " + blockSize);
        if (windowSize < 1 || windowSize > 65535) throw new IllegalArgumentException("windowsize " + windowSize);
        oack = Map.copyOf(oack);
    }

    /** RFC 1350 defaults: what a client that sends no options gets. */
    public static TransferOptions lockStep() {
        return new TransferOptions(DEFAULT_BLOCK_SIZE, 1, Optional.empty(), Map.of());
    }

    public boolean sendsOptionAck() { return !oack.isEmpty(); }
}
