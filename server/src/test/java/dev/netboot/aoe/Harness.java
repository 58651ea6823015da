package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.MemoryBlockStore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A responder, memory stores and an effect runner wired together, replies decoded back into frames. */
final class Harness implements StorageDirectory {
    static final MacAddress SERVER = MacAddress.parse("02:00:00:00:00:01");
    static final MacAddress CLIENT = MacAddress.parse("52:54:00:12:34:56");
    static final MacAddress STRANGER = MacAddress.parse("52:54:00:66:66:66");
    static final Port PORT = Port.forMtu("eth0", SERVER, 1500, 64);

    /** The time frames arrive at (ms), set by a test. */
    final java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000);
    final AoeResponder responder = new AoeResponder(now::get);
    final Map<TargetAddress, MemoryBlockStore> stores = new HashMap<>();
    final Map<TargetAddress, TargetState> saved = new HashMap<>();
    final EffectRunner runner = new EffectRunner(responder, this, null, null);
    private int tag = 1;

    MemoryBlockStore add(TargetAddress a, int sectors, Set<MacAddress> allowed) {
        return add(a, sectors, allowed, Set.of());
    }

    /** A target bound to {@code interfaces} (empty: every interface). */
    MemoryBlockStore add(TargetAddress a, int sectors, Set<MacAddress> allowed, Set<String> interfaces) {
        responder.add(new AoeTarget(new TargetDefinition(a, sectors, allowed, false, false, "SN" + a, interfaces), TargetState.EMPTY));
        MemoryBlockStore s = new MemoryBlockStore(sectors * 512);
        stores.put(a, s);
        return s;
    }

    @Override
    public BlockStore store(TargetAddress target) { return stores.get(target); }

    @Override
    public void saveState(TargetAddress target, TargetState state) { saved.put(target, state); }

    List<AoeFrame> send(AoeFrame request) {
        return send(request, PORT);
    }

    /** As if {@code request} arrived on {@code port}'s interface. */
    List<AoeFrame> send(AoeFrame request, Port port) {
        List<ByteBuffer> out = new ArrayList<>();
        FrameSink sink = new FrameSink() {
            @Override public ByteBuffer claim(int capacity) { return ByteBuffer.allocate(capacity); }
            @Override public void commit(ByteBuffer frame) { out.add(frame.flip()); }
        };
        // Through the bytes, as the socket adapter does.
        runner.run(responder.handle(AoeCodec.encode(request), port), sink);
        return out.stream().map(AoeCodecTest::decodeUnchecked).toList();
    }

    AoeFrame request(MacAddress from, int shelf, int slot, AoeMessage m) {
        int command = switch (m) {
            case AoeMessage.Ata a -> AoeCommand.ATA;
            case AoeMessage.QueryConfig c -> AoeCommand.QUERY_CONFIG;
            case AoeMessage.MacMaskList l -> AoeCommand.MAC_MASK_LIST;
            case AoeMessage.ReserveRelease r -> AoeCommand.RESERVE_RELEASE;
            case AoeMessage.Unknown u -> 0x42;
        };
        return new AoeFrame(SERVER, from, new AoeHeader(1, false, false, 0, shelf, slot, command, tag++), m);
    }

    static AoeMessage.Ata ata(int cmd, int count, long lba, byte[] data) {
        int flags = (Ata.isLba48(cmd) ? AoeMessage.Ata.FLAG_EXTENDED : 0) | (Ata.isWrite(cmd) ? AoeMessage.Ata.FLAG_WRITE : 0);
        return new AoeMessage.Ata(flags, 0, count, cmd, lba, ByteBuffer.wrap(data));
    }

    static AoeMessage.QueryConfig config(int sub, String text) {
        return new AoeMessage.QueryConfig(0, 0, 0, 1, sub, ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
}
