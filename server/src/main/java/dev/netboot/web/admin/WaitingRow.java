package dev.netboot.web.admin;

/**
 * A PC waiting for an image right now, as the clients page lists it.
 *
 * @param secondsAgo when it last asked for its menu
 * @param link       its client page, or the clone page with its MAC filled in when the inventory does not know it
 */
public record WaitingRow(String mac, long secondsAgo, String link) {}
