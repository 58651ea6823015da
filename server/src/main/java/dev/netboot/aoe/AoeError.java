package dev.netboot.aoe;

/** The error codes of the AoE header (AoE r11 section 2.4). */
public enum AoeError {
    UNRECOGNIZED_COMMAND(1),
    BAD_ARGUMENT(2),
    DEVICE_UNAVAILABLE(3),
    CONFIG_STRING_PRESENT(4),
    UNSUPPORTED_VERSION(5),
    TARGET_RESERVED(6);

    private final int code;

    AoeError(int code) { this.code = code; }

    public int code() { return code; }
}
