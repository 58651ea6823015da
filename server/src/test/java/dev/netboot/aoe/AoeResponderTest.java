package dev.netboot.aoe;

import dev.netboot.storage.MemoryBlockStore;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.netboot.aoe.Harness.CLIENT;
import static dev.netboot.aoe.Harness.STRANGER;
import static dev.netboot.aoe.Harness.ata;
import static dev.netboot.aoe.Harness.config;
import static org.assertj.core.api.Assertions.assertThat;

class AoeResponderTest {

    final Harness h = new Harness();
    final TargetAddress e11 = new TargetAddress(1, 1);

    private AoeMessage.Ata onlyAta(List<AoeFrame> replies) {
        assertThat(replies).hasSize(1);
        assertThat(replies.getFirst().header().response()).isTrue();
        assertThat(replies.getFirst().header().error()).isFalse();
        return (AoeMessage.Ata) replies.getFirst().message();
    }

    @Test
    void aTargetKnowsWhenItsClientLastSpokeToItAndAStrangerDoesNotCount() {
        h.add(e11, 1000, Set.of(CLIENT));
        AoeTarget t = h.responder.target(e11);
        assertThat(t.lastFrameMillis()).as("nothing heard since it was exported").isEqualTo(-1);
        h.now.set(5_000);
        h.send(h.request(STRANGER, 1, 1, ata(Ata.READ_SECTORS, 1, 0, new byte[0])));
        assertThat(t.lastFrameMillis()).as("a MAC it does not admit is not its client").isEqualTo(-1);
        h.send(h.request(CLIENT, 1, 1, ata(Ata.READ_SECTORS, 1, 0, new byte[0])));
        assertThat(t.lastFrameMillis()).isEqualTo(5_000);
        h.now.set(9_000);
        h.send(h.request(CLIENT, 0xffff, 0xff, config(AoeMessage.QueryConfig.READ, "")));
        assertThat(t.lastFrameMillis()).as("its discovery counts too").isEqualTo(9_000);
    }

