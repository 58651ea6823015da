package dev.netboot.web.admin;

import java.io.IOException;
import java.util.OptionalLong;

/**
 * {@code netboot client install MAC --installer NAME [--size N]} for the pages: the same service method
 * ({@code boot.installer.ClientInstalls}), handed in by the appliance. Returns the AoE address the
 * installer will see; a refusal is an {@link IllegalArgumentException} with the reason.
 */
@FunctionalInterface
public interface ClientInstall {

    String install(String mac, String installer, OptionalLong sizeBytes) throws IOException;

    ClientInstall NONE = (mac, installer, size) -> {
        throw new IllegalStateException("installer mode is not available in this server");
    };
}
