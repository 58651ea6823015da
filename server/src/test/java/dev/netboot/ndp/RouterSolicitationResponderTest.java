package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.ndp.NdpMessage.RouterAdvertisement;
import dev.netboot.ndp.NdpMessage.RouterSolicitation;
import dev.netboot.ndp.RouterSolicitationResponder.Verdict;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class RouterSolicitationResponderTest {

    static final MacAddress US = MacAddress.parse("52:54:00:12:34:56");
    static final MacAddress IPXE = MacAddress.parse("52:54:00:e2:e0:01");
    static final long SECOND = 1_000_000_000L;

    static RouterSolicitation from(MacAddress mac, Ipv6Address source, Optional<MacAddress> sll) {
        return new RouterSolicitation(mac, Ipv6Address.ALL_ROUTERS.multicastMac(), source, Ipv6Address.ALL_ROUTERS, sll);
    }

    @Test
    void answersASolicitorWithAnAddressStraightAtItsAddressAndOptionMac() {
        var r = new RouterSolicitationResponder();
        MacAddress optionMac = MacAddress.parse("52:54:00:00:00:99");
        var d = r.handle(from(IPXE, Ipv6Address.linkLocal(IPXE), Optional.of(optionMac)), US, 0);
        assertThat(d.verdict()).isEqualTo(Verdict.ANSWERED);
        RouterAdvertisement ra = d.advertisement().orElseThrow();
        assertThat(ra.destination()).isEqualTo(Ipv6Address.linkLocal(IPXE));
        assertThat(ra.ethernetDestination()).isEqualTo(optionMac);
        assertThat(ra.ethernetSource()).isEqualTo(US);
        assertThat(ra.source()).isEqualTo(Ipv6Address.parse("fe80::5054:ff:fe12:3456"));
        assertThat(ra.sourceLinkLayer()).contains(US);
        // "No router here": no default route, nothing to configure by DHCPv6, which is what ends iPXE's wait.
        assertThat(ra.routerLifetimeSeconds()).isZero();
        assertThat(ra.managed()).isFalse();
        assertThat(ra.other()).isFalse();
        assertThat(ra.currentHopLimit()).isZero();
    }

    @Test
    void withoutAnOptionTheAnswerGoesToTheEthernetSource() {
        var d = new RouterSolicitationResponder().handle(from(IPXE, Ipv6Address.linkLocal(IPXE), Optional.empty()), US, 0);
        assertThat(d.advertisement().orElseThrow().ethernetDestination()).isEqualTo(IPXE);
    }

    @Test
    void aSolicitorWithoutAnAddressIsAnsweredToAllNodes() {
        var d = new RouterSolicitationResponder().handle(from(IPXE, Ipv6Address.UNSPECIFIED, Optional.empty()), US, 0);
        RouterAdvertisement ra = d.advertisement().orElseThrow();
        assertThat(ra.destination()).isEqualTo(Ipv6Address.ALL_NODES);
        assertThat(ra.ethernetDestination()).isEqualTo(MacAddress.parse("33:33:00:00:00:01"));
    }

    @Test
    void oneAnswerPerSolicitorPerSecond() {
        var r = new RouterSolicitationResponder();
        RouterSolicitation rs = from(IPXE, Ipv6Address.linkLocal(IPXE), Optional.of(IPXE));
        assertThat(r.handle(rs, US, 0).verdict()).isEqualTo(Verdict.ANSWERED);
        assertThat(r.handle(rs, US, SECOND / 4).verdict()).isEqualTo(Verdict.RATE_LIMITED_SOLICITOR);
        assertThat(r.handle(rs, US, SECOND / 2).verdict()).isEqualTo(Verdict.RATE_LIMITED_SOLICITOR);
        // iPXE's next solicitation after a lost answer (its third, at +1 s) is answered again.
        assertThat(r.handle(rs, US, SECOND).verdict()).isEqualTo(Verdict.ANSWERED);
        // Another host meanwhile is not held up.
        MacAddress other = MacAddress.parse("52:54:00:e2:e0:02");
        assertThat(r.handle(from(other, Ipv6Address.linkLocal(other), Optional.empty()), US, SECOND + 1).verdict()).isEqualTo(Verdict.ANSWERED);
    }

    @Test
    void multicastAnswersAreAtLeastThreeSecondsApart() {
        var r = new RouterSolicitationResponder();
        MacAddress other = MacAddress.parse("52:54:00:e2:e0:02");
        assertThat(r.handle(from(IPXE, Ipv6Address.UNSPECIFIED, Optional.empty()), US, 0).verdict()).isEqualTo(Verdict.ANSWERED);
        assertThat(r.handle(from(other, Ipv6Address.UNSPECIFIED, Optional.empty()), US, 2 * SECOND).verdict()).isEqualTo(Verdict.RATE_LIMITED_MULTICAST);
        assertThat(r.handle(from(other, Ipv6Address.UNSPECIFIED, Optional.empty()), US, 3 * SECOND).verdict()).isEqualTo(Verdict.ANSWERED);
    }

    @Test
    void aStormOfForgedSolicitorsGetsAtMostTheBurstPerSecondAndBoundedMemory() {
        var r = new RouterSolicitationResponder();
        int answered = 0;
        long now = 0;
        for (int i = 0; i < 100_000; i++) {
            MacAddress forged = new MacAddress(0x0200_0000_0000L + i);
            now = i * 100_000L; // 10,000 solicitations per second for 10 s
            if (r.handle(from(forged, Ipv6Address.linkLocal(forged), Optional.empty()), US, now).verdict() == Verdict.ANSWERED) answered++;
        }
        assertThat(answered).isBetween(10 * RouterSolicitationResponder.DEFAULT_BURST - 1, 10 * RouterSolicitationResponder.DEFAULT_BURST + 1);
        assertThat(r.remembered()).isLessThanOrEqualTo(RouterSolicitationResponder.MAX_REMEMBERED);
    }

    @Test
    void ourOwnSolicitationsAreNotAnswered() {
        var d = new RouterSolicitationResponder().handle(from(US, Ipv6Address.linkLocal(US), Optional.empty()), US, 0);
        assertThat(d.verdict()).isEqualTo(Verdict.OWN);
        assertThat(d.advertisement()).isEmpty();
    }
}
