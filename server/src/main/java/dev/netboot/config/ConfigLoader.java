package dev.netboot.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Builds the effective configuration: built-in defaults, then the YAML file, then {@code --set key=value}
 * overrides (dotted paths, e.g. {@code tftp.port=6969}). Unknown keys are errors, so a typo is never
 * silently ignored. Paths left unset are derived from {@code dataDir}.
 */
public final class ConfigLoader {

    public static final Path SYSTEM_CONFIG = Path.of("/etc/netboot/netboot.yaml");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private ConfigLoader() {}

    public static NetbootConfig defaults() {
        return new NetbootConfig(
                defaultDataDir().toString(), "",
                new NetbootConfig.Files(null, false, List.of()),
                new NetbootConfig.Tftp(true, "", 69, 65464, 64, 1000, 16, 1000, 20, 8000, 30000),
                new NetbootConfig.Http(true, "", 8080, 4, 1000, 30, 0, "", ""),
                new NetbootConfig.Dhcp("proxy", 67, 4011, "", List.of(), List.of(), 30, 600, true, "arp", "auto"),
                new NetbootConfig.Boot("undionly.kpxe", "ipxe.efi", "ipxe-arm64.efi", "http://${server}:8080/boot/ipxe.efi",
                        "http://${server}:8080/boot/boot.ipxe", "auto", "/", List.of(), false),
                new NetbootConfig.Inventory("", "sa", "", 600, 30, 90),
                new NetbootConfig.Aoe(List.of(), 64, 0, true, false, 1000, List.of()),
                new NetbootConfig.Menus("pxe-menus", 10, "console=tty0 console=ttyS0,115200"),
                new NetbootConfig.Initrd("initrd-templates", "/bin/busybox"),
                new NetbootConfig.Disks("file", "", "", 1, "", 100, 30, List.of()),
                new NetbootConfig.Web("webadmin", ""),
                new NetbootConfig.Tuning(100, 0, true, false, true, 32768, 20000),
                new NetbootConfig.Installers("installers"),
                new NetbootConfig.Replication("none", "", "0.0.0.0:7789", "", "", false, 100L << 20, 1000, 3000,
                        "", "", "", "nbservice0", 250, 3, "", "", "", ""));
    }

    /** Root keeps state where services keep theirs; a user gets a directory of their own. */
    static Path defaultDataDir() {
        if ("root".equals(System.getProperty("user.name"))) return Path.of("/var/lib/netboot");
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("netboot");
    }

    /**
     * @param file      an explicit config file, or empty to use {@link #SYSTEM_CONFIG} when it exists
     * @param overrides "dotted.key=value" strings
     */
    public static NetbootConfig load(Optional<Path> file, List<String> overrides) throws ConfigException {
        ObjectNode tree = YAML.valueToTree(defaults());
        Optional<Path> source = file.or(() -> Files.isRegularFile(SYSTEM_CONFIG) ? Optional.of(SYSTEM_CONFIG) : Optional.empty());
        if (source.isPresent()) {
            try {
                JsonNode fromFile = YAML.readTree(source.get().toFile());
                if (fromFile != null && !fromFile.isMissingNode() && !fromFile.isNull()) {
                    if (!fromFile.isObject()) throw new ConfigException(source.get() + ": expected a YAML mapping at the top");
                    merge(tree, (ObjectNode) fromFile, "");
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read " + source.get() + ": " + e.getMessage());
            }
        }
        for (String override : overrides) applyOverride(tree, override);
        NetbootConfig config;
        try {
            config = YAML.treeToValue(tree, NetbootConfig.class);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            // The tree has no source locations: name the setting by its path and list what is allowed there.
            throw new ConfigException("invalid configuration: unknown setting '" + settingPath(e) + "' (allowed there: "
                    + String.join(", ", e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList())
                    + "); 'netboot config show' prints every setting");
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            throw new ConfigException("invalid configuration: " + settingPath(e) + ": " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("invalid configuration: " + e.getOriginalMessage());
        }
        for (String glob : config.files().generatedFirst()) {
            try {
                dev.netboot.files.OperatorFilesFirst.glob(glob);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("files.generatedFirst: " + e.getMessage());
            }
        }
        checkDiskInterfaces(config);
        validateReplication(config.replication());
        return withDerivedPaths(config, source);
    }

    /** The dotted path of the setting a mapping error is about, e.g. {@code dhcp.pools[0].interface}. */
    static String settingPath(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) path.append(path.isEmpty() ? "" : ".").append(r.getFieldName());
            else if (r.getIndex() >= 0) path.append('[').append(r.getIndex()).append(']');
        }
        return path.isEmpty() ? "(top)" : path.toString();
    }

