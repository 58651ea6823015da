package dev.netboot.cli;

import dev.netboot.boot.menus.AdminLink;
import dev.netboot.boot.menus.MenuFileProvider;
import dev.netboot.boot.menus.WaitingClients;
import dev.netboot.boot.menus.MenuKind;
import dev.netboot.boot.menus.MenuRequest;
import dev.netboot.templates.Templates;
import dev.netboot.app.Services;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.files.Lookup;
import dev.netboot.files.ServedFile;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Shows the menu a client would get, rendered exactly as the server would: for operators editing pxe-menus/. */
@Command(name = "menu", mixinStandardHelpOptions = true,
        description = "Print the boot menu a client gets (rendered from pxe-menus/ and the inventory), or why it gets none.")
final class MenuCommand implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;
    @Parameters(paramLabel = "MAC", description = "The client; 'default' for the menu of a client whose MAC the loader did not send")
    String mac;
    @Option(names = "--loader", description = "pxelinux, grub or ipxe (default: ${DEFAULT-VALUE})") String loader = "pxelinux";

    @Override
    public Integer call() throws IOException, ConfigLoader.ConfigException {
        MenuKind kind = switch (loader) {
            case "pxelinux" -> MenuKind.PXELINUX;
            case "grub" -> MenuKind.GRUB;
            case "ipxe" -> mac.equals("default") ? MenuKind.IPXE_CHAIN : MenuKind.IPXE;
            default -> null;
        };
        if (kind == null) {
            System.err.println("netboot: --loader must be pxelinux, grub or ipxe, not '" + loader + "'");
            return 2;
        }
        NetbootConfig config = configOptions.load();
        try (Services services = new Services(config, java.time.Clock.systemUTC())) {
            String client = mac.equals("default") ? null : Inventory.normalizeMac(mac);
            // The web admin's address as the PC would see it; the server fills in its address on the PC's network.
            NetbootConfig.Http h = config.http();
            String host = h.address().isBlank() || h.address().equals("0.0.0.0") ? "SERVER-ADDRESS" : h.address();
            AdminLink admin = h.enabled() ? pc -> "http://" + host + ":" + h.port() + "/admin/" : AdminLink.NONE;
            dev.netboot.boot.menus.HttpBootLink httpBoot = h.enabled() ? (k, pc) -> "http://" + host + ":" + h.port() + dev.netboot.files.FileRequest.HTTP_PREFIX
                    : dev.netboot.boot.menus.HttpBootLink.NONE;
            MenuFileProvider menus = services.menus(admin, httpBoot, WaitingClients.forRetry(services.clock(), config.menus().retrySeconds()));
            switch (menus.render(new MenuRequest(kind, client), kind.template())) {
                case Lookup.Found found -> {
                    try (ServedFile file = found.file()) {
                        ByteBuffer bytes = ByteBuffer.allocate((int) file.size());
                        file.read(0, bytes);
                        System.out.print(new String(bytes.array(), StandardCharsets.UTF_8));
                    }
                    return 0;
                }
                case Lookup.NotFound n -> {
                    System.err.println("netboot: " + n.reason());
                    return 1;
                }
                case Lookup.Refused r -> {
                    System.err.println("netboot: " + r.reason());
                    return 1;
                }
            }
        } catch (IllegalArgumentException | InventoryException e) {
            System.err.println("netboot: " + e.getMessage());
            return 1;
        }
    }
}
