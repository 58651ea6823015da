package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import java.time.Instant;

/**
 * What the server holds about one address. {@code clientKey} is option 61 when the client sent one,
 * else its hardware address (RFC 2131 §4.2), in hex.
 */
public record Lease(Ipv4 address, String clientKey, String mac, String hostname, State state, Instant expires) {

    public enum State {
        /** Offered, not yet requested; held briefly so two clients don't get the same offer. */
        OFFERED,
        BOUND,
        /** Released or expired: free, but remembered so the same client gets it back. */
        FREE,
        /** A client said the address is in use by someone else (DECLINE): not offered until it expires. */
        DECLINED
    }

    public Lease {
        hostname = hostname == null ? "" : hostname;
    }

    public boolean isActive(Instant now) {
        return (state == State.BOUND || state == State.OFFERED || state == State.DECLINED) && expires.isAfter(now);
    }

    public Lease with(State s, Instant until) { return new Lease(address, clientKey, mac, hostname, s, until); }
}
