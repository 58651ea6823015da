package dev.netboot.dhcp;

/**
 * What a client is told to boot. For TFTP boot files {@code bootFile} is a path on the TFTP server
 * {@code nextServer} (empty: this server); for HTTP boot and iPXE it is a whole URL.
 */
public record BootPlan(String bootFile, String nextServer) {

    /** Nothing to boot: the client gets no boot file (an address only, or no answer in proxy mode). */
    public static final BootPlan NONE = new BootPlan("", "");

    public BootPlan {
        bootFile = bootFile == null ? "" : bootFile;
        nextServer = nextServer == null ? "" : nextServer;
    }

    public boolean isNone() { return bootFile.isEmpty(); }

    public boolean isUrl() { return bootFile.contains("://"); }
}
