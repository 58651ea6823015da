package dev.netboot.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Whether a kernel carries an Authenticode signature, which shim and signed GRUB demand of it when Secure
 * Boot is on: a PE/COFF image (a Linux kernel's EFI stub) whose certificate table (data directory 4) holds
 * a PKCS#7 {@code WIN_CERTIFICATE}. Says nothing of whose key signed it: that is the firmware's and shim's
 * business. Plain bytes in, a verdict out.
 */
public enum KernelSignature {
    SIGNED, UNSIGNED, NOT_PE;

    private static final int WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

    public static KernelSignature of(ByteBuffer image) {
        ByteBuffer b = image.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        int size = b.remaining();
        if (size < 0x40 || b.get(base) != 'M' || b.get(base + 1) != 'Z') return NOT_PE;
        long pe = Integer.toUnsignedLong(b.getInt(base + 0x3c));
        if (pe + 24 + 2 > size || b.getInt(base + (int) pe) != 0x00004550) return NOT_PE; // "PE\0\0"
        int optional = (int) pe + 24;
        int magic = Short.toUnsignedInt(b.getShort(base + optional));
        int countAt, dirs;
        if (magic == 0x10b) { countAt = optional + 92; dirs = optional + 96; }
        else if (magic == 0x20b) { countAt = optional + 108; dirs = optional + 112; }
        else return NOT_PE;
        if (dirs + 5 * 8 > size) return NOT_PE;
        if (Integer.toUnsignedLong(b.getInt(base + countAt)) < 5) return UNSIGNED;
        long certAt = Integer.toUnsignedLong(b.getInt(base + dirs + 4 * 8));
        long certSize = Integer.toUnsignedLong(b.getInt(base + dirs + 4 * 8 + 4));
        // The table's "address" is a file offset, not an RVA; a table beyond the file is no signature.
        if (certAt == 0 || certSize < 8 || certAt + certSize > size) return UNSIGNED;
        long length = Integer.toUnsignedLong(b.getInt(base + (int) certAt));
        int type = Short.toUnsignedInt(b.getShort(base + (int) certAt + 6));
        return length >= 8 && length <= certSize && type == WIN_CERT_TYPE_PKCS_SIGNED_DATA ? SIGNED : UNSIGNED;
    }
}