    /** A disk bound only to interfaces AoE does not serve could never be reached: say so now, not by silence later. */
    private static void checkDiskInterfaces(NetbootConfig c) throws ConfigException {
        for (String i : c.disks().interfaces()) {
            try {
                dev.netboot.disks.DiskEntry.interfaceName(i);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("disks.interfaces: " + e.getMessage());
            }
        }
        List<String> served = c.aoe().interfaces();
        if (served.isEmpty()) return; // AoE is off: nothing is offered anywhere
        for (String i : c.disks().interfaces()) {
            if (!served.contains(i)) throw new ConfigException("disks.interfaces: " + i + " is not one of aoe.interfaces " + served);
        }
        for (var t : c.aoe().targets()) {
            for (String i : t.interfaces()) {
                if (!served.contains(i)) throw new ConfigException("aoe.targets: disk " + t.address() + " is bound to " + i + ", which is not one of aoe.interfaces " + served);
            }
        }
    }

    /** The replication section: a typo in a role or an address must stop the server, not leave it unreplicated. */
    static void validateReplication(NetbootConfig.Replication r) throws ConfigException {
        String role = r.role() == null ? "" : r.role().strip().toLowerCase();
        if (!List.of("none", "primary", "standby").contains(role))
            throw new ConfigException("replication.role must be none, primary or standby, got '" + r.role() + "'");
        // Empty is allowed (a first start generates the certificate and prints its fingerprint; every peer is refused until it is set).
        String pin = r.peerFingerprint().replace(":", "").strip();
        if (!pin.isEmpty() && !pin.matches("[0-9a-fA-F]{64}"))
            throw new ConfigException("replication.peerFingerprint must be the SHA-256 fingerprint of the peer's certificate (64 hex digits, colons allowed),"
                    + " as the peer's log prints it at start (\"this node's certificate has SHA-256 fingerprint ...\"); got '" + r.peerFingerprint() + "'");
        if (r.tlsCertificate().isBlank() != r.tlsKey().isBlank())
            throw new ConfigException("replication.tlsCertificate and replication.tlsKey go together (both empty: a generated self-signed certificate)");
        if (r.resyncBytesPerSecond() < 0) throw new ConfigException("replication.resyncBytesPerSecond must be 0 (unlimited) or more");
        if (r.pingMillis() < 10 || r.timeoutMillis() <= r.pingMillis())
            throw new ConfigException("replication.pingMillis must be at least 10 and replication.timeoutMillis larger than it");
        if (role.equals("none")) return;
        hostPort("replication.peer", r.peer(), false);
        hostPort("replication.listen", r.listen(), true);
        validateFailover(r);
    }

