package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.boot.BootFiles;
import dev.netboot.boot.RuleBootPolicy;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

class DhcpEngineTest {

    static final Ipv4 LOCAL = Ipv4.parse("10.0.0.1");
    static final Bytes MAC = Bytes.hex("525400000001");
    static final Bytes MAC2 = Bytes.hex("525400000002");
    static final Pool POOL = new Pool(Ipv4.parse("10.0.0.0"), 24, Ipv4.parse("10.0.0.100"), Ipv4.parse("10.0.0.102"),
            Ipv4.parse("10.0.0.254"), List.of(Ipv4.parse("10.0.0.53")), "lab.test", 3600);
    static final Pool RELAYED = new Pool(Ipv4.parse("10.9.0.0"), 24, Ipv4.parse("10.9.0.10"), Ipv4.parse("10.9.0.20"),
            Ipv4.ANY, List.of(), "", 600);
    static final BootFiles FILES = new BootFiles("undionly.kpxe", "ipxe.efi", "ipxe-arm64.efi", "http://10.0.0.1:8080/boot/ipxe.efi",
            "http://10.0.0.1:8080/boot/${mac}.ipxe");

    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    final MemoryStore store = new MemoryStore();

    DhcpEngine engine(DhcpMode mode, Reservation... reservations) {
        return new DhcpEngine(new DhcpSettings(mode, mode == DhcpMode.FULL ? List.of(POOL, RELAYED) : List.of(), List.of(reservations),
                Ipv4.ANY, Duration.ofSeconds(30), Duration.ofMinutes(10)),
                new RuleBootPolicy(FILES, "", mac -> mac.equals("52:54:00:00:00:09") ? Optional.of("special.efi") : Optional.empty()),
                store.loadAll());
    }

    static DhcpMessage msg(MessageType t, Bytes mac, Consumer<DhcpOptions.Builder> options) {
        DhcpOptions.Builder b = new DhcpOptions.Builder().messageType(t);
        options.accept(b);
        return DhcpMessage.request(0x1234, mac, b.build());
    }

    static DhcpMessage msg(MessageType t, Bytes mac) { return msg(t, mac, b -> {}); }

    /** Handles a request as the server does: its lease effects go to the store. */
    Outcome handle(DhcpEngine e, Inbound in) {
        DhcpResult result = e.handle(in, now);
        store.carryOut(result.effects());
        return result.outcome();
    }

    int expire(DhcpEngine e) {
        List<DhcpEffect> freed = e.expire(now);
        store.carryOut(freed);
        return freed.size();
    }

    Outbound reply(DhcpEngine e, DhcpMessage m) {
        Outcome o = handle(e, new Inbound(m, m.ciaddr(), 68, LOCAL, false));
        assertThat(o).as("outcome").isInstanceOf(Outcome.Reply.class);
        return ((Outcome.Reply) o).outbound();
    }

    String dropReason(DhcpEngine e, DhcpMessage m) {
        Outcome o = handle(e, new Inbound(m, m.ciaddr(), 68, LOCAL, false));
        assertThat(o).isInstanceOf(Outcome.Drop.class);
        return ((Outcome.Drop) o).reason();
    }

