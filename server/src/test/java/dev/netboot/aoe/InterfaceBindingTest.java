package dev.netboot.aoe;

import dev.netboot.storage.MemoryBlockStore;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.netboot.aoe.Harness.CLIENT;
import static dev.netboot.aoe.Harness.SERVER;
import static dev.netboot.aoe.Harness.STRANGER;
import static dev.netboot.aoe.Harness.ata;
import static dev.netboot.aoe.Harness.config;
import static org.assertj.core.api.Assertions.assertThat;

/** A disk bound to interfaces (VLANs) exists only there: no discovery reply, no config reply, no ATA elsewhere. */
class InterfaceBindingTest {

    final Harness h = new Harness();
    final Port vlan20 = Port.forMtu("eth0.20", SERVER, 1500, 64);
    final Port vlan30 = Port.forMtu("eth0.30", SERVER, 1500, 64);
    final Port eth1 = Port.forMtu("eth1", SERVER, 1500, 64);
    final TargetAddress bound = new TargetAddress(4, 1);
    final TargetAddress unbound = new TargetAddress(4, 2);

    private long wrongInterface() { return h.responder.dropped(AoeResponder.Drop.WRONG_INTERFACE); }

    @Test
    void aBoundDiskIsAnsweredOnItsInterfaceAndNowhereElseEvenForItsOwnMac() {
        MemoryBlockStore disk = h.add(bound, 1000, Set.of(CLIENT), Set.of("eth0.20"));
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0x42);

        assertThat(h.send(h.request(CLIENT, 4, 1, config(0, "")), vlan20)).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.WRITE_SECTORS_EXT, 1, 7, data)), vlan20)).hasSize(1);
        AoeMessage.Ata read = (AoeMessage.Ata) h.send(h.request(CLIENT, 4, 1, ata(Ata.READ_SECTORS_EXT, 1, 7, new byte[0])), vlan20)
                .getFirst().message();
        assertThat(read.payload().remaining()).isEqualTo(512);
        assertThat(wrongInterface()).isZero();

        // The client's own MAC, as a PC on another segment forging it would send: nothing at all.
        byte[] before = disk.snapshot();
        assertThat(h.send(h.request(CLIENT, 4, 1, config(0, "")), vlan30)).isEmpty();
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), vlan30)).isEmpty();
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.READ_SECTORS_EXT, 1, 7, new byte[0])), eth1)).isEmpty();
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.WRITE_SECTORS_EXT, 1, 7, new byte[512])), eth1)).isEmpty();
        assertThat(disk.snapshot()).isEqualTo(before);
        assertThat(wrongInterface()).isEqualTo(4);
        assertThat(h.responder.dropped(AoeResponder.Drop.NOT_ADMITTED)).isZero();
    }

    @Test
    void theDropIsReportedWithTheDiskAndItsInterfacesForTheLog() {
        h.add(bound, 1000, Set.of(CLIENT), Set.of("eth0.20", "eth1"));
        List<Effect> effects = h.responder.handle(AoeCodec.encode(h.request(STRANGER, 4, 1, config(0, ""))), vlan30);
        assertThat(effects).containsExactly(new Effect.WrongInterface(STRANGER, bound, Set.of("eth0.20", "eth1")));
    }

    @Test
    void discoveryOnAnotherInterfaceSeesOnlyTheUnboundDisk() {
        h.add(bound, 1000, Set.of(CLIENT, STRANGER), Set.of("eth0.20"));
        h.add(unbound, 1000, Set.of(CLIENT, STRANGER));

        assertThat(h.send(h.request(STRANGER, 0xFFFF, 0xFF, config(0, "")), vlan20)).extracting(f -> f.header().shelf() + "." + f.header().slot())
                .containsExactlyInAnyOrder("4.1", "4.2");
        assertThat(h.send(h.request(STRANGER, 0xFFFF, 0xFF, config(0, "")), vlan30)).extracting(f -> f.header().shelf() + "." + f.header().slot())
                .containsExactly("4.2");
        // Answered, so not a dropped frame.
        assertThat(wrongInterface()).isZero();
        // A discovery of slot 1 on any shelf, which only the bound disk has: nothing answers, and the count says why.
        assertThat(h.send(h.request(STRANGER, 0xFFFF, 1, config(0, "")), vlan30)).isEmpty();
        assertThat(wrongInterface()).isEqualTo(1);
        assertThat(h.responder.dropped(AoeResponder.Drop.NO_SUCH_TARGET)).isZero();
    }

    @Test
    void aDiskBoundToSeveralInterfacesIsAnsweredOnEach() {
        h.add(bound, 1000, Set.of(CLIENT), Set.of("eth0.20", "eth1"));
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), vlan20)).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), eth1)).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), vlan30)).isEmpty();
    }

    @Test
    void anUnboundDiskIsAnsweredOnEveryInterface() {
        h.add(unbound, 1000, Set.of(CLIENT));
        for (Port p : List.of(vlan20, vlan30, eth1))
            assertThat(h.send(h.request(CLIENT, 4, 2, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), p)).as(p.interfaceName()).hasSize(1);
        assertThat(wrongInterface()).isZero();
    }

    @Test
    void withFailoverTheServiceMacvlanAnswersForDisksBoundToTheClientNetworksInterface() {
        Port service = Port.forMtu("nbsvc0", SERVER, 1500, 64);
        h.add(bound, 1000, Set.of(CLIENT), Set.of("eth1"));
        assertThat(h.send(h.request(CLIENT, 4, 1, config(0, "")), service)).as("before the service interface stands for eth1").isEmpty();
        h.responder.bindingsOf("nbsvc0", "eth1");
        assertThat(h.send(h.request(CLIENT, 4, 1, config(0, "")), service)).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 4, 1, ata(Ata.IDENTIFY_DEVICE, 1, 0, new byte[0])), service)).hasSize(1);
        assertThat(h.send(h.request(CLIENT, 4, 1, config(0, "")), vlan30)).as("still nowhere else").isEmpty();
    }
}