    /** The failover keys: all or nothing, so a half-configured pair never fails over into nowhere. */
    static void validateFailover(NetbootConfig.Replication r) throws ConfigException {
        if (!r.failover()) {
            if (!r.serviceIp().isBlank()) throw new ConfigException("replication.serviceIp needs replication.serviceMac (the address it lives on)");
            if (!r.witness().isBlank()) throw new ConfigException("replication.witness needs replication.serviceMac (only the automatic failover asks a witness)");
            return;
        }
        try {
            dev.netboot.net.MacAddress mac = dev.netboot.net.MacAddress.parse(r.serviceMac());
            if (mac.isGroup()) throw new ConfigException("replication.serviceMac must be a unicast address, got " + r.serviceMac());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("replication.serviceMac is not a MAC address: '" + r.serviceMac() + "'");
        }
        if (r.clientInterface().isBlank()) throw new ConfigException("replication.clientInterface is required with replication.serviceMac (the client network's interface)");
        if (r.serviceInterface().isBlank() || r.serviceInterface().length() > 15 || !r.serviceInterface().matches("[A-Za-z0-9_.-]+"))
            throw new ConfigException("replication.serviceInterface must be an interface name (at most 15 letters, digits, _ . -), got '" + r.serviceInterface() + "'");
        if (!r.serviceIp().isBlank() && !r.serviceIp().matches("[0-9A-Fa-f:.]+/\\d{1,3}"))
            throw new ConfigException("replication.serviceIp must be ADDRESS/PREFIX (e.g. 192.168.1.5/24), got '" + r.serviceIp() + "'");
        if (r.probeMillis() < 10) throw new ConfigException("replication.probeMillis must be at least 10");
        if (r.deadAfterProbes() < 1) throw new ConfigException("replication.deadAfterProbes must be at least 1");
        for (String w : r.witness().split(",")) {
            if (w.isBlank()) continue;
            try {
                java.net.InetAddress.ofLiteral(w.strip());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("replication.witness must be IP addresses separated by commas, got '" + w.strip() + "'");
            }
        }
    }

