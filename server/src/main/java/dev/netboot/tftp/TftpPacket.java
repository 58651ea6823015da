package dev.netboot.tftp;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;

/**
 * The six TFTP packets (RFC 1350 opcodes 1–5, RFC 2347 OACK = 6) as immutable values.
 * The codec turns bytes into these and back; the transfer state machine speaks only in them.
 */
public sealed interface TftpPacket {

    int opcode();

    /** RRQ (1). Options keep the client's order and are keyed by lower-case name (RFC 2347: case-insensitive). */
    record ReadRequest(String filename, String mode, Map<String, String> options) implements TftpPacket {
        public ReadRequest {
            Objects.requireNonNull(filename);
            Objects.requireNonNull(mode);
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
        @Override public int opcode() { return 1; }
    }

    /** WRQ (2). Decoded only so it can be refused with a precise error: this server is read-only. */
    record WriteRequest(String filename, String mode, Map<String, String> options) implements TftpPacket {
        public WriteRequest {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
        @Override public int opcode() { return 2; }
    }

    /** DATA (3). {@code block} is the 16-bit wire number; the payload buffer is read-only. */
    record Data(int block, ByteBuffer payload) implements TftpPacket {
        public Data {
            checkBlock(block);
            payload = payload.asReadOnlyBuffer();
        }
        @Override public int opcode() { return 3; }
        public int length() { return payload.remaining(); }
    }

    /** ACK (4). */
    record Ack(int block) implements TftpPacket {
        public Ack { checkBlock(block); }
        @Override public int opcode() { return 4; }
    }

    /** ERROR (5). */
    record Error(TftpError code, String message) implements TftpPacket {
        public Error {
            Objects.requireNonNull(code);
            Objects.requireNonNull(message);
        }
        @Override public int opcode() { return 5; }
    }

    /** OACK (6): the options the server accepted, with the values it settled on. */
    record OptionAck(Map<String, String> options) implements TftpPacket {
        public OptionAck {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
        @Override public int opcode() { return 6; }
    }

    private static void checkBlock(int block) {
        if (block < 0 || block > 0xFFFF) throw new IllegalArgumentException("block number out of range: " + block);
    }
}
