package dev.netboot.web.admin;

import java.util.List;

/** The view-model of each admin page: what its template may show, nothing to compute. */
public final class Pages {

    private Pages() {}

    /** @param waiting PCs waiting for an image right now (also marked in {@code clients} when the inventory knows them) */
    public record Clients(List<ClientRow> clients, List<WaitingRow> waiting, String message, int page, int pages) {
        public Clients(List<ClientRow> clients, List<WaitingRow> waiting, String message) {
            this(clients, waiting, message, 1, 1);
        }
    }

    /**
     * @param flatten the running or last flatten, null when there was none
     * @param refreshSeconds the page reloads itself while a flatten runs (no JavaScript); 0 = never
     * @param busy     a flatten runs: no form is offered until it is done (the server would refuse it)
     * @param boots    its last boot steps, newest first (flat)
     * @param timeline its last boots, newest first, each with its steps in order; the page reloads itself while one goes on
     */
    public record Client(ClientRow client, List<String> images, String selectedImage, boolean replace, boolean hasDisk, boolean canFlatten,
                         FlattenStatus flatten, List<BootRow> boots, String message, String error, int refreshSeconds, boolean busy,
                         List<BootRun> timeline, boolean booting) {}

    public record Clone(List<String> images, String mac, String image, boolean replace, String message, String error) {}

    public record Images(List<ImageRow> images) {}

    public record Disks(List<DiskRow> disks, String catalog) {}

    /** A page that only says what went wrong (no such client, a form without its token, ...). */
    public record Problem(int status, String title, String text) {}
}