    /** HOST:PORT or [IPv6]:PORT; the host may be a name (resolved at each connection attempt). */
    public static java.net.InetSocketAddress hostPort(String key, String value, boolean anyHostAllowed) throws ConfigException {
        if (value == null || value.isBlank()) throw new ConfigException(key + " is required when replication.role is primary or standby (HOST:PORT)");
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) throw new ConfigException(key + " must be HOST:PORT, got '" + value + "'");
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": port '" + value.substring(colon + 1) + "' is not a number");
        }
        if (port < 1 || port > 65535) throw new ConfigException(key + ": port " + port + " is outside 1-65535");
        if (!anyHostAllowed && (host.equals("0.0.0.0") || host.equals("::"))) throw new ConfigException(key + ": " + host + " is not an address to connect to");
        return java.net.InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * @param source the config file read, if any: template folders given relative are relative to its folder
     *               (else to dataDir), never to wherever the server happened to be started from
     */
    private static NetbootConfig withDerivedPaths(NetbootConfig c, Optional<Path> source) {
        NetbootConfig.Files files = c.files().root() != null ? c.files()
                : new NetbootConfig.Files(Path.of(c.dataDir()).resolve("boot").toString(), c.files().leadingSlashIsRoot(), c.files().generatedFirst());
        NetbootConfig.Inventory inventory = !c.inventory().url().isBlank() ? c.inventory()
                : new NetbootConfig.Inventory(dev.netboot.inventory.Inventory.defaultUrl(c.dataDir()), c.inventory().user(), c.inventory().password(),
                        c.inventory().newClientsPerMinute(), c.inventory().keepBootEventsDays(), c.inventory().forgetDiscoveredAfterDays());
        Path base = source.map(f -> f.toAbsolutePath().getParent()).orElseGet(() -> Path.of(c.dataDir()).toAbsolutePath());
        NetbootConfig.Menus menus = new NetbootConfig.Menus(resolve(base, c.menus().dir()), c.menus().retrySeconds(), c.menus().kernelArgs());
        NetbootConfig.Initrd initrd = new NetbootConfig.Initrd(resolve(base, c.initrd().templates()), c.initrd().busybox());
        NetbootConfig.Web web = new NetbootConfig.Web(resolve(base, c.web().templates()), c.web().adminPassword());
        NetbootConfig.Installers installers = new NetbootConfig.Installers(resolve(base, c.installers().dir()));
        NetbootConfig.Replication r = c.replication();
        NetbootConfig.Replication replication = !r.secretFile().isBlank() ? r
                : new NetbootConfig.Replication(r.role(), r.peer(), r.listen(), r.secret(), Path.of(c.dataDir()).resolve("replication-secret").toString(),
                        r.tls(), r.resyncBytesPerSecond(), r.pingMillis(), r.timeoutMillis(),
                        r.serviceMac(), r.serviceIp(), r.clientInterface(), r.serviceInterface(), r.probeMillis(), r.deadAfterProbes(),
                        r.peerFingerprint(), r.tlsCertificate(), r.tlsKey(), r.witness());
        return new NetbootConfig(c.dataDir(), c.networkInterface(), files, c.tftp(), c.http(), c.dhcp(), c.boot(), inventory, c.aoe(), menus, initrd, c.disks(), web, c.tuning(), installers, replication);
    }

    private static String resolve(Path base, String folder) {
        return base.resolve(folder).normalize().toString();
    }

    private static void merge(ObjectNode into, ObjectNode from, String prefix) throws ConfigException {
        for (var it = from.properties().iterator(); it.hasNext(); ) {
            var entry = it.next();
            String key = prefix + entry.getKey();
            JsonNode existing = into.get(entry.getKey());
            if (existing == null) throw new ConfigException("unknown configuration key '" + key + "'");
            if (existing.isObject() && entry.getValue().isObject()) merge((ObjectNode) existing, (ObjectNode) entry.getValue(), key + ".");
            else into.set(entry.getKey(), entry.getValue());
        }
    }

    private static void applyOverride(ObjectNode tree, String override) throws ConfigException {
        int eq = override.indexOf('=');
        if (eq <= 0) throw new ConfigException("--set needs key=value, got '" + override + "'");
        String[] path = override.substring(0, eq).split("\\.");
        String value = override.substring(eq + 1);
        ObjectNode node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            JsonNode child = node.get(path[i]);
            if (child == null || !child.isObject()) throw new ConfigException("unknown configuration key '" + override.substring(0, eq) + "'");
            node = (ObjectNode) child;
        }
        String leaf = path[path.length - 1];
        JsonNode existing = node.get(leaf);
        if (existing == null && !node.has(leaf)) throw new ConfigException("unknown configuration key '" + override.substring(0, eq) + "'");
        if (existing != null && existing.isObject()) throw new ConfigException("'" + override.substring(0, eq) + "' is a section; set one of its keys");
        try {
            // Parse the value as YAML so numbers and booleans get their types.
            node.set(leaf, value.isEmpty() ? YAML.getNodeFactory().textNode("") : YAML.readTree(value));
        } catch (IOException e) {
            throw new ConfigException("bad value in --set " + override + ": " + e.getMessage());
        }
    }

    public static String toYaml(NetbootConfig config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the configuration holds secrets: printed as {@link #HIDDEN} unless asked for. */
    private static final List<String[]> SECRETS = List.of(
            new String[]{"inventory", "password"}, new String[]{"web", "adminPassword"}, new String[]{"replication", "secret"});
    public static final String HIDDEN = "********";

    /** As {@link #toYaml(NetbootConfig)}, with the passwords that are set shown as {@link #HIDDEN}: the output ends up in tickets and screenshots. */
    public static String toYamlHidingSecrets(NetbootConfig config) {
        try {
            ObjectNode tree = YAML.valueToTree(config);
            for (String[] path : SECRETS) {
                if (tree.get(path[0]) instanceof ObjectNode section
                        && section.hasNonNull(path[1]) && !section.get(path[1]).asText().isEmpty()) {
                    section.put(path[1], HIDDEN);
                }
            }
            return YAML.writeValueAsString(tree);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static final class ConfigException extends Exception {
        public ConfigException(String message) { super(message); }
    }
}
