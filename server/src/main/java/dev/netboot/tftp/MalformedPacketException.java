package dev.netboot.tftp;

/** A datagram that is not a valid TFTP packet; the message says what is wrong, for logs and counters. */
public final class MalformedPacketException extends Exception {
    public MalformedPacketException(String message) { super(message); }
}
