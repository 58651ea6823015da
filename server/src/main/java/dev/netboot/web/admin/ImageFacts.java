package dev.netboot.web.admin;

import java.time.Instant;

/** One image as values (the JSON API's image); {@link ImageRow} is the same in words. @param clients how many clients are assigned it */
public record ImageFacts(String name, String kernelVersion, long sizeBytes, String description, String source, Instant created, int clients) {}
