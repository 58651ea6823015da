package dev.netboot.web.admin;

/**
 * One client as the admin pages show it: every value already in words (a dash when there is none).
 *
 * @param stateNote what the state means, for the title of the state cell
 * @param disk      AoE address of its disk, "e1.0"
 * @param diskKind  clone, snapshot or standalone
 * @param waiting   the PC is at its "no image yet" screen right now, asking again and again
 */
public record ClientRow(String mac, String state, String stateNote, String hostname, String architecture, String address,
                        String lastSeen, String lastBoot, String image, String disk, String diskKind, String bootFile, String link, boolean waiting,
                        String installing) {}
