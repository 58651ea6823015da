package dev.netboot.tftp;

/** TFTP error codes (RFC 1350 §5, RFC 2347 adds 8). */
public enum TftpError {
    NOT_DEFINED(0),
    FILE_NOT_FOUND(1),
    ACCESS_VIOLATION(2),
    DISK_FULL(3),
    ILLEGAL_OPERATION(4),
    UNKNOWN_TID(5),
    FILE_EXISTS(6),
    NO_SUCH_USER(7),
    OPTION_REFUSED(8);

    private final int code;

    TftpError(int code) { this.code = code; }

    public int code() { return code; }

    /** Codes a peer may send that we don't know map to NOT_DEFINED rather than failing the decode. */
    public static TftpError of(int code) {
        for (TftpError e : values()) if (e.code == code) return e;
        return NOT_DEFINED;
    }
}
