package dev.netboot.tftp;

import java.net.InetSocketAddress;

/**
 * @param listen             address and port of the request socket (69)
 * @param maxWindowSize      largest RFC 7440 window granted
 * @param maxBlockSize       largest blksize granted, before the per-client path-MTU cap
 * @param maxTransfers       transfers at once; more are refused with "server busy" instead of starving all
 */
public record TftpSettings(InetSocketAddress listen, int maxWindowSize, int maxBlockSize, int maxTransfers,
                           RetransmitPolicy retransmit) {
}
