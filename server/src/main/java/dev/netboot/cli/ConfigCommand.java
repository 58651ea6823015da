package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

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

        @Override
        public Integer call() throws ConfigLoader.ConfigException {
            System.out.print(ConfigLoader.toYaml(configOptions.load()));
            return 0;
        }
    }
}
