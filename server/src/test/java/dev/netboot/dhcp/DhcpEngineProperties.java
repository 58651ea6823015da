package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.boot.BootFiles;
import dev.netboot.boot.RuleBootPolicy;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random conversations of many clients with one engine over a tiny pool, across restarts: whatever
 * the order of DISCOVER, REQUEST, renewals, reboots, DECLINE, RELEASE and time passing, no two
 * clients ever hold an unexpired ACK for the same address, and every ACKed address is in the pool.
 */
class DhcpEngineProperties {

    static final Ipv4 LOCAL = Ipv4.parse("10.0.0.1");
    static final Pool POOL = new Pool(Ipv4.parse("10.0.0.0"), 24, Ipv4.parse("10.0.0.10"), Ipv4.parse("10.0.0.14"),
            Ipv4.ANY, List.of(), "", 600);

    record Step(int client, int action, int arg) {}

    @Provide
    Arbitrary<List<Step>> conversations() {
        return Arbitraries.integers().between(0, 7).flatMap(c -> Arbitraries.integers().between(0, 8)
                        .flatMap(a -> Arbitraries.integers().between(0, 900).map(x -> new Step(c, a, x))))
                .list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 300)
    void noAddressIsEverHeldByTwoClients(@ForAll("conversations") List<Step> steps) {
        DhcpEngineTest.MemoryStore store = new DhcpEngineTest.MemoryStore();
        Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
        DhcpEngine[] engine = {newEngine(store)};
        Map<Integer, Ipv4> held = new HashMap<>();
        Map<Integer, Instant> until = new HashMap<>();
        for (Step s : steps) {
            Bytes mac = Bytes.of((byte) 2, (byte) 0, (byte) 0, (byte) 0, (byte) 0, (byte) s.client());
            Ipv4 mine = held.get(s.client());
            DhcpMessage request = switch (s.action()) {
                case 0, 1 -> DhcpEngineTest.msg(MessageType.DISCOVER, mac);
                case 2 -> { // SELECTING: request what the server offers right now
                    DhcpResult offer = engine[0].handle(in(DhcpEngineTest.msg(MessageType.DISCOVER, mac)), now[0]);
                    store.carryOut(offer.effects());
                    Outcome o = offer.outcome();
                    if (!(o instanceof Outcome.Reply r)) yield null;
                    Ipv4 offered = r.outbound().message().yiaddr();
                    yield DhcpEngineTest.msg(MessageType.REQUEST, mac, b -> b.address(OptionCode.SERVER_ID, LOCAL)
                            .address(OptionCode.REQUESTED_ADDRESS, offered));
                }
                case 3 -> mine == null ? null : DhcpEngineTest.msg(MessageType.REQUEST, mac).withCiaddr(mine);          // renew
                case 4 -> DhcpEngineTest.msg(MessageType.REQUEST, mac, b -> b.address(OptionCode.REQUESTED_ADDRESS,    // reboot
                        POOL.first().plus(s.arg() % 7)));
                case 5 -> mine == null ? null : DhcpEngineTest.msg(MessageType.DECLINE, mac, b -> b.address(OptionCode.SERVER_ID, LOCAL)
                        .address(OptionCode.REQUESTED_ADDRESS, mine));
                case 6 -> mine == null ? null : DhcpEngineTest.msg(MessageType.RELEASE, mac).withCiaddr(mine);
                case 7 -> {
                    now[0] = now[0].plusSeconds(s.arg());
                    store.carryOut(engine[0].expire(now[0]));
                    yield null;
                }
                default -> {
                    engine[0] = newEngine(store); // a restart: only what the store kept survives
                    yield null;
                }
            };
            if (request == null) continue;
            if (request.type() == MessageType.DECLINE || request.type() == MessageType.RELEASE) {
                held.remove(s.client());
                until.remove(s.client());
            }
            DhcpResult result = engine[0].handle(in(request), now[0]);
            store.carryOut(result.effects());
            Outcome o = result.outcome();
            if (o instanceof Outcome.Reply r) {
                DhcpMessage reply = r.outbound().message();
                if (reply.type() == MessageType.ACK) {
                    assertThat(POOL.inRange(reply.yiaddr())).as("ACKed %s", reply.yiaddr()).isTrue();
                    held.put(s.client(), reply.yiaddr());
                    until.put(s.client(), now[0].plusSeconds(POOL.leaseSeconds()));
                } else if (reply.type() == MessageType.NAK) {
                    held.remove(s.client());
                    until.remove(s.client());
                }
            }
            Map<Ipv4, Integer> holders = new HashMap<>();
            for (var e : held.entrySet()) {
                if (!until.get(e.getKey()).isAfter(now[0])) continue;
                Integer other = holders.put(e.getValue(), e.getKey());
                assertThat(other).as("%s held by clients %s and %s after %s", e.getValue(), other, e.getKey(), s).isNull();
            }
        }
    }

    private static Inbound in(DhcpMessage m) { return new Inbound(m, m.ciaddr(), 68, LOCAL, false); }

    private static DhcpEngine newEngine(DhcpEngineTest.MemoryStore store) {
        return new DhcpEngine(new DhcpSettings(DhcpMode.FULL, List.of(POOL), List.of(), Ipv4.ANY, Duration.ofSeconds(30), Duration.ofMinutes(10)),
                new RuleBootPolicy(new BootFiles("", "", "", "", ""), "", mac -> Optional.empty()), store.loadAll());
    }
}
