package dev.netboot.dhcp;


import dev.netboot.net.Ipv4;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The DHCP server without I/O: a decoded request and the time in; the reply with its RFC 2131 §4.1
 * addressing, and the {@link DhcpEffect effects} to carry out, out (§4.3 for what to answer). One
 * method per message type and REQUEST state; who gets which address is the {@link LeaseAllocator}'s
 * business, what the answer looks like is {@link Replies}'.
 *
 * <p>In {@link DhcpMode#PROXY} it answers network-boot clients only, with boot information and
 * never an address (PXE 2.1 proxyDHCP, on port 67 and the boot-server port 4011).
 */
public final class DhcpEngine {

    public static final String PXE_CLIENT = Replies.PXE_CLIENT;
    public static final String HTTP_CLIENT = Replies.HTTP_CLIENT;

    private final DhcpSettings settings;
    private final BootPolicy policy;
    private final LeaseAllocator allocator;
    private final Replies replies;

    /** @param persisted the leases the store kept (bound, free, declined), so clients keep their addresses across a restart */
    public DhcpEngine(DhcpSettings settings, BootPolicy policy, Collection<Lease> persisted) {
        this.settings = settings;
        this.policy = policy;
        this.allocator = new LeaseAllocator(settings, persisted);
        this.replies = new Replies(settings);
    }

    public DhcpSettings settings() { return settings; }

    public synchronized List<Lease> leases() { return allocator.leases(); }

    /** Bound and declined leases that ran out become free (remembered for their client): one {@link DhcpEffect.SaveLease} each. */
    public synchronized List<DhcpEffect> expire(Instant now) {
        allocator.expire(now);
        return saves();
    }

    public synchronized DhcpResult handle(Inbound in, Instant now) {
        List<DhcpEffect> events = new ArrayList<>();
        Outcome outcome = answer(in, now, events);
        // Lease changes first. Should a bug throw above, they stay queued and go with the next result.
        List<DhcpEffect> effects = saves();
        if (!events.isEmpty()) {
            effects = new ArrayList<>(effects);
            effects.addAll(events);
        }
        return new DhcpResult(outcome, effects);
    }

    private List<DhcpEffect> saves() {
        return allocator.takeChanges().stream().<DhcpEffect>map(DhcpEffect.SaveLease::new).toList();
    }

    /** One request's context; {@code events} collects what the inventory should hear. */
    private record Call(DhcpMessage m, Inbound in, MessageType type, Machine machine, LeaseAllocator.Client client,
                        Instant now, List<DhcpEffect> events) {
        Ipv4 local() { return in.local(); }

        Optional<Ipv4> option(int code) { return m.options().address(code); }
    }

    private Outcome answer(Inbound in, Instant now, List<DhcpEffect> events) {
        DhcpMessage m = in.message();
        if (m.op() != DhcpMessage.BOOTREQUEST) return drop("not-a-request");
        MessageType type = m.type();
        if (type == null) return drop("no-message-type");
        Machine machine = machine(m);
        Call c = new Call(m, in, type, machine, new LeaseAllocator.Client(clientKey(m), machine.mac(), machine.hostname()), now, events);
        if (in.bootServer()) return bootServer(c);
        return switch (settings.mode()) {
            case OFF -> drop("mode-off");
            case PROXY -> proxy(c);
            case FULL -> full(c);
        };
    }

    // ---- full DHCP --------------------------------------------------------------------------

    private Outcome full(Call c) {
        Ipv4 link = c.m().giaddr().isAny() ? c.local() : c.m().giaddr();
        int poolIndex = poolIndex(link);
        if (poolIndex < 0) return drop("no-pool-for-link");
        Pool pool = settings.pools().get(poolIndex);
        return switch (c.type()) {
            case DISCOVER -> discover(c, poolIndex, pool);
            case REQUEST -> request(c, pool);
            case DECLINE -> decline(c);
            case RELEASE -> release(c);
            case INFORM -> inform(c, pool);
            default -> drop("unexpected-" + c.type().name().toLowerCase());
        };
    }

    private Outcome discover(Call c, int poolIndex, Pool pool) {
        if (c.machine().isNetworkBoot()) c.events().add(new DhcpEffect.ClientSeen(c.machine(), c.now()));
        Ipv4 address = allocator.choose(poolIndex, c.client(), c.option(OptionCode.REQUESTED_ADDRESS).orElse(null), c.local(), c.now());
        if (address == null) return drop("pool-exhausted");
        allocator.offer(address, c.client(), c.now());
        return new Outcome.Reply(addressReply(c, MessageType.OFFER, address, pool));
    }

    /** RFC 2131 §4.3.2: the client's state shows in the server identifier and ciaddr. */
    private Outcome request(Call c, Pool pool) {
        Optional<Ipv4> serverId = c.option(OptionCode.SERVER_ID);
        if (serverId.isPresent()) return selecting(c, pool, serverId.get());
        if (c.m().ciaddr().isAny()) return initReboot(c, pool);
        return renewingOrRebinding(c, pool);
    }

    /** SELECTING: the client answers an offer, ours or another server's. */
    private Outcome selecting(Call c, Pool pool, Ipv4 serverId) {
        if (!serverId.equals(c.local())) {
            allocator.withdrawOffer(c.client());
            return drop("client-chose-other-server");
        }
        Ipv4 requested = c.option(OptionCode.REQUESTED_ADDRESS).orElse(c.m().ciaddr());
        Lease lease = allocator.of(c.client());
        if (lease == null || !lease.address().equals(requested)
                || (lease.state() != Lease.State.OFFERED && lease.state() != Lease.State.BOUND)) {
            return nak(c, "requested address was not offered to this client");
        }
        return bind(c, requested, pool);
    }

    /** INIT-REBOOT: a rebooted client asks (option 50, ciaddr 0) to keep the address it had. */
    private Outcome initReboot(Call c, Pool pool) {
        Optional<Ipv4> requested = c.option(OptionCode.REQUESTED_ADDRESS);
        if (requested.isEmpty()) return drop("request-without-address");
        return confirm(c, pool, requested.get(), true);
    }

    /** RENEWING (unicast) and REBINDING (broadcast) look the same here: ciaddr is the address to extend. */
    private Outcome renewingOrRebinding(Call c, Pool pool) {
        return confirm(c, pool, c.m().ciaddr(), false);
    }

    /**
     * An address the client says it has. A free address of ours is granted to a client we know, and
     * on renewal to any client (authoritative, like dnsmasq): a client keeps its address
     * when a crash lost its lease record.
     */
    private Outcome confirm(Call c, Pool pool, Ipv4 requested, boolean initReboot) {
        if (!pool.inSubnet(requested)) return nak(c, "wrong network");
        Lease existing = allocator.at(requested);
        boolean mine = existing != null && existing.clientKey().equals(c.client().key());
        if (existing != null && !mine && existing.isActive(c.now())) return nak(c, "address belongs to another client");
        Reservation r = allocator.reservation(c.machine().mac());
        if (r != null && !r.address().equals(requested)) return nak(c, "client has a reserved address");
        if (!mine && r == null && allocator.isReserved(requested)) return nak(c, "address is reserved for another client");
        if (mine && existing.state() == Lease.State.DECLINED) return nak(c, "address was declined");
        if (!mine && !pool.inRange(requested) && r == null) return drop("unknown-address-outside-pool");
        // §4.3.2: "If the DHCP server has no record of this client, then it MUST remain silent". Binding
        // instead let one packet per made-up MAC take an address for a lease time (49 took a pool for
        // an hour). A real client without a record (lost in a crash) goes back to DISCOVER after its
        // timeout and is offered the address it asks for, if that is still free.
        if (initReboot && !mine && !allocator.knows(c.client())) return drop("init-reboot-unknown-client");
        return bind(c, requested, pool);
    }

    private Outcome bind(Call c, Ipv4 address, Pool pool) {
        Lease bound = allocator.bind(address, c.client(), pool, c.now());
        Outbound ack = addressReply(c, MessageType.ACK, address, pool);
        if (c.machine().isNetworkBoot()) {
            BootPlan given = new BootPlan(ack.message().options().text(OptionCode.BOOTFILE).orElse(""), "");
            c.events().add(new DhcpEffect.Booted(c.machine(), given, bound.address(), c.now()));
        }
        return new Outcome.Reply(ack);
    }

    /** The client found the address in use (ARP): quarantined, so nobody gets it for a while. */
    private Outcome decline(Call c) {
        Optional<Ipv4> serverId = c.option(OptionCode.SERVER_ID);
        if (serverId.isPresent() && !serverId.get().equals(c.local())) return drop("decline-for-other-server");
        Optional<Ipv4> address = c.option(OptionCode.REQUESTED_ADDRESS);
        if (address.isEmpty()) return drop("decline-without-address");
        return drop(allocator.decline(address.get(), c.client(), c.now()) ? "declined" : "decline-of-unknown-lease");
    }

    private Outcome release(Call c) {
        return drop(allocator.release(c.m().ciaddr(), c.client(), c.now()) ? "released" : "release-of-unknown-lease");
    }

    /** A client with an address asks for options only (and, network booting, its boot file). */
    private Outcome inform(Call c, Pool pool) {
        DhcpOptions.Builder b = replies.subnetOptions(pool);
        BootPlan plan = bootOptions(c, b);
        return new Outcome.Reply(replies.reply(c.m(), MessageType.ACK, Ipv4.ANY, c.local(), b, plan));
    }

    private Outbound addressReply(Call c, MessageType type, Ipv4 address, Pool pool) {
        DhcpOptions.Builder b = replies.leaseOptions(pool, allocator.reservation(c.machine().mac()));
        BootPlan plan = bootOptions(c, b);
        return replies.reply(c.m(), type, address, c.local(), b, plan);
    }

    /** Full mode: adds the boot file for a network-boot client; returns its plan ({@link BootPlan#NONE} for others). */
    private BootPlan bootOptions(Call c, DhcpOptions.Builder b) {
        if (!c.machine().isNetworkBoot()) return BootPlan.NONE;
        BootPlan plan = planFor(c.machine(), c.local());
        replies.addBootOptions(b, c.machine(), plan, c.local());
        return plan;
    }

    private int poolIndex(Ipv4 link) {
        List<Pool> pools = settings.pools();
        for (int i = 0; i < pools.size(); i++) if (pools.get(i).inSubnet(link)) return i;
        return -1;
    }

    // ---- proxyDHCP --------------------------------------------------------------------------

    private Outcome proxy(Call c) {
        if (!isPxe(c.machine())) return drop("not-pxe");
        return switch (c.type()) {
            case DISCOVER -> proxyDiscover(c);
            case REQUEST -> proxyRequest(c);
            default -> drop("proxy-ignores-" + c.type().name().toLowerCase());
        };
    }

    private Outcome proxyDiscover(Call c) {
        c.events().add(new DhcpEffect.ClientSeen(c.machine(), c.now()));
        BootPlan plan = planFor(c.machine(), c.local());
        if (plan.isNone()) return drop("no-boot-file");
        // iPXE takes the boot file from this offer and never asks again on 4011, so the
        // offer is the moment the boot decision is made.
        c.events().add(new DhcpEffect.Booted(c.machine(), plan, Ipv4.ANY, c.now()));
        return new Outcome.Reply(replies.reply(c.m(), MessageType.OFFER, Ipv4.ANY, c.local(), replies.proxyBootOptions(c.machine()), plan));
    }

    /** Some ROMs send their proxy REQUEST to port 67; answer it only when it names us. */
    private Outcome proxyRequest(Call c) {
        Optional<Ipv4> serverId = c.option(OptionCode.SERVER_ID);
        if (serverId.isEmpty() || !serverId.get().equals(c.local())) return drop("request-for-other-server");
        BootPlan plan = planFor(c.machine(), c.local());
        if (plan.isNone()) return drop("no-boot-file");
        c.events().add(new DhcpEffect.Booted(c.machine(), plan, c.m().ciaddr(), c.now()));
        return new Outcome.Reply(replies.reply(c.m(), MessageType.ACK, Ipv4.ANY, c.local(), replies.proxyBootOptions(c.machine()), plan));
    }

    /** Port 4011: the client has its address and asks us, by unicast, for the boot file. */
    private Outcome bootServer(Call c) {
        if (settings.mode() == DhcpMode.OFF) return drop("mode-off");
        if (c.type() != MessageType.REQUEST && c.type() != MessageType.INFORM) return drop("boot-server-ignores-" + c.type().name().toLowerCase());
        if (!isPxe(c.machine())) return drop("not-pxe");
        DhcpMessage m = c.m();
        BootPlan plan = planFor(c.machine(), c.local());
        if (plan.isNone()) return drop("no-boot-file");
        c.events().add(new DhcpEffect.ClientSeen(c.machine(), c.now()));
        c.events().add(new DhcpEffect.Booted(c.machine(), plan, m.ciaddr(), c.now()));
        DhcpMessage ack = replies.build(m, MessageType.ACK, Ipv4.ANY, c.local(), replies.proxyBootOptions(c.machine()), plan, m.ciaddr());
        Ipv4 to = !c.in().source().isAny() ? c.in().source() : m.ciaddr();
        if (to.isAny()) return drop("boot-server-request-without-address");
        return new Outcome.Reply(new Outbound(ack, to, c.in().sourcePort(), Outbound.Delivery.UNICAST));
    }

    // ---- the client -------------------------------------------------------------------------

    /** Asks the policy; "${server}" in a URL becomes the address the client reached us at. */
    private BootPlan planFor(Machine machine, Ipv4 local) {
        BootPlan plan = policy.planFor(machine);
        if (!plan.bootFile().contains("${server}")) return plan;
        return new BootPlan(plan.bootFile().replace("${server}", local.toString()), plan.nextServer());
    }

    private static boolean isPxe(Machine m) {
        return m.vendorClass().startsWith(PXE_CLIENT) || m.vendorClass().startsWith(HTTP_CLIENT) || m.isIpxe();
    }

    static String clientKey(DhcpMessage m) {
        return m.options().get(OptionCode.CLIENT_ID).map(id -> "id:" + id.toHex()).orElseGet(() -> "hw:" + m.chaddr().toHex());
    }

    /** What the request says about the client, for the boot policy and the inventory. */
    public static Machine machine(DhcpMessage m) {
        DhcpOptions o = m.options();
        String vendor = o.text(OptionCode.VENDOR_CLASS).orElse("");
        int archCode = o.clientArch().orElse(-1);
        if (archCode < 0 && vendor.startsWith("PXEClient:Arch:") && vendor.length() >= 20) {
            // Pre-RFC 4578 ROMs put the architecture only in the vendor class: PXEClient:Arch:00007:UNDI:...
            try {
                archCode = Integer.parseInt(vendor.substring(15, 20));
            } catch (NumberFormatException ignored) {
                archCode = -1;
            }
        }
        ClientArch arch = archCode >= 0 ? ClientArch.of(archCode) : (vendor.startsWith(PXE_CLIENT) ? ClientArch.BIOS : ClientArch.UNKNOWN);
        return new Machine(m.clientMac(), arch, archCode, o.userClasses(), o.clientUuid().orElse(null), printable(vendor, 255),
                printable(o.text(OptionCode.HOSTNAME).orElse(""), 253));
    }

    /**
     * Client-chosen text goes into logs and the database: printable ASCII only, and no longer than a
     * column holds, so one odd client cannot spoil a batch of lease writes or a log line.
     */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) b.append(c);
        }
        return b.toString();
    }

    private Outcome nak(Call c, String why) { return new Outcome.Reply(replies.nak(c.m(), c.local(), why)); }

    private static Outcome drop(String reason) { return new Outcome.Drop(reason); }
}
