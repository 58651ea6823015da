package dev.netboot.boot;

import dev.netboot.aoe.GuestImage;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KernelSignatureTest {

    /** A minimal PE32+ image: DOS header, PE header, optional header with 16 data directories, and optionally a certificate. */
    static byte[] pe(boolean withCert, int certType) {
        ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) 'M').put(1, (byte) 'Z').putInt(0x3c, 0x80);
        b.putInt(0x80, 0x00004550);
        int optional = 0x80 + 24;
        b.putShort(optional, (short) 0x20b);
        b.putInt(optional + 108, 16);
        if (withCert) {
            int certAt = 0x300, certSize = 0x40;
            b.putInt(optional + 112 + 4 * 8, certAt).putInt(optional + 112 + 4 * 8 + 4, certSize);
            b.putInt(certAt, certSize).putShort(certAt + 4, (short) 0x0200).putShort(certAt + 6, (short) certType);
        }
        return b.array();
    }

    @Test
    void aCertificateTableWithPkcs7IsASignature() {
        assertThat(KernelSignature.of(ByteBuffer.wrap(pe(true, 2)))).isEqualTo(KernelSignature.SIGNED);
    }

    @Test
    void noCertificateTableIsUnsigned() {
        assertThat(KernelSignature.of(ByteBuffer.wrap(pe(false, 0)))).isEqualTo(KernelSignature.UNSIGNED);
    }

    @Test
    void aCertificateOfAnotherTypeOrPastTheEndIsNoSignature() {
        assertThat(KernelSignature.of(ByteBuffer.wrap(pe(true, 1)))).isEqualTo(KernelSignature.UNSIGNED);
        byte[] cut = java.util.Arrays.copyOf(pe(true, 2), 0x320);
        assertThat(KernelSignature.of(ByteBuffer.wrap(cut))).isEqualTo(KernelSignature.UNSIGNED);
    }

    @Test
    void notAPeImage() {
        assertThat(KernelSignature.of(ByteBuffer.wrap(new byte[10]))).isEqualTo(KernelSignature.NOT_PE);
        byte[] elf = pe(true, 2);
        elf[0] = 0x7f;
        assertThat(KernelSignature.of(ByteBuffer.wrap(elf))).isEqualTo(KernelSignature.NOT_PE);
        byte[] badOffset = pe(true, 2);
        ByteBuffer.wrap(badOffset).order(ByteOrder.LITTLE_ENDIAN).putInt(0x3c, 0x7fffffff);
        assertThat(KernelSignature.of(ByteBuffer.wrap(badOffset))).isEqualTo(KernelSignature.NOT_PE);
    }

    /** Debian's kernel from the test cache (linux-image-*-amd64 is the signed build); and the same with its signature cut off. */
    @Test
    void debiansKernelIsSignedAndUnsignedOnceTheSignatureIsCutOff() throws Exception {
        Path cache = GuestImage.cacheDir();
        assumeTrue(Files.isDirectory(cache), "no test cache");
        Path kernel;
        try (var s = Files.list(cache)) {
            kernel = s.filter(p -> p.getFileName().toString().matches("linux-image-[0-9].*-amd64")).findFirst().map(p -> {
                try { return GuestImage.vmlinuz(p); } catch (Exception e) { return null; }
            }).orElse(null);
        }
        assumeTrue(kernel != null, "no Debian kernel in the test cache");
        byte[] bytes = Files.readAllBytes(kernel);
        assertThat(KernelSignature.of(ByteBuffer.wrap(bytes))).isEqualTo(KernelSignature.SIGNED);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int pe = b.getInt(0x3c);
        b.putLong(pe + 24 + 112 + 4 * 8, 0L); // what sbattach --remove leaves
        assertThat(KernelSignature.of(ByteBuffer.wrap(bytes))).isEqualTo(KernelSignature.UNSIGNED);
    }
}
