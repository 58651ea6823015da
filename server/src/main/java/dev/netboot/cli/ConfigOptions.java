package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The options every command that reads the configuration shares. */
final class ConfigOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (default: " + "/etc/netboot/netboot.yaml" + " if it exists, else built-in defaults)")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one setting, e.g. --set tftp.port=6969 --set files.root=/srv/boot (repeatable)")
    List<String> overrides = new ArrayList<>();

    NetbootConfig load() throws ConfigLoader.ConfigException {
        return ConfigLoader.load(Optional.ofNullable(file), overrides);
    }
}
