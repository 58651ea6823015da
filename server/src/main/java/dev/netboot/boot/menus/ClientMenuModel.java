package dev.netboot.boot.menus;

import dev.netboot.boot.ClientBoot;
import dev.netboot.files.FileRequest;

import java.util.HashMap;
import java.util.Map;

/**
 * The values one client's menu is rendered with, from what {@code boot.Booter} decided: menus render,
 * they decide nothing. Paths are relative to the boot-file root, where the image's kernel and initrd are
 * served ({@code boot.ImageFile}).
 *
 * @param boot         what the client boots, or what it waits for
 * @param kernelArgs   the operator's extra command line ({@code menus.kernelArgs}), already part of the command line
 * @param retrySeconds how long a waiting client waits before asking again
 * @param adminUrl     the web admin as this client can reach it, for the "no image yet" message; "" without one
 * @param kernelSigned false when the image's kernel is known to carry no Secure Boot signature
 * @param bootUrl      this server's boot files over HTTP as the PC reaches them ({@code http://server:port/boot/}),
 *                     for loaders that fetch the kernel and initrd that way ({@link HttpBootLink}); "" for TFTP paths
 */
public record ClientMenuModel(ClientBoot boot, String kernelArgs, int retrySeconds, String adminUrl, boolean kernelSigned, String bootUrl) {

    public ClientMenuModel(ClientBoot boot, String kernelArgs, int retrySeconds, String adminUrl) {
        this(boot, kernelArgs, retrySeconds, adminUrl, true);
    }

    public ClientMenuModel(ClientBoot boot, String kernelArgs, int retrySeconds, String adminUrl, boolean kernelSigned) {
        this(boot, kernelArgs, retrySeconds, adminUrl, kernelSigned, "");
    }

    /**
     * Where HTTP serves the boot root. Only for operators' own templates written before the packaged
     * ones used relative paths: a relative path works over TFTP and HTTP alike, this one over HTTP only.
     */
    public static final String HTTP_PREFIX = FileRequest.HTTP_PREFIX;

    public Map<String, Object> toMap() {
        Map<String, Object> m = new HashMap<>();
        m.put("mac", boot.mac());
        m.put("macHyphen", boot.mac().replace(':', '-'));
        m.put("assigned", !boot.isWaiting());
        m.put("waitingFor", boot.waitingFor());
        m.put("retrySeconds", retrySeconds);
        m.put("httpPrefix", HTTP_PREFIX);
        m.put("kernelArgs", kernelArgs);
        m.put("adminUrl", adminUrl);
        m.put("kernelSigned", kernelSigned);
        m.put("bootUrl", bootUrl);
        // GRUB names an HTTP server as a device, (http,HOST:PORT), and the path under it separately.
        java.net.URI u = bootUrl.isEmpty() ? null : java.net.URI.create(bootUrl);
        m.put("bootHttpServer", u == null ? "" : u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : ""));
        m.put("bootHttpPath", u == null ? "" : u.getPath());
        m.put("image", boot.boots().map(ClientBoot.Boots::image).orElse(""));
        m.put("kernel", boot.boots().map(b -> b.kernelPath(boot.mac())).orElse(""));
        m.put("initrd", boot.boots().map(b -> b.initrdPath(boot.mac())).orElse(""));
        m.put("installer", boot.boots().map(ClientBoot.Boots::installer).orElse(""));
        m.put("aoe", boot.boots().map(ClientBoot.Boots::aoeAddress).orElse(""));
        m.put("aoeDevice", boot.boots().map(ClientBoot.Boots::aoeDevice).orElse(""));
        m.put("cmdline", boot.boots().map(ClientBoot.Boots::cmdline).orElse(""));
        return m;
    }
}
