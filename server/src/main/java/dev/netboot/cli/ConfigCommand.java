package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Inspect the configuration.",
        subcommands = {ConfigCommand.Show.class})
final class ConfigCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot config show'.");
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Print the effective configuration, every default included, as YAML (usable as a config file).")
    static final class Show implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        @Option(names = "--show-secrets", description = "Print passwords as they are (by default a password that is set shows as "
                + ConfigLoader.HIDDEN + ").")
        boolean showSecrets;

        @Override
        public Integer call() throws ConfigLoader.ConfigException {
            NetbootConfig config = configOptions.load();
            System.out.print(showSecrets ? ConfigLoader.toYaml(config) : ConfigLoader.toYamlHidingSecrets(config));
            return 0;
        }
    }
}
