package dev.netboot.web.admin;

import java.util.List;

/**
 * One power-on of a client on its page (a {@code boot.BootTimeline} in words): its steps in order.
 *
 * @param outcome "reached its disk" or how far the server saw it get
 */
public record BootRun(String started, String took, String outcome, List<BootRow> steps) {}