    Ipv4 dora(DhcpEngine e, Bytes mac) {
        Outbound offer = reply(e, msg(MessageType.DISCOVER, mac));
        assertThat(offer.message().type()).isEqualTo(MessageType.OFFER);
        Ipv4 a = offer.message().yiaddr();
        Outbound ack = reply(e, msg(MessageType.REQUEST, mac, b -> b.address(OptionCode.SERVER_ID, LOCAL).address(OptionCode.REQUESTED_ADDRESS, a)));
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.message().yiaddr()).isEqualTo(a);
        return a;
    }

    @Test
    void fullModeDoraGivesAddressAndSubnetOptions() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Outbound offer = reply(e, msg(MessageType.DISCOVER, MAC));
        DhcpOptions o = offer.message().options();
        assertThat(offer.message().yiaddr()).isEqualTo(Ipv4.parse("10.0.0.100"));
        assertThat(o.address(OptionCode.SERVER_ID)).contains(LOCAL);
        assertThat(o.address(OptionCode.SUBNET_MASK)).contains(Ipv4.parse("255.255.255.0"));
        assertThat(o.address(OptionCode.ROUTER)).contains(Ipv4.parse("10.0.0.254"));
        assertThat(o.address(OptionCode.DNS_SERVERS)).contains(Ipv4.parse("10.0.0.53"));
        assertThat(o.text(OptionCode.DOMAIN_NAME)).contains("lab.test");
        assertThat(o.uint32(OptionCode.LEASE_TIME)).contains(3600L);
        assertThat(o.uint32(OptionCode.RENEWAL_TIME)).contains(1800L);
        assertThat(o.uint32(OptionCode.REBINDING_TIME)).contains(3150L);
        assertThat(o.has(OptionCode.BOOTFILE)).as("no boot file for a client that is not network booting").isFalse();
        // No broadcast flag, no ciaddr: to yiaddr at chaddr.
        assertThat(offer.delivery()).isEqualTo(Outbound.Delivery.UNICAST_TO_HARDWARE);
        assertThat(offer.destination()).isEqualTo(Ipv4.parse("10.0.0.100"));
        assertThat(dora(e, MAC)).isEqualTo(Ipv4.parse("10.0.0.100"));
        assertThat(store.leases).containsKey(Ipv4.parse("10.0.0.100"));
        assertThat(store.leases.get(Ipv4.parse("10.0.0.100")).state()).isEqualTo(Lease.State.BOUND);
    }

    @Test
    void replyAddressingFollowsRfc2131Section41() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Outbound bcast = reply(e, msg(MessageType.DISCOVER, MAC).withFlags(DhcpMessage.FLAG_BROADCAST));
        assertThat(bcast.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
        assertThat(bcast.destination()).isEqualTo(Ipv4.BROADCAST);
        assertThat(bcast.port()).isEqualTo(68);

        Outbound relayed = reply(e, msg(MessageType.DISCOVER, MAC2).withGiaddr(Ipv4.parse("10.9.0.1")));
        assertThat(relayed.destination()).isEqualTo(Ipv4.parse("10.9.0.1"));
        assertThat(relayed.port()).isEqualTo(67);
        assertThat(relayed.message().giaddr()).isEqualTo(Ipv4.parse("10.9.0.1"));
        assertThat(relayed.message().yiaddr()).as("pool chosen by giaddr").isEqualTo(Ipv4.parse("10.9.0.10"));
        assertThat(relayed.message().options().uint32(OptionCode.LEASE_TIME)).contains(600L);

        Ipv4 a = dora(e, MAC);
        Outbound renew = reply(e, msg(MessageType.REQUEST, MAC).withCiaddr(a));
        assertThat(renew.delivery()).isEqualTo(Outbound.Delivery.UNICAST);
        assertThat(renew.destination()).isEqualTo(a);
        assertThat(renew.message().ciaddr()).isEqualTo(a);

        Outbound nak = reply(e, msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.REQUESTED_ADDRESS, Ipv4.parse("192.168.1.5"))));
        assertThat(nak.message().type()).isEqualTo(MessageType.NAK);
        assertThat(nak.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);

        Outbound relayedNak = reply(e, msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.REQUESTED_ADDRESS, Ipv4.parse("192.168.1.5")))
                .withGiaddr(Ipv4.parse("10.9.0.1")));
        assertThat(relayedNak.destination()).isEqualTo(Ipv4.parse("10.9.0.1"));
        assertThat(relayedNak.message().broadcastFlag()).isTrue();
    }

    @Test
    void renewAfterRestartKeepsTheAddress() {
        Ipv4 a = dora(engine(DhcpMode.FULL), MAC2);
        dora(engine(DhcpMode.FULL), MAC); // another client on a "restarted" engine with the same store
        DhcpEngine restarted = engine(DhcpMode.FULL);
        Outbound ack = reply(restarted, msg(MessageType.REQUEST, MAC2).withCiaddr(a));
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.message().yiaddr()).isEqualTo(a);
        // INIT-REBOOT after a restart, too.
        Outbound reboot = reply(engine(DhcpMode.FULL), msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.REQUESTED_ADDRESS, a)));
        assertThat(reboot.message().type()).isEqualTo(MessageType.ACK);
        // And a new DISCOVER gets the same address back.
        assertThat(reply(engine(DhcpMode.FULL), msg(MessageType.DISCOVER, MAC2)).message().yiaddr()).isEqualTo(a);
    }

    @Test
    void anotherClientsAddressIsNakedAndAChoiceOfAnotherServerFreesTheOffer() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Ipv4 a = dora(e, MAC);
        Outbound nak = reply(e, msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.REQUESTED_ADDRESS, a)));
        assertThat(nak.message().type()).isEqualTo(MessageType.NAK);
        assertThat(nak.message().options().text(OptionCode.MESSAGE)).contains("address belongs to another client");

        Ipv4 offered = reply(e, msg(MessageType.DISCOVER, MAC2)).message().yiaddr();
        assertThat(dropReason(e, msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.SERVER_ID, Ipv4.parse("10.0.0.2"))
                .address(OptionCode.REQUESTED_ADDRESS, Ipv4.parse("10.0.0.200"))))).isEqualTo("client-chose-other-server");
        // Never-used addresses go first; once they are gone, the freed offer is handed out again.
        assertThat(reply(e, msg(MessageType.DISCOVER, Bytes.hex("525400000003"))).message().yiaddr()).isNotEqualTo(offered);
        assertThat(reply(e, msg(MessageType.DISCOVER, Bytes.hex("525400000004"))).message().yiaddr()).as("offer freed").isEqualTo(offered);
    }

    @Test
    void declinedAddressIsQuarantinedAndReleaseFreesIt() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Ipv4 a = dora(e, MAC);
        assertThat(dropReason(e, msg(MessageType.DECLINE, MAC, b -> b.address(OptionCode.SERVER_ID, LOCAL).address(OptionCode.REQUESTED_ADDRESS, a))))
                .isEqualTo("declined");
        assertThat(store.leases.get(a).state()).isEqualTo(Lease.State.DECLINED);
        Ipv4 next = reply(e, msg(MessageType.DISCOVER, MAC)).message().yiaddr();
        assertThat(next).isNotEqualTo(a);
        // The pool has three addresses; with one quarantined, two clients fill it.
        dora(e, MAC);
        dora(e, MAC2);
        assertThat(dropReason(e, msg(MessageType.DISCOVER, Bytes.hex("525400000003")))).isEqualTo("pool-exhausted");
        now = now.plus(Duration.ofMinutes(11));
        expire(e);
        assertThat(reply(e, msg(MessageType.DISCOVER, Bytes.hex("525400000003"))).message().yiaddr()).isEqualTo(a);

        Ipv4 b2 = reply(e, msg(MessageType.REQUEST, MAC2).withCiaddr(Ipv4.parse("10.0.0.102"))).message().yiaddr();
        assertThat(dropReason(e, msg(MessageType.RELEASE, MAC2).withCiaddr(b2))).isEqualTo("released");
        assertThat(store.leases.get(b2).state()).isEqualTo(Lease.State.FREE);
    }

    @Test
    void aBoundClientThatDiscoversAgainStaysBound() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Ipv4 a = dora(e, MAC);
        assertThat(reply(e, msg(MessageType.DISCOVER, MAC)).message().yiaddr()).isEqualTo(a);
        now = now.plusSeconds(60); // past the offer hold: an offer would be gone
        expire(e);
        assertThat(e.leases()).singleElement().extracting(Lease::state).isEqualTo(Lease.State.BOUND);
        assertThat(reply(e, msg(MessageType.DISCOVER, MAC2)).message().yiaddr()).isNotEqualTo(a);
    }

    @Test
    void clientTextIsMadePrintableAndShortEnoughForTheDatabase() {
        DhcpEngine e = engine(DhcpMode.FULL);
        String hostname = "bad\u0001name\n" + "x".repeat(400);
        Ipv4 a = reply(e, msg(MessageType.DISCOVER, MAC)).message().yiaddr();
        reply(e, msg(MessageType.REQUEST, MAC, b -> b.address(OptionCode.SERVER_ID, LOCAL).address(OptionCode.REQUESTED_ADDRESS, a)
                .put(OptionCode.HOSTNAME, Bytes.of(hostname.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)))));
        String stored = store.leases.get(a).hostname();
        assertThat(stored).startsWith("badnamexxx").hasSize(253);
    }

    @Test
    void expiredLeasesAreReclaimed() {
        DhcpEngine e = engine(DhcpMode.FULL);
        List<Bytes> holders = List.of(MAC, MAC2, Bytes.hex("525400000003"));
        List<Ipv4> taken = holders.stream().map(mac -> dora(e, mac)).toList();
        Bytes newcomer = Bytes.hex("525400000004");
        assertThat(dropReason(e, msg(MessageType.DISCOVER, newcomer))).isEqualTo("pool-exhausted");
        now = now.plusSeconds(3599);
        assertThat(expire(e)).as("a second before the leases end").isZero();
        assertThat(dropReason(e, msg(MessageType.DISCOVER, newcomer))).isEqualTo("pool-exhausted");
        now = now.plusSeconds(2);
        assertThat(expire(e)).isEqualTo(3);
        // Reclaimed: free in the table and in the store, so a restart does not bring them back bound.
        assertThat(e.leases()).extracting(Lease::state).containsOnly(Lease.State.FREE);
        assertThat(taken).allSatisfy(a -> assertThat(store.leases.get(a).state()).as("stored state of %s", a).isEqualTo(Lease.State.FREE));
        assertThat(engine(DhcpMode.FULL).leases()).extracting(Lease::state).containsOnly(Lease.State.FREE);
        // Handed out again: the newcomer binds one of them, and its former holder can no longer renew it.
        Ipv4 again = dora(e, newcomer);
        assertThat(taken).contains(again);
        Bytes former = holders.get(taken.indexOf(again));
        Outbound nak = reply(e, msg(MessageType.REQUEST, former).withCiaddr(again));
        assertThat(nak.message().type()).isEqualTo(MessageType.NAK);
        assertThat(nak.message().options().text(OptionCode.MESSAGE)).contains("address belongs to another client");
    }

    @Test
    void initRebootFromAClientWithoutARecordIsIgnoredSoItCannotTakeAddresses() {
        DhcpEngine e = engine(DhcpMode.FULL, new Reservation("52:54:00:00:00:07", Ipv4.parse("10.0.0.70"), ""));
        // Security issue: 49 made-up clients, one INIT-REBOOT each, took the pool for a lease time.
        // RFC 2131 §4.3.2: "If the DHCP server has no record of this client, then it MUST remain silent".
        for (int i = 0; i < 49; i++) {
            Ipv4 claimed = POOL.first().plus(i % POOL.size());
            DhcpMessage reboot = msg(MessageType.REQUEST, Bytes.of((byte) 2, (byte) 0, (byte) 0, (byte) 0, (byte) 1, (byte) i),
                    b -> b.address(OptionCode.REQUESTED_ADDRESS, claimed));
            assertThat(dropReason(e, reboot)).isEqualTo("init-reboot-unknown-client");
        }
        assertThat(e.leases()).isEmpty();
        assertThat(store.leases).isEmpty();
        assertThat(dora(e, MAC)).as("the pool is still there").isEqualTo(POOL.first());

        // Clients we have a record of are confirmed: a binding, also after a restart from the store,
        DhcpMessage rebootMac = msg(MessageType.REQUEST, MAC, b -> b.address(OptionCode.REQUESTED_ADDRESS, POOL.first()));
        assertThat(reply(e, rebootMac).message().type()).isEqualTo(MessageType.ACK);
        assertThat(reply(engine(DhcpMode.FULL), rebootMac).message().type()).isEqualTo(MessageType.ACK);
        // a lease it released (remembered for it),
        assertThat(dropReason(e, msg(MessageType.RELEASE, MAC).withCiaddr(POOL.first()))).isEqualTo("released");
        assertThat(reply(e, rebootMac).message().type()).isEqualTo(MessageType.ACK);
        // and a reservation, before the client was ever seen (it was NAKed as "reserved for another client").
        Outbound reserved = reply(e, msg(MessageType.REQUEST, Bytes.hex("525400000007"), b -> b.address(OptionCode.REQUESTED_ADDRESS, Ipv4.parse("10.0.0.70"))));
        assertThat(reserved.message().options().text(OptionCode.MESSAGE)).isEmpty();
        assertThat(reserved.message().type()).isEqualTo(MessageType.ACK);
        // NAKs bind nothing and stay: another client's address, a wrong network.
        assertThat(reply(e, msg(MessageType.REQUEST, MAC2, b -> b.address(OptionCode.REQUESTED_ADDRESS, POOL.first()))).message().type())
                .isEqualTo(MessageType.NAK);
        // RENEWING with an address we have no record of is still granted when it is free: that keeps a
        // client's address when a crash lost its record (LeaseWriter), and a renewal has no DISCOVER to fall back to.
        Ipv4 free = POOL.first().plus(1);
        assertThat(reply(e, msg(MessageType.REQUEST, MAC2).withCiaddr(free)).message().yiaddr()).isEqualTo(free);
    }

    @Test
    void effectsSayWhatToRecordAndTheEngineCallsNoOne() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Consumer<DhcpOptions.Builder> bios = b -> b.uint16(OptionCode.CLIENT_ARCH, 0).text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001");
        DhcpMessage discover = msg(MessageType.DISCOVER, MAC, bios);
        var machine = DhcpEngine.machine(discover);
        DhcpResult offered = e.handle(new Inbound(discover, Ipv4.ANY, 68, LOCAL, false), now);
        // An offer is not saved (it lives seconds); a network-boot client is seen.
        assertThat(offered.effects()).containsExactly(new DhcpEffect.ClientSeen(machine, now));
        Ipv4 a = ((Outcome.Reply) offered.outcome()).outbound().message().yiaddr();

        DhcpResult acked = e.handle(new Inbound(msg(MessageType.REQUEST, MAC, bios.andThen(b -> b.address(OptionCode.SERVER_ID, LOCAL)
                .address(OptionCode.REQUESTED_ADDRESS, a))), Ipv4.ANY, 68, LOCAL, false), now);
        Lease bound = e.leases().getFirst();
        assertThat(bound.state()).isEqualTo(Lease.State.BOUND);
        assertThat(acked.effects()).containsExactly(new DhcpEffect.SaveLease(bound),
                new DhcpEffect.Booted(machine, new BootPlan("undionly.kpxe", ""), a, now));

        DhcpResult released = e.handle(new Inbound(msg(MessageType.RELEASE, MAC).withCiaddr(a), a, 68, LOCAL, false), now);
        assertThat(released.effects()).containsExactly(new DhcpEffect.SaveLease(bound.with(Lease.State.FREE, now)));
        // A client that does not network boot gets its address without being recorded as a boot client.
        assertThat(e.handle(new Inbound(msg(MessageType.DISCOVER, MAC2), Ipv4.ANY, 68, LOCAL, false), now).effects()).isEmpty();
        assertThat(store.leases).as("the engine wrote nothing itself").isEmpty();

        DhcpEngine proxy = engine(DhcpMode.PROXY);
        assertThat(proxy.handle(new Inbound(discover, Ipv4.ANY, 68, LOCAL, false), now).effects()).containsExactly(
                new DhcpEffect.ClientSeen(machine, now), new DhcpEffect.Booted(machine, new BootPlan("undionly.kpxe", ""), Ipv4.ANY, now));
    }

    @Test
    void reservationWinsAndCarriesTheHostname() {
        DhcpEngine e = engine(DhcpMode.FULL, new Reservation("52:54:00:00:00:02", Ipv4.parse("10.0.0.50"), "node2"));
        Outbound offer = reply(e, msg(MessageType.DISCOVER, MAC2));
        assertThat(offer.message().yiaddr()).isEqualTo(Ipv4.parse("10.0.0.50"));
        assertThat(offer.message().options().text(OptionCode.HOSTNAME)).contains("node2");
        assertThat(dora(e, MAC2)).isEqualTo(Ipv4.parse("10.0.0.50"));
        assertThat(reply(e, msg(MessageType.REQUEST, MAC, b -> b.address(OptionCode.REQUESTED_ADDRESS, Ipv4.parse("10.0.0.50"))))
                .message().type()).isEqualTo(MessageType.NAK);
    }

    @Test
    void informGetsOptionsWithoutALease() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Outbound ack = reply(e, msg(MessageType.INFORM, MAC).withCiaddr(Ipv4.parse("10.0.0.7")));
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.message().yiaddr()).isEqualTo(Ipv4.ANY);
        assertThat(ack.message().options().has(OptionCode.LEASE_TIME)).isFalse();
        assertThat(ack.message().options().address(OptionCode.SUBNET_MASK)).isPresent();
        assertThat(ack.destination()).isEqualTo(Ipv4.parse("10.0.0.7"));
    }

    @Test
    void bootFileByArchitectureUserClassAndOverride() {
        DhcpEngine e = engine(DhcpMode.FULL);
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0).text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001")))
                .isEqualTo("undionly.kpxe");
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 7))).isEqualTo("ipxe.efi");
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 9))).isEqualTo("ipxe.efi");
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 11))).isEqualTo("ipxe-arm64.efi");
        assertThat(bootFile(e, MAC, b -> b.text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003016"))).isEqualTo("ipxe.efi");
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0).bytes(OptionCode.USER_CLASS, "iPXE".getBytes())))
                .isEqualTo("http://10.0.0.1:8080/boot/52:54:00:00:00:01.ipxe");
        assertThat(bootFile(e, Bytes.hex("525400000009"), b -> b.uint16(OptionCode.CLIENT_ARCH, 7))).isEqualTo("special.efi");
        Outbound http = reply(e, msg(MessageType.DISCOVER, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 16).text(OptionCode.VENDOR_CLASS, "HTTPClient:Arch:00016")));
        assertThat(http.message().options().text(OptionCode.BOOTFILE)).contains("http://10.0.0.1:8080/boot/ipxe.efi");
        assertThat(http.message().options().text(OptionCode.VENDOR_CLASS)).contains("HTTPClient");
        Outbound bios = reply(e, msg(MessageType.DISCOVER, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0)));
        assertThat(bios.message().siaddr()).isEqualTo(LOCAL);
        assertThat(bios.message().file()).isEqualTo("undionly.kpxe");
        assertThat(bios.message().options().text(OptionCode.TFTP_SERVER)).contains("10.0.0.1");
    }

    @Test
    void fullModeTellsIpxeNotToWaitForProxyDhcp() {
        DhcpEngine e = engine(DhcpMode.FULL);
        Bytes noPxeDhcp = Bytes.of((byte) 176, (byte) 1, (byte) 1);
        Outbound ipxe = reply(e, msg(MessageType.DISCOVER, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0).bytes(OptionCode.USER_CLASS, "iPXE".getBytes())));
        assertThat(ipxe.message().options().get(OptionCode.IPXE_ENCAP)).contains(noPxeDhcp);
        Ipv4 a = ipxe.message().yiaddr();
        Outbound ack = reply(e, msg(MessageType.REQUEST, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0).bytes(OptionCode.USER_CLASS, "iPXE".getBytes())
                .address(OptionCode.SERVER_ID, LOCAL).address(OptionCode.REQUESTED_ADDRESS, a)));
        assertThat(ack.message().options().get(OptionCode.IPXE_ENCAP)).contains(noPxeDhcp);
        Outbound rom = reply(e, msg(MessageType.DISCOVER, MAC2, b -> b.uint16(OptionCode.CLIENT_ARCH, 0).text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001")));
        assertThat(rom.message().options().has(OptionCode.IPXE_ENCAP)).as("only iPXE knows option 175").isFalse();
    }

    @Test
    void aDisabledClientGetsAnAddressButNoBootFile() {
        DhcpEngine e = new DhcpEngine(new DhcpSettings(DhcpMode.FULL, List.of(POOL), List.of(), Ipv4.ANY, Duration.ofSeconds(30), Duration.ofMinutes(10)),
                new RuleBootPolicy(FILES, "", mac -> Optional.empty(), mac -> mac.equals("52:54:00:00:00:01")), store.loadAll());
        assertThat(bootFile(e, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0))).isEqualTo("<none>");
        assertThat(bootFile(e, MAC2, b -> b.uint16(OptionCode.CLIENT_ARCH, 0))).isEqualTo("undionly.kpxe");
    }

    String bootFile(DhcpEngine e, Bytes mac, Consumer<DhcpOptions.Builder> options) {
        return reply(e, msg(MessageType.DISCOVER, mac, options)).message().options().text(OptionCode.BOOTFILE).orElse("<none>");
    }

    @Test
    void proxyModeAnswersOnlyPxeClientsAndNeverGivesAnAddress() {
        DhcpEngine e = engine(DhcpMode.PROXY);
        assertThat(dropReason(e, msg(MessageType.DISCOVER, MAC))).isEqualTo("not-pxe");
        Outbound offer = reply(e, msg(MessageType.DISCOVER, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 7)
                .text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003016")));
        DhcpMessage m = offer.message();
        assertThat(m.type()).isEqualTo(MessageType.OFFER);
        assertThat(m.yiaddr()).isEqualTo(Ipv4.ANY);
        assertThat(m.siaddr()).isEqualTo(LOCAL);
        assertThat(m.options().text(OptionCode.VENDOR_CLASS)).contains("PXEClient");
        assertThat(m.options().get(OptionCode.VENDOR_SPECIFIC)).contains(Bytes.of((byte) 6, (byte) 1, (byte) 8, (byte) 255));
        assertThat(m.options().text(OptionCode.BOOTFILE)).contains("ipxe.efi");
        assertThat(m.options().has(OptionCode.LEASE_TIME)).isFalse();
        assertThat(offer.delivery()).isEqualTo(Outbound.Delivery.BROADCAST);
        assertThat(dropReason(e, msg(MessageType.REQUEST, MAC, b -> b.text(OptionCode.VENDOR_CLASS, "PXEClient")
                .address(OptionCode.SERVER_ID, Ipv4.parse("10.0.0.2"))))).isEqualTo("request-for-other-server");
        assertThat(store.leases).isEmpty();
    }

    @Test
    void bootServerExchangeOnPort4011() {
        DhcpEngine e = engine(DhcpMode.PROXY);
        DhcpMessage req = msg(MessageType.REQUEST, MAC, b -> b.uint16(OptionCode.CLIENT_ARCH, 0)
                .text(OptionCode.VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001")).withCiaddr(Ipv4.parse("10.0.0.77"));
        Outcome o = handle(e, new Inbound(req, Ipv4.parse("10.0.0.77"), 4011, LOCAL, true));
        Outbound ack = ((Outcome.Reply) o).outbound();
        assertThat(ack.message().type()).isEqualTo(MessageType.ACK);
        assertThat(ack.destination()).isEqualTo(Ipv4.parse("10.0.0.77"));
        assertThat(ack.port()).isEqualTo(4011);
        assertThat(ack.message().file()).isEqualTo("undionly.kpxe");
        assertThat(ack.message().yiaddr()).isEqualTo(Ipv4.ANY);
    }

    @Test
    void requestsWithoutMessageTypeAndRepliesAreDropped() {
        DhcpEngine e = engine(DhcpMode.FULL);
        assertThat(dropReason(e, DhcpMessage.request(1, MAC, DhcpOptions.NONE))).isEqualTo("no-message-type");
        assertThat(dropReason(engine(DhcpMode.OFF), msg(MessageType.DISCOVER, MAC))).isEqualTo("mode-off");
    }

    static final class MemoryStore implements LeaseStore {
        final Map<Ipv4, Lease> leases = new LinkedHashMap<>();

        @Override public List<Lease> loadAll() { return new ArrayList<>(leases.values()); }

        @Override public void save(Lease lease) { leases.put(lease.address(), lease); }

        /** What DhcpServer does with lease effects; the others do not concern a store. */
        void carryOut(List<DhcpEffect> effects) {
            for (DhcpEffect effect : effects) if (effect instanceof DhcpEffect.SaveLease s) save(s.lease());
        }
    }
}
