package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The argument part of an AoE frame, one record per command (AoE r11 sections 3.1-3.4).
 * Byte contents are read-only buffers, so a decoded message can be shared and compared by value.
 */
public sealed interface AoeMessage {

    /**
     * ATA command or response (section 3.1). {@code lba} is the 48-bit LBA from the six little-endian
     * LBA bytes; {@code payload} is everything after the ATA header (write data, read data, or the
     * Ethernet padding of a short request).
     */
    record Ata(int aflags, int errFeature, int sectorCount, int cmdStatus, long lba, ByteBuffer payload) implements AoeMessage {
        public static final int FLAG_EXTENDED = 0x40;
        public static final int FLAG_DEVICE = 0x10;
        public static final int FLAG_ASYNC = 0x02;
        public static final int FLAG_WRITE = 0x01;
        public static final int HEADER_BYTES = 12;

        public Ata {
            payload = payload.asReadOnlyBuffer();
            if ((lba & ~0xFFFF_FFFF_FFFFL) != 0) throw new IllegalArgumentException("LBA is 48 bits");
        }

        public boolean extended() { return (aflags & FLAG_EXTENDED) != 0; }
        public boolean write() { return (aflags & FLAG_WRITE) != 0; }
    }

    /** Query Config Information (section 3.2). {@code subCommand} is the CCmd nibble. */
    record QueryConfig(int bufferCount, int firmwareVersion, int sectorCount, int aoeVersion, int subCommand, ByteBuffer config)
            implements AoeMessage {
        public static final int READ = 0;
        public static final int TEST_EXACT = 1;
        public static final int TEST_PREFIX = 2;
        public static final int SET_IF_EMPTY = 3;
        public static final int FORCE_SET = 4;
        public static final int HEADER_BYTES = 8;
        public static final int MAX_CONFIG = 1024;

        public QueryConfig {
            config = config.asReadOnlyBuffer();
            if (config.remaining() > MAX_CONFIG) throw new IllegalArgumentException("config string longer than " + MAX_CONFIG);
        }
    }

    /** Mac Mask List (section 3.3). */
    record MacMaskList(int subCommand, int maskError, List<Directive> directives) implements AoeMessage {
        public static final int READ = 0;
        public static final int EDIT = 1;
        public static final int ERROR_UNSPECIFIED = 1;
        public static final int ERROR_BAD_DIRECTIVE = 2;
        public static final int ERROR_LIST_FULL = 3;
        public static final int HEADER_BYTES = 4;

        public MacMaskList {
            directives = List.copyOf(directives);
            if (directives.size() > 255) throw new IllegalArgumentException("more than 255 directives");
        }

        /** One directive: {@code command} 0 = none, 1 = add, 2 = delete. */
        public record Directive(int command, MacAddress mac) {
            public static final int NONE = 0;
            public static final int ADD = 1;
            public static final int DELETE = 2;
        }
    }

    /** Reserve/Release (section 3.4). {@code subCommand} 0 = read, 1 = set, 2 = force set. */
    record ReserveRelease(int subCommand, List<MacAddress> macs) implements AoeMessage {
        public static final int READ = 0;
        public static final int SET = 1;
        public static final int FORCE_SET = 2;
        public static final int HEADER_BYTES = 2;

        public ReserveRelease {
            macs = List.copyOf(macs);
            if (macs.size() > 255) throw new IllegalArgumentException("more than 255 MACs");
        }
    }

    /** A command this protocol revision does not define; kept so it can be answered with an error. */
    record Unknown(ByteBuffer argument) implements AoeMessage {
        public Unknown {
            argument = argument.asReadOnlyBuffer();
        }
    }
}
