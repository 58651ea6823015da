package dev.netboot.web.admin;

/**
 * How a background flatten of one client's disk is going, for its page.
 *
 * @param percent 0-100, or -1 while the total is not known
 * @param error   why it failed, "" when it did not
 */
public record FlattenStatus(String mac, boolean running, String phase, int percent, String progress, String started, String error) {

    public boolean failed() { return !error.isEmpty(); }
}
