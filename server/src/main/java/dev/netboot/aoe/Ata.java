package dev.netboot.aoe;

/** The ATA command codes and register bits a target deals with (ATA/ATAPI-8 ACS names). */
public final class Ata {
    public static final int READ_SECTORS = 0x20;
    public static final int READ_SECTORS_EXT = 0x24;
    public static final int READ_DMA_EXT = 0x25;
    public static final int READ_DMA = 0xC8;
    public static final int WRITE_SECTORS = 0x30;
    public static final int WRITE_SECTORS_EXT = 0x34;
    public static final int WRITE_DMA_EXT = 0x35;
    public static final int WRITE_DMA = 0xCA;
    public static final int SMART = 0xB0;
    public static final int CHECK_POWER_MODE = 0xE5;
    public static final int FLUSH_CACHE = 0xE7;
    public static final int FLUSH_CACHE_EXT = 0xEA;
    public static final int IDENTIFY_DEVICE = 0xEC;

    // Status register bits.
    public static final int STATUS_ERR = 0x01;
    public static final int STATUS_DRQ = 0x08;
    public static final int STATUS_DF = 0x20;
    public static final int STATUS_DRDY = 0x40;
    public static final int STATUS_BSY = 0x80;

    // Error register bits.
    public static final int ERROR_ABRT = 0x04;
    public static final int ERROR_IDNF = 0x10;
    public static final int ERROR_UNC = 0x40;

    public static final int SECTOR = 512;
    /** LBA28 commands address 2^28 sectors. */
    public static final long LBA28_LIMIT = 1L << 28;

    private Ata() {}

    /** Status of a reply whose storage operation failed: the device is ready, the command ended in error. */
    public static final int FAILED_STATUS = STATUS_DRDY | STATUS_ERR;

    /**
     * Error register of a reply whose storage operation failed: an unrecoverable read for a read (the
     * initiator may retry the sectors), aborted for anything else. Every failure reply is built from this.
     */
    public static int failedError(boolean read) {
        return read ? ERROR_UNC : ERROR_ABRT;
    }

    public static boolean isRead(int cmd) {
        return cmd == READ_SECTORS || cmd == READ_SECTORS_EXT || cmd == READ_DMA || cmd == READ_DMA_EXT;
    }

    public static boolean isWrite(int cmd) {
        return cmd == WRITE_SECTORS || cmd == WRITE_SECTORS_EXT || cmd == WRITE_DMA || cmd == WRITE_DMA_EXT;
    }

    public static boolean isLba48(int cmd) {
        return cmd == READ_SECTORS_EXT || cmd == READ_DMA_EXT || cmd == WRITE_SECTORS_EXT || cmd == WRITE_DMA_EXT;
    }
}
