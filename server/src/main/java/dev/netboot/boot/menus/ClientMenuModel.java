package dev.netboot.boot.menus;

import dev.netboot.inventory.Assignment;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The values one client's menu is rendered with. Paths are relative to the boot-file root, where
 * the image's kernel and initrd are served ({@code images/<name>/vmlinuz}, {@code images/<name>/initrd.img}).
 * The kernel command line tells the initrd which NIC to raise ({@code netboot.mac}) and which AoE
 * disk to wait for ({@code netboot.aoe=shelf.slot}).
 *
 * @param mac          the client's MAC (colon form), or "" for a default menu
 * @param assignment   its image and disk, if any; without one the menu waits and asks again
 * @param kernelArgs   the operator's extra command line ({@code menus.kernelArgs})
 * @param retrySeconds how long an unassigned client waits before asking again
 * @param adminUrl     the web admin as this client can reach it, for the "no image yet" message; "" without one
 */
public record ClientMenuModel(String mac, Optional<Assignment> assignment, String kernelArgs, int retrySeconds, String adminUrl) {

    /**
     * Where HTTP serves the boot root. Only for operators' own templates written before the packaged
     * ones used relative paths: a relative path works over TFTP and HTTP alike, this one over HTTP only.
     */
    public static final String HTTP_PREFIX = "/boot/";

    public Map<String, Object> toMap() {
        Map<String, Object> m = new HashMap<>();
        m.put("mac", mac);
        m.put("macHyphen", mac.replace(':', '-'));
        m.put("assigned", assignment.isPresent());
        m.put("retrySeconds", retrySeconds);
        m.put("httpPrefix", HTTP_PREFIX);
        m.put("kernelArgs", kernelArgs);
        m.put("adminUrl", adminUrl);
        m.put("image", assignment.map(Assignment::imageName).orElse(""));
        m.put("kernel", assignment.map(a -> "images/" + a.imageName() + "/vmlinuz").orElse(""));
        m.put("initrd", assignment.map(a -> "images/" + a.imageName() + "/initrd.img").orElse(""));
        m.put("aoe", assignment.map(Assignment::aoeAddress).orElse(""));
        m.put("aoeDevice", assignment.map(a -> "/dev/etherd/e" + a.aoeAddress()).orElse(""));
        m.put("cmdline", assignment.map(a -> cmdline(a)).orElse(""));
        return m;
    }

    private String cmdline(Assignment a) {
        String base = "netboot.mac=" + mac + " netboot.aoe=" + a.aoeAddress() + " rw";
        return kernelArgs.isBlank() ? base : base + " " + kernelArgs.trim();
    }
}
