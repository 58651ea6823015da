package dev.netboot.boot.installer;

/** An installer that cannot be used as asked: the message says what is wrong and how to fix it. */
public final class InstallerException extends IllegalArgumentException {
    public InstallerException(String message) { super(message); }
}
