package dev.netboot.tftp;

import java.net.InetSocketAddress;

/**
 * @param listen             address and port of the request socket (69)
 * @param maxWindowSize      largest RFC 7440 window granted
 * @param maxBlockSize       largest blksize granted, before the per-client path-MTU cap
 * @param maxTransfers       transfers at once; more are refused with "server busy" instead of starving all
 * @param maxTransfersPerClient transfers at once to one client address, so one host cannot take every slot
 * @param gso                   send a window as one UDP GSO datagram where the transport offers it ({@code tuning.tftpGso})
 */
public record TftpSettings(InetSocketAddress listen, int maxWindowSize, int maxBlockSize, int maxTransfers,
                           int maxTransfersPerClient, RetransmitPolicy retransmit, boolean gso) {

    public TftpSettings(InetSocketAddress listen, int maxWindowSize, int maxBlockSize, int maxTransfers,
                        int maxTransfersPerClient, RetransmitPolicy retransmit) {
        this(listen, maxWindowSize, maxBlockSize, maxTransfers, maxTransfersPerClient, retransmit, true);
    }
}
