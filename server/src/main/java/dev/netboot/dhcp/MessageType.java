package dev.netboot.dhcp;

/** Option 53 (RFC 2132 §9.6). */
public enum MessageType {
    DISCOVER(1), OFFER(2), REQUEST(3), DECLINE(4), ACK(5), NAK(6), RELEASE(7), INFORM(8);

    private final int code;

    MessageType(int code) { this.code = code; }

    public int code() { return code; }

    /** Null for codes this server does not know (e.g. RFC 4388 lease queries); such messages are ignored. */
    public static MessageType of(int code) {
        return code >= 1 && code <= 8 ? values()[code - 1] : null;
    }
}
