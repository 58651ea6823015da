package dev.netboot.replication;

/**
 * A frame on the replication link that must not be applied. The adapter counts it by {@link #reason()},
 * logs the message and closes the connection: after a bad frame the byte stream cannot be trusted.
 */
public final class RejectedFrameException extends Exception {

    public enum Reason {
        /** Fewer bytes than the frame says, or than any frame has. */
        TRUNCATED,
        /** Longer than the configured maximum: refused before reading it. */
        OVERSIZED,
        /** The HMAC does not match: wrong secret, or the bytes were changed. */
        BAD_MAC,
        /** A sequence number already seen on this connection. */
        REPLAYED,
        /** A sequence number beyond the next one: a frame was dropped or injected. */
        OUT_OF_ORDER,
        /** Authenticated, but a message type this version does not know. */
        UNKNOWN_TYPE,
        /** Authenticated, but the payload does not parse (a bug or version skew on the peer). */
        MALFORMED,
        /** The connection preamble is not ours (magic, version) or reflects our own nonce. */
        BAD_PREAMBLE
    }

    private final Reason reason;

    public RejectedFrameException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public Reason reason() { return reason; }
}
