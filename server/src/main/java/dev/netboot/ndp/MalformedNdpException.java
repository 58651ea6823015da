package dev.netboot.ndp;

/** A frame that claims to be Neighbor Discovery but breaks the rules of RFC 4861 section 6.1: dropped, counted. */
public final class MalformedNdpException extends Exception {
    public MalformedNdpException(String message) { super(message, null, false, false); }
}
