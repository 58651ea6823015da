package dev.netboot.aoe;

/** A frame that is not valid AoE: too short, a length field pointing past the end, and so on. */
public final class MalformedFrameException extends Exception {
    public MalformedFrameException(String message) {
        super(message, null, false, false);
    }
}
