package dev.netboot.web.admin;

/** One imported image on the images page. */
public record ImageRow(String name, String kernelVersion, String size, String description, String source, String created, int clients) {}
