package dev.netboot.replication;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/**
 * The digest online verify sends instead of data. CRC32C (hardware-accelerated in the JDK, 4 bytes)
 * finds bit rot and writes behind the replication's back; SHA-256 (32 bytes) also resists someone who
 * crafts a change to collide. Both come from the JDK, so no library is needed.
 */
public enum RegionDigest {
    CRC32C {
        @Override public ByteBuffer of(ByteBuffer data) {
            CRC32C crc = new CRC32C();
            crc.update(data.duplicate());
            return ByteBuffer.allocate(4).putInt((int) crc.getValue()).flip();
        }
    },
    SHA256 {
        @Override public ByteBuffer of(ByteBuffer data) {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(data.duplicate());
                return ByteBuffer.wrap(md.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK always has SHA-256", e);
            }
        }
    };

    public abstract ByteBuffer of(ByteBuffer data);
}
