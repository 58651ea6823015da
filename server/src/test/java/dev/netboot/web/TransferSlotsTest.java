package dev.netboot.web;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransferSlotsTest {

    static InetAddress a(String address) throws Exception { return InetAddress.getByName(address); }

    static TransferSlots.Slot granted(TransferSlots.Admission admission) {
        assertThat(admission).isInstanceOf(TransferSlots.Granted.class);
        return ((TransferSlots.Granted) admission).slot();
    }

    @Test
    void eachAddressGetsItsOwnCapAndSlotsComeBack() throws Exception {
        TransferSlots slots = new TransferSlots(2, 100);
        TransferSlots.Slot first = granted(slots.take(a("10.0.0.1")));
        granted(slots.take(a("10.0.0.1")));
        assertThat(slots.take(a("10.0.0.1"))).isInstanceOfSatisfying(TransferSlots.Busy.class,
                b -> assertThat(b.reason()).contains("10.0.0.1", "2 downloads", "http.maxTransfersPerClient"));
        granted(slots.take(a("10.0.0.2"))); // another address is not affected
        first.close();
        first.close(); // a second close gives nothing back twice
        assertThat(slots.active()).isEqualTo(2);
        granted(slots.take(a("10.0.0.1")));
        assertThat(slots.take(a("10.0.0.1"))).isInstanceOf(TransferSlots.Busy.class);
    }

    @Test
    void theTotalCapsAllAddressesTogether() throws Exception {
        TransferSlots slots = new TransferSlots(4, 3);
        List<TransferSlots.Slot> held = new ArrayList<>();
        for (int i = 1; i <= 3; i++) held.add(granted(slots.take(a("10.0.0." + i))));
        assertThat(slots.take(a("10.0.0.9"))).isInstanceOfSatisfying(TransferSlots.Busy.class,
                b -> assertThat(b.reason()).contains("http.maxTransfers"));
        held.forEach(TransferSlots.Slot::close);
        assertThat(slots.active()).isZero();
        assertThat(slots.clients()).isZero(); // the table forgets addresses with nothing running
        granted(slots.take(a("10.0.0.9")));
    }

    @Test
    void aFloodIsReportedOncePerEpisode() throws Exception {
        TransferSlots slots = new TransferSlots(1, 100);
        TransferSlots.Slot slot = granted(slots.take(a("10.0.0.1")));
        assertThat(((TransferSlots.Busy) slots.take(a("10.0.0.1"))).firstTime()).isTrue();
        assertThat(((TransferSlots.Busy) slots.take(a("10.0.0.1"))).firstTime()).isFalse();
        slot.close();
        granted(slots.take(a("10.0.0.1")));
        assertThat(((TransferSlots.Busy) slots.take(a("10.0.0.1"))).firstTime()).isTrue();
    }

    @Test
    void capsBelowOneAreConfigErrorsNamingTheKey() {
        assertThatThrownBy(() -> new TransferSlots(0, 10)).hasMessageContaining("http.maxTransfersPerClient");
        assertThatThrownBy(() -> new TransferSlots(4, 0)).hasMessageContaining("http.maxTransfers must");
    }
}
