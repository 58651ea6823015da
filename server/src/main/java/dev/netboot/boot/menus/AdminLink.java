package dev.netboot.boot.menus;

import java.net.InetSocketAddress;

/**
 * Where the person at a PC with no image is sent to assign one: the web admin, at an address that PC
 * can reach (the server's address on the PC's network), printed on the PC's console by the menus.
 */
@FunctionalInterface
public interface AdminLink {

    /** No web admin (HTTP off): the menus name the CLI instead. */
    AdminLink NONE = client -> "";

    /** @param client the PC's address, null when unknown (the CLI rendering a menu); "" when there is no web admin */
    String forClient(InetSocketAddress client);
}
