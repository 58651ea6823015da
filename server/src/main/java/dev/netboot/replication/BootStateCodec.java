package dev.netboot.replication;

import dev.netboot.replication.BootState.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link BootState} ⇄ bytes. The bytes cross the link in {@code CatalogPart} frames (a state of
 * thousands of clients is larger than one frame), already authenticated by the link; this format only
 * has to be exact and refuse what it does not understand. Version byte first, so a newer peer is named.
 * Format 2 adds each disk's file identities; format 1 (a peer not updated yet) is still read, without them.
 */
public final class BootStateCodec {

    static final int FORMAT = 2;
    static final int FORMAT_WITHOUT_IDENTITIES = 1;
    private static final int MAX_ITEMS = 1 << 20;

    private BootStateCodec() {}

    public static byte[] encode(BootState s) {
        return encode(s, FORMAT);
    }

    /** In an older format too (what a peer not updated yet sends: the tests read it). */
    static byte[] encode(BootState s, int format) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            out.writeByte(format);
            out.writeInt(s.images().size());
            for (ImageManifest i : s.images()) {
                out.writeUTF(i.name());
                out.writeUTF(i.diskFile());
                out.writeUTF(i.kernelVersion());
                out.writeUTF(i.description());
                out.writeUTF(i.source());
                out.writeLong(i.createdMillis());
                out.writeInt(i.files().size());
                for (ImageFile f : i.files()) {
                    out.writeUTF(f.path());
                    out.writeLong(f.sizeBytes());
                    out.write(f.sha256());
                }
            }
            out.writeInt(s.disks().size());
            for (DiskRecord d : s.disks()) {
                out.writeUTF(d.address());
                out.writeUTF(d.name());
                out.writeUTF(d.path());
                out.writeUTF(d.image());
                out.writeUTF(d.kind());
                out.writeLong(d.sizeBytes());
                strings(out, d.allowedMacs());
                out.writeBoolean(d.open());
                out.writeBoolean(d.readOnly());
                strings(out, d.interfaces());
                if (format != FORMAT_WITHOUT_IDENTITIES) {
                    out.writeUTF(d.fileIdentity());
                    strings(out, d.replacedIdentities());
                }
            }
            out.writeInt(s.clients().size());
            for (ClientRecord c : s.clients()) {
                for (String x : List.of(c.mac(), c.hostname(), c.architecture(), c.uuid(), c.bootFile(), c.state())) out.writeUTF(x);
                out.writeLong(c.firstSeenMillis());
                out.writeLong(c.lastSeenMillis());
                out.writeUTF(c.image());
                out.writeUTF(c.disk());
                out.writeInt(c.shelf());
                out.writeInt(c.slot());
            }
            out.writeInt(s.leases().size());
            for (LeaseRow l : s.leases()) {
                for (String x : List.of(l.address(), l.clientKey(), l.mac(), l.hostname(), l.state())) out.writeUTF(x);
                out.writeLong(l.expiresMillis());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /** The state, or an {@link IllegalArgumentException} saying what is wrong (nothing is applied from a state that does not parse). */
    public static BootState decode(byte[] bytes) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            int format = in.readUnsignedByte();
            if (format != FORMAT && format != FORMAT_WITHOUT_IDENTITIES)
                throw new IllegalArgumentException("boot state format " + format + ", this node reads " + FORMAT_WITHOUT_IDENTITIES + " and " + FORMAT + " (update both servers)");
            List<ImageManifest> images = new ArrayList<>();
            for (int i = 0, n = count(in); i < n; i++) {
                String name = in.readUTF(), diskFile = in.readUTF(), kernel = in.readUTF(), description = in.readUTF(), source = in.readUTF();
                long created = in.readLong();
                List<ImageFile> files = new ArrayList<>();
                for (int j = 0, m = count(in); j < m; j++) {
                    String path = in.readUTF();
                    long size = in.readLong();
                    byte[] sha = new byte[32];
                    in.readFully(sha);
                    files.add(new ImageFile(path, size, sha));
                }
                images.add(new ImageManifest(name, diskFile, kernel, description, source, created, files));
            }
            List<DiskRecord> disks = new ArrayList<>();
            for (int i = 0, n = count(in); i < n; i++) {
                String address = in.readUTF(), name = in.readUTF(), path = in.readUTF(), image = in.readUTF(), kind = in.readUTF();
                long size = in.readLong();
                List<String> macs = strings(in);
                boolean open = in.readBoolean(), readOnly = in.readBoolean();
                List<String> interfaces = strings(in);
                if (format == FORMAT_WITHOUT_IDENTITIES) disks.add(new DiskRecord(address, name, path, image, kind, size, macs, open, readOnly, interfaces));
                else disks.add(new DiskRecord(address, name, path, image, kind, size, macs, open, readOnly, interfaces, in.readUTF(), strings(in)));
            }
            List<ClientRecord> clients = new ArrayList<>();
            for (int i = 0, n = count(in); i < n; i++) {
                String mac = in.readUTF(), host = in.readUTF(), arch = in.readUTF(), uuid = in.readUTF(), boot = in.readUTF(), state = in.readUTF();
                long first = in.readLong(), last = in.readLong();
                clients.add(new ClientRecord(mac, host, arch, uuid, boot, state, first, last, in.readUTF(), in.readUTF(), in.readInt(), in.readInt()));
            }
            List<LeaseRow> leases = new ArrayList<>();
            for (int i = 0, n = count(in); i < n; i++)
                leases.add(new LeaseRow(in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(), in.readLong()));
            if (in.available() > 0) throw new IllegalArgumentException(in.available() + " bytes after the boot state");
            return new BootState(images, disks, clients, leases);
        } catch (EOFException e) {
            throw new IllegalArgumentException("boot state ends early");
        } catch (IOException e) {
            throw new IllegalArgumentException("boot state does not parse: " + e.getMessage());
        }
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_ITEMS) throw new IllegalArgumentException("a list of " + n + " items in the boot state");
        return n;
    }

    private static void strings(DataOutputStream out, List<String> list) throws IOException {
        out.writeInt(list.size());
        for (String s : list) out.writeUTF(s);
    }

    private static List<String> strings(DataInputStream in) throws IOException {
        List<String> list = new ArrayList<>();
        for (int i = 0, n = count(in); i < n; i++) list.add(in.readUTF());
        return list;
    }
}