    @Test
    void identifyAnnouncesLba48CapacityAndFlushTheWayLinuxReadsIt() {
        h.add(e11, 100_000, Set.of(CLIENT));
        AoeMessage.Ata reply = onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0]))));
        ByteBuffer id = reply.payload();
        assertThat(id.remaining()).isEqualTo(512);
        assertThat(reply.cmdStatus()).isEqualTo(Ata.STATUS_DRDY);
        int w83 = IdentifyData.readWord(id, 83), w86 = IdentifyData.readWord(id, 86);
        assertThat((w83 | w86) & (1 << 10)).as("LBA48").isNotZero();
        assertThat(w83 & (1 << 12)).as("FLUSH CACHE").isNotZero();
        assertThat(w83 & (1 << 13)).as("FLUSH CACHE EXT").isNotZero();
        assertThat(IdentifyData.readLba48Capacity(id)).isEqualTo(100_000);
        assertThat(IdentifyData.readString(id, 10, 20)).isEqualTo("SN1.1");
        assertThat(IdentifyData.readString(id, 27, 40)).isEqualTo("netboot AoE e1.1");
    }

    @Test
    void writeThenReadBackBothLbaForms() {
        MemoryBlockStore disk = h.add(e11, 1000, Set.of(CLIENT));
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 0x5A);
        onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 2, 998, data))));
        assertThat(Arrays.copyOfRange(disk.snapshot(), 998 * 512, 1000 * 512)).isEqualTo(data);
        AoeMessage.Ata read = onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.READ_SECTORS, 2, 998, new byte[0]))));
        byte[] got = new byte[read.payload().remaining()];
        read.payload().get(got);
        assertThat(got).isEqualTo(data);
        AoeMessage.Ata dma = onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.READ_DMA_EXT, 1, 999, new byte[0]))));
        assertThat(dma.payload().remaining()).isEqualTo(512);
    }

    @Test
    void outOfBoundsShortOrOversizedIoChangesNothing() {
        MemoryBlockStore disk = h.add(e11, 1000, Set.of(CLIENT));
        byte[] before = disk.snapshot();
        // Past the end: ATA IDNF error.
        AoeMessage.Ata r = (AoeMessage.Ata) h.send(h.request(CLIENT, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 2, 999, new byte[1024]))).getFirst().message();
        assertThat(r.cmdStatus() & Ata.STATUS_ERR).isNotZero();
        assertThat(r.errFeature()).isEqualTo(Ata.ERROR_IDNF);
        // LBA far beyond, with overflow-prone value.
        r = (AoeMessage.Ata) h.send(h.request(CLIENT, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 2, 0xFFFF_FFFF_FFFFL, new byte[1024]))).getFirst().message();
        assertThat(r.errFeature()).isEqualTo(Ata.ERROR_IDNF);
        // Payload shorter than the sector count: AoE bad argument.
        AoeFrame e = h.send(h.request(CLIENT, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 2, 0, new byte[600]))).getFirst();
        assertThat(e.header().error()).isTrue();
        assertThat(e.header().errorCode()).isEqualTo(AoeError.BAD_ARGUMENT.code());
        // More sectors than fit a frame of this MTU.
        e = h.send(h.request(CLIENT, 1, 1, ata(Ata.READ_SECTORS_EXT, 3, 0, new byte[0]))).getFirst();
        assertThat(e.header().errorCode()).isEqualTo(AoeError.BAD_ARGUMENT.code());
        assertThat(disk.snapshot()).isEqualTo(before);
    }

    @Test
    void lba28CommandsIgnoreTheHighLbaBytes() {
        MemoryBlockStore disk = h.add(e11, 1000, Set.of(CLIENT));
        byte[] data = new byte[512];
        data[0] = 7;
        onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.WRITE_SECTORS, 1, (1L << 28) | 5, data))));
        assertThat(disk.snapshot()[5 * 512]).isEqualTo((byte) 7);
    }

    @Test
    void flushPowerSmartAndUnknownAtaCommands() {
        h.add(e11, 1000, Set.of(CLIENT));
        assertThat(onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.FLUSH_CACHE_EXT, 0, 0, new byte[0])))).cmdStatus()).isEqualTo(Ata.STATUS_DRDY);
        assertThat(onlyAta(h.send(h.request(CLIENT, 1, 1, ata(Ata.CHECK_POWER_MODE, 0, 0, new byte[0])))).sectorCount()).isEqualTo(0xFF);
        for (int cmd : new int[]{Ata.SMART, 0x91, 0xF8}) {
            AoeMessage.Ata r = onlyAta(h.send(h.request(CLIENT, 1, 1, ata(cmd, 0, 0, new byte[0]))));
            assertThat(r.cmdStatus()).isEqualTo(Ata.STATUS_DRDY | Ata.STATUS_ERR);
            assertThat(r.errFeature()).isEqualTo(Ata.ERROR_ABRT);
        }
    }

    @Test
    void storageFailureIsAnAtaErrorNotSilence() {
        MemoryBlockStore disk = h.add(e11, 1000, Set.of(CLIENT));
        disk.failing(true);
        for (int cmd : new int[]{Ata.READ_SECTORS_EXT, Ata.WRITE_SECTORS_EXT, Ata.FLUSH_CACHE}) {
            int n = cmd == Ata.FLUSH_CACHE ? 0 : 1;
            List<AoeFrame> replies = h.send(h.request(CLIENT, 1, 1, ata(cmd, n, 0, new byte[512])));
            assertThat(replies).hasSize(1);
            assertThat(((AoeMessage.Ata) replies.getFirst().message()).cmdStatus() & Ata.STATUS_ERR).isNotZero();
        }
    }

    @Test
    void strangersGetNoReplyAtAllNotEvenToBroadcastDiscovery() {
        h.add(e11, 1000, Set.of(CLIENT));
        h.add(new TargetAddress(1, 2), 1000, Set.of(STRANGER));
        h.add(new TargetAddress(2, 0), 1000, Set.of(CLIENT, STRANGER));
        List<AoeFrame> mine = h.send(h.request(CLIENT, 0xFFFF, 0xFF, config(0, "")));
        assertThat(mine).extracting(f -> f.header().shelf() + "." + f.header().slot()).containsExactlyInAnyOrder("1.1", "2.0");
        assertThat(h.send(h.request(STRANGER, 1, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])))).isEmpty();
        assertThat(h.send(h.request(STRANGER, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 1, 0, new byte[512])))).isEmpty();
        assertThat(h.send(h.request(STRANGER, 1, 0xFF, config(0, "")))).extracting(f -> f.header().slot()).containsExactly(2);
        assertThat(h.responder.dropped(AoeResponder.Drop.NOT_ADMITTED)).isEqualTo(2);
    }

    @Test
    void broadcastAtaIsIgnored() {
        h.add(e11, 1000, Set.of(CLIENT));
        assertThat(h.send(h.request(CLIENT, 0xFFFF, 0xFF, ata(Ata.WRITE_SECTORS_EXT, 1, 0, new byte[512])))).isEmpty();
    }

    @Test
    void configStringSubCommands() {
        h.add(e11, 1000, Set.of(CLIENT));
        assertThat(cfgReply(h.send(h.request(CLIENT, 1, 1, config(3, "host-a"))))).isEqualTo("host-a");
        assertThat(h.saved.get(e11).config()).isEqualTo(ByteBuffer.wrap("host-a".getBytes(StandardCharsets.US_ASCII)));
        // Set-if-empty on a different string: error 4, string unchanged.
        AoeFrame refused = h.send(h.request(CLIENT, 1, 1, config(3, "host-b"))).getFirst();
        assertThat(refused.header().errorCode()).isEqualTo(AoeError.CONFIG_STRING_PRESENT.code());
        assertThat(h.send(h.request(CLIENT, 1, 1, config(1, "host-a")))).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 1, 1, config(1, "host")))).isEmpty();
        assertThat(h.send(h.request(CLIENT, 1, 1, config(2, "host")))).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 1, 1, config(2, "hostx")))).isEmpty();
        assertThat(cfgReply(h.send(h.request(CLIENT, 1, 1, config(4, "host-b"))))).isEqualTo("host-b");
        assertThat(cfgReply(h.send(h.request(CLIENT, 1, 1, config(0, ""))))).isEqualTo("host-b");
        AoeFrame bad = h.send(h.request(CLIENT, 1, 1, config(9, ""))).getFirst();
        assertThat(bad.header().errorCode()).isEqualTo(AoeError.BAD_ARGUMENT.code());
        AoeMessage.QueryConfig q = (AoeMessage.QueryConfig) h.send(h.request(CLIENT, 1, 1, config(0, ""))).getFirst().message();
        assertThat(q.sectorCount()).isEqualTo(2);
        assertThat(q.bufferCount()).isEqualTo(64);
        assertThat(q.aoeVersion()).isEqualTo(1);
    }

    private static String cfgReply(List<AoeFrame> replies) {
        assertThat(replies).hasSize(1);
        assertThat(replies.getFirst().header().error()).isFalse();
        ByteBuffer c = ((AoeMessage.QueryConfig) replies.getFirst().message()).config();
        return StandardCharsets.US_ASCII.decode(c.duplicate()).toString();
    }

    @Test
    void macMaskListHidesTheTargetFromOthersAndReportsBadDirectives() {
        h.add(e11, 1000, Set.of(CLIENT, STRANGER));
        var add = new AoeMessage.MacMaskList(1, 0, List.of(new AoeMessage.MacMaskList.Directive(1, CLIENT)));
        AoeMessage.MacMaskList r = (AoeMessage.MacMaskList) h.send(h.request(CLIENT, 1, 1, add)).getFirst().message();
        assertThat(r.directives()).extracting(AoeMessage.MacMaskList.Directive::mac).containsExactly(CLIENT);
        assertThat(h.saved.get(e11).masks()).containsExactly(CLIENT);
        assertThat(h.send(h.request(STRANGER, 1, 1, config(0, "")))).isEmpty();
        var bad = new AoeMessage.MacMaskList(1, 0, List.of(new AoeMessage.MacMaskList.Directive(2, CLIENT), new AoeMessage.MacMaskList.Directive(7, STRANGER)));
        AoeMessage.MacMaskList e = (AoeMessage.MacMaskList) h.send(h.request(CLIENT, 1, 1, bad)).getFirst().message();
        assertThat(e.maskError()).isEqualTo(AoeMessage.MacMaskList.ERROR_BAD_DIRECTIVE);
        assertThat(e.directives()).hasSize(1);
        assertThat(h.responder.target(e11).state().masks()).containsExactly(CLIENT);
        var del = new AoeMessage.MacMaskList(1, 0, List.of(new AoeMessage.MacMaskList.Directive(2, CLIENT)));
        assertThat(((AoeMessage.MacMaskList) h.send(h.request(CLIENT, 1, 1, del)).getFirst().message()).directives()).isEmpty();
        assertThat(h.send(h.request(STRANGER, 1, 1, config(0, "")))).hasSize(1);
    }

    @Test
    void reservationLocksOthersOutOfDataButNotOutOfIdentify() {
        h.add(e11, 1000, Set.of(CLIENT, STRANGER));
        var reserve = new AoeMessage.ReserveRelease(1, List.of(CLIENT));
        assertThat(((AoeMessage.ReserveRelease) h.send(h.request(CLIENT, 1, 1, reserve)).getFirst().message()).macs()).containsExactly(CLIENT);
        AoeFrame w = h.send(h.request(STRANGER, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 1, 0, new byte[512]))).getFirst();
        assertThat(w.header().errorCode()).isEqualTo(AoeError.TARGET_RESERVED.code());
        assertThat(((AoeMessage.Ata) w.message()).payload().remaining()).as("no data echoed, only padding").isLessThan(512);
        assertThat(h.send(h.request(STRANGER, 1, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0]))).getFirst().header().error()).isFalse();
        AoeFrame steal = h.send(h.request(STRANGER, 1, 1, new AoeMessage.ReserveRelease(1, List.of(STRANGER)))).getFirst();
        assertThat(steal.header().errorCode()).isEqualTo(AoeError.TARGET_RESERVED.code());
        h.send(h.request(STRANGER, 1, 1, new AoeMessage.ReserveRelease(2, List.of())));
        assertThat(h.send(h.request(STRANGER, 1, 1, ata(Ata.WRITE_SECTORS_EXT, 1, 0, new byte[512]))).getFirst().header().error()).isFalse();
        assertThat(h.send(h.request(STRANGER, 1, 1, new AoeMessage.ReserveRelease(5, List.of()))).getFirst().header().errorCode())
                .isEqualTo(AoeError.BAD_ARGUMENT.code());
    }

    @Test
    void unknownCommandAndUnsupportedVersionAreAnsweredWithErrors() {
        h.add(e11, 1000, Set.of(CLIENT));
        AoeFrame unknown = h.send(h.request(CLIENT, 1, 1, new AoeMessage.Unknown(ByteBuffer.wrap(new byte[]{1, 2, 3})))).getFirst();
        assertThat(unknown.header().errorCode()).isEqualTo(AoeError.UNRECOGNIZED_COMMAND.code());
        AoeFrame v2 = h.request(CLIENT, 1, 1, config(0, ""));
        v2 = new AoeFrame(v2.destination(), v2.source(), new AoeHeader(2, false, false, 0, 1, 1, AoeCommand.QUERY_CONFIG, 5), v2.message());
        assertThat(h.send(v2).getFirst().header().errorCode()).isEqualTo(AoeError.UNSUPPORTED_VERSION.code());
        // Responses (someone else's replies on the wire) are never answered.
        AoeFrame rsp = new AoeFrame(Harness.SERVER, CLIENT, new AoeHeader(1, true, false, 0, 1, 1, AoeCommand.QUERY_CONFIG, 5), config(0, ""));
        assertThat(h.send(rsp)).isEmpty();
    }

    @Test
    void repliesToTheInitiatorFromThePortMacWithTheRequestTag() {
        h.add(e11, 1000, Set.of(CLIENT));
        AoeFrame req = h.request(CLIENT, 1, 1, config(0, ""));
        AoeFrame rsp = h.send(req).getFirst();
        assertThat(rsp.destination()).isEqualTo(CLIENT);
        assertThat(rsp.source()).isEqualTo(Harness.SERVER);
        assertThat(rsp.header().tag()).isEqualTo(req.header().tag());
    }
}
