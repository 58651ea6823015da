package dev.netboot.dhcp;

/**
 * A datagram that is not a DHCP message we can read; the message says what is wrong, and
 * {@link #reason()} is a short fixed label for the counter, so its cardinality stays bounded.
 */
public final class MalformedPacketException extends Exception {

    private final String reason;

    public MalformedPacketException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() { return reason; }
}
